"""Running approvals: start a template for a subject, decide its open step, resume it after a
return, reassign a step, cancel the run. The flow (``workflow.flows.ApprovalFlow``) moves; these
functions are the only writers of its rows.

The subject's own meaning (who holds a step, which optional steps apply) comes from an adapter
named by ``settings.WORKFLOW_SUBJECT``, so this package imports nothing of the domain. The adapter
is a class with:

- ``assign(process, step, day) -> StepAssignment``: who holds ``step`` on ``day``; raises a
  ``WorkflowError`` (with ``unit_id``/``unit_label`` if known) when nobody does;
- ``flags(process) -> set[str]``: the marks of the case that optional steps ask for
  (``TemplateStep.condition``);
- for council sessions, the methods of ``workflow.voting.VotingSubject``.

Locking: every write runs under ``approval_lock(process_pk)`` (a row lock on the process), and the
caller's transaction; entry points (views, tasks, commands) open it, these functions never open a
durable one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Prefetch, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.status import STATUS

from workflow import calendar
from workflow.errors import ActionNotAllowed, StepBusy, StepClosed, WorkflowError
from workflow.models import (
    ApprovalCandidate,
    ApprovalProcess,
    ApprovalTask,
    ApproverRule,
    StepAction,
    StepKind,
    TemplateStep,
    TemplateVersion,
)
from workflow.process_templates import step_at, version_steps


@dataclass
class StepAssignment:
    """Who holds a step: one user, or a group any of whom may act (the first is shown first)."""

    users: list = field(default_factory=list)
    unit_id: int | None = None
    unit_label: str = ""
    on_behalf_of: object | None = None
    note: str = ""


@cache
def subject_adapter():
    return import_string(settings.WORKFLOW_SUBJECT)()


def _flow():
    from workflow.flows import ApprovalFlow

    return ApprovalFlow


# --- called by the flow's nodes ------------------------------------------------------------------


def resolve_assignment(process: ApprovalProcess, step: TemplateStep) -> StepAssignment:
    """Ask the adapter; nobody found leaves the task open and unassigned, to be reassigned, with why."""
    try:
        return subject_adapter().assign(process=process, step=step, day=timezone.localdate())
    except WorkflowError as exc:
        return StepAssignment(
            users=[],
            unit_id=getattr(exc, "unit_id", None),
            unit_label=getattr(exc, "unit_label", ""),
            note=str(exc),
        )


def record_task(task, assignment: StepAssignment) -> ApprovalTask:
    now = timezone.now()
    step = task.seed
    users = assignment.users
    approval_task = ApprovalTask.objects.create(
        task=task,
        process_id=task.process_id,
        step=step,
        unit_id=assignment.unit_id,
        unit_label=assignment.unit_label[:255],
        assignee=users[0] if len(users) == 1 else None,
        on_behalf_of=assignment.on_behalf_of,
        assignment_note=assignment.note,
        opened_at=now,
        due_at=calendar.due_at(now, step.deadline_working_days),
    )
    ApprovalCandidate.objects.bulk_create(
        ApprovalCandidate(approval_task=approval_task, user=user, due_at=approval_task.due_at) for user in users
    )
    opened = getattr(subject_adapter(), "task_opened", None)
    if opened is not None:
        opened(approval_task=approval_task, assignment=assignment)
    return approval_task


def record_window(task) -> ApprovalTask:
    """A posting window's row: its step and its end, the end of the Nth working day from now."""
    process = task.process.coerced
    step = step_at(process.version, process.position)
    task.seed = step
    task.save(update_fields=["seed_content_type", "seed_object_id"])
    days = getattr(subject_adapter(), "posting_days", lambda process: 0)(process) or step.deadline_working_days
    now = timezone.now()
    return ApprovalTask.objects.create(
        task=task,
        process=process,
        step=step,
        opened_at=now,
        due_at=calendar.due_at(now, days),
        assignment_note=f"public posting for {days} working days",
    )


def window_closed(process: ApprovalProcess) -> None:
    """The posting window's timer fired: close its row; with objections still open the step's holder
    (the Board) must clear or reject them, else the case moves on."""
    window = ApprovalTask.objects.filter(process=process, closed_at__isnull=True, step__kind=StepKind.POSTING).first()
    step = window.step if window else step_at(process.version, process.position)
    if window is not None:
        window.closed_at = timezone.now()
        window.save(update_fields=["closed_at"])
    objections = subject_adapter().open_objections(process=process, window=window) if window else 0
    if objections:
        process.data = {**process.data, "objections": window.pk}
    else:
        process.position = next_position(process, step.position)
    process.last_action = ""
    process.save(update_fields=["data", "position", "last_action"])
    closed = getattr(subject_adapter(), "window_closed", None)
    if closed is not None and window is not None:
        closed(approval_task=window, objections=objections)


def next_position(process: ApprovalProcess, after: int | None) -> int | None:
    """The next step of the case's version after position ``after`` whose condition the case meets."""
    flags = None
    for step in version_steps(process.version):
        if step.position <= (after or 0):
            continue
        if not step.condition:
            return step.position
        if flags is None:
            flags = subject_adapter().flags(process)
        if step.condition in flags:
            return step.position
    return None


# --- reads ---------------------------------------------------------------------------------------


def processes_of(subject: Model):
    return ApprovalProcess.objects.filter(
        subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk
    ).order_by("-pk")


def current_process(subject: Model) -> ApprovalProcess | None:
    """The subject's running process, else its latest one."""
    rows = processes_of(subject)
    return rows.exclude(status__in=[STATUS.DONE, STATUS.CANCELED]).first() or rows.first()


def open_tasks(*, process: ApprovalProcess | None = None, processes=None):
    rows = ApprovalTask.objects.filter(closed_at__isnull=True)
    if process is not None:
        rows = rows.filter(process=process)
    if processes is not None:
        rows = rows.filter(process__in=processes)
    return rows.select_related("step", "assignee", "on_behalf_of").prefetch_related(
        Prefetch("candidates", queryset=ApprovalCandidate.objects.select_related("user").order_by("pk"))
    )


def inbox(user, *, after: tuple | None = None):
    """The open tasks ``user`` may act on, soonest due first: rows of ``ApprovalCandidate`` read along
    its partial index (user, due_at, task) where open; ``after`` = (due_at, task id) of the last row
    seen, for keyset paging."""
    rows = ApprovalCandidate.objects.filter(user=user, is_open=True)
    if after is not None:
        moment, task_id = after
        rows = rows.filter(Q(due_at__gt=moment) | Q(due_at=moment, approval_task_id__gt=task_id))
    return rows.select_related(
        "approval_task__step",
        "approval_task__process",
        "approval_task__assignee",
        "approval_task__on_behalf_of",
    ).order_by("due_at", "approval_task_id")


def is_candidate(approval_task: ApprovalTask, user) -> bool:
    return approval_task.candidates.filter(user_id=user.pk).exists()


# --- writes --------------------------------------------------------------------------------------


def approval_lock(process_pk: int):
    """The lock every write to one process runs under (a waited-for row lock, bounded on PostgreSQL)."""
    return _flow().lock(process_pk)


def approval_start(*, subject: Model, version: TemplateVersion, structure_on: date) -> ApprovalProcess:
    """Start ``version`` for ``subject``; the first applicable step's task is created at once."""
    flow = _flow()
    process = flow.start.run(
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        version=version,
        structure_on=structure_on,
    )
    return process


def closed_message(approval_task: ApprovalTask) -> StepClosed:
    if approval_task.decided_by_id is None:
        return StepClosed(_("This step is no longer open."))
    who = approval_task.decided_by.get_full_name() or approval_task.decided_by.get_username()
    when = timezone.localtime(approval_task.closed_at).strftime("%H:%M %d/%m/%Y")
    return StepClosed(
        _("This step was already decided by %(who)s at %(when)s (%(action)s).")
        % {"who": who, "when": when, "action": StepAction(approval_task.action).label}
    )


def locked_task(task_id: int) -> ApprovalTask:
    """Re-read a task inside ``approval_lock``; a closed one raises ``StepClosed`` naming who closed it."""
    approval_task = ApprovalTask.objects.select_related("step", "process", "decided_by", "task").get(pk=task_id)
    if approval_task.closed_at is not None:
        raise closed_message(approval_task)
    return approval_task


def lock_failed(task_id: int) -> WorkflowError:
    """What to tell someone whose wait for the lock ran out: decided meanwhile, or still busy."""
    approval_task = ApprovalTask.objects.select_related("decided_by").get(pk=task_id)
    if approval_task.closed_at is not None:
        return closed_message(approval_task)
    return StepBusy()


def decisions_for(step: TemplateStep) -> list[str]:
    """What a person may decide on a step: a vote step is decided by its council session only."""
    if step.kind == StepKind.VOTE:
        return []
    return list(step.actions)


def previous_group_position(process: ApprovalProcess, before: int) -> int | None:
    """The nearest earlier decision step held by a group (the Board): where a council without quorum
    sends a case back."""
    return (
        process.version.steps.filter(
            position__lt=before, kind=StepKind.DECISION, approver_rule=ApproverRule.UNIT_MEMBERS
        )
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )


def approval_decide(
    *,
    approval_task: ApprovalTask,
    by,
    action: str,
    comment: str = "",
    engine: bool = False,
    intervention: bool = False,
) -> ApprovalProcess:
    """Record the decision on an open task (read by ``locked_task``) and move the flow on.

    Approve goes to the next applicable step (or ends the run after the last), return parks the run
    until ``approval_resume``, reject ends it. ``engine``: taken by the engine (a council tally),
    which may also send the case back to the Board; ``by`` is then None. ``intervention``: ``by``
    is an administrator moving the step for its holders (recorded as such). Must run under
    ``approval_lock``.
    """
    step = approval_task.step
    allowed = [StepAction.APPROVE, StepAction.REJECT, StepAction.SEND_BACK] if engine else decisions_for(step)
    if action not in allowed:
        raise ActionNotAllowed()
    now = timezone.now()
    task = approval_task.task
    activation = task.flow_task.activation_class(task)
    process = activation.process
    process.last_action = action
    if action == StepAction.APPROVE:
        process.position = next_position(process, step.position)
    elif action == StepAction.SEND_BACK:
        process.position = previous_group_position(process, step.position)
        if process.position is None:
            process.last_action = StepAction.REJECT
    elif action == StepAction.REJECT:
        process.position = None
    # A decision on a posting step clears (or rejects over) its objections: the window is behind us.
    process.data.pop("objections", None)
    process.save(update_fields=["position", "last_action", "data"])
    approval_task.action = action
    approval_task.decided_by = by
    approval_task.comment = comment
    approval_task.closed_at = now
    approval_task.intervention = intervention
    approval_task.save(update_fields=["action", "decided_by", "comment", "closed_at", "intervention"])
    approval_task.candidates.update(is_open=False)
    if task.status == STATUS.NEW:
        if by is not None:
            activation.assign(by)
        else:
            task.status = STATUS.ASSIGNED
    elif by is not None and task.owner_id != by.pk:
        task.owner = by
    activation.start(None)
    activation.execute()
    return process


def approval_resume(*, process: ApprovalProcess) -> None:
    """After a return: the run continues at the step that returned it (a new task, a new pass)."""
    flow = _flow()
    waiting = process.task_set.filter(flow_task=flow.wait, status=STATUS.NEW).first()
    if waiting is None:
        raise StepClosed(_("This case is not waiting for a resubmission."))
    flow.wait.run(waiting)


def approval_cancel(*, process: ApprovalProcess) -> None:
    """End a run early (the case was withdrawn): open tasks are closed, nobody is asked again."""
    now = timezone.now()
    tasks = ApprovalTask.objects.filter(process=process, closed_at__isnull=True)
    ApprovalCandidate.objects.filter(approval_task__in=tasks).update(is_open=False)
    tasks.update(closed_at=now)
    _flow().instance.cancel(process)


def approval_reassign(*, approval_task: ApprovalTask, to, by, reason: str) -> ApprovalTask:
    """Give an open task (read by ``locked_task``) to ``to`` alone. Eligibility is the caller's check."""
    approval_task.assignee = to
    approval_task.on_behalf_of = None
    approval_task.assignment_note = f"reassigned by {by.get_username()}: {reason}"
    approval_task.save(update_fields=["assignee", "on_behalf_of", "assignment_note"])
    approval_task.candidates.all().delete()
    ApprovalCandidate.objects.create(approval_task=approval_task, user=to, due_at=approval_task.due_at)
    task = approval_task.task
    task.owner = to
    task.status = STATUS.ASSIGNED if task.status in (STATUS.NEW, STATUS.ASSIGNED) else task.status
    task.save(update_fields=["owner", "status"])
    return approval_task


__all__ = [
    "FlowLockFailed",
    "StepAssignment",
    "approval_cancel",
    "approval_decide",
    "approval_lock",
    "approval_reassign",
    "approval_resume",
    "approval_start",
    "current_process",
    "decisions_for",
    "inbox",
    "is_candidate",
    "lock_failed",
    "locked_task",
    "next_position",
    "open_tasks",
    "previous_group_position",
    "processes_of",
]
