"""Running approvals: start a template for a subject, decide its open step, resume it after a
return, reassign a step, cancel the run. The flow (``workflow.flows.ApprovalFlow``) moves; these
functions and the nodes' records (``workflow.records``) are the only writers of its rows.

What the subject means (who holds a step, which optional steps apply) is asked of the adapter named
by ``settings.WORKFLOW_SUBJECT`` (``workflow.subject.Subject``), so this package imports nothing of
the domain.

Locking: every write runs under the process's row lock and the caller's transaction. A decision
takes the lock in the statement that reads its step (``take_open_step``); the other writes take
``approval_lock``. The wait is bounded by the connection's ``lock_timeout`` on PostgreSQL.
"""

from __future__ import annotations

from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError
from django.db.models import Exists, Model, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.status import STATUS

from workflow.errors import ActionNotAllowed, StepBusy, StepClosed, WorkflowError
from workflow.flows import ApprovalFlow
from workflow.kinds import kind_of
from workflow.models import ApprovalCandidate, ApprovalProcess, ApprovalTask, StepAction, TemplateStep, TemplateVersion
from workflow.records import next_position, previous_group_position, steps_opened
from workflow.subject import StepAssignment, subject_adapter


class StepNotFound(WorkflowError):
    default_message = _("This approval step does not exist.")


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
    held = getattr(approval_task, "held_by_user", None)
    if held is not None and getattr(approval_task, "held_for", None) == user.pk:
        return held
    return approval_task.candidates.filter(user_id=user.pk).exists()


def decisions_for(step: TemplateStep) -> list[str]:
    """What a person may decide on a step (a vote step: nothing; its session decides)."""
    return kind_of(step).decisions(step)


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


# --- writes --------------------------------------------------------------------------------------


def approval_lock(process_pk: int):
    """The lock every write to one process runs under (a waited-for row lock, bounded on PostgreSQL)."""
    return ApprovalFlow.lock(process_pk)


def take_open_step(task_id: int, *, user=None) -> ApprovalTask:
    """The open step ``task_id``, read with its process, step and viewflow task in the one statement
    that also locks the process row (the flow's lock, for a decision). With ``user``, whether they
    hold it comes in the same statement (``is_candidate`` reads it). Raises ``StepNotFound``,
    ``StepClosed`` (naming who decided, and when) or ``FlowLockFailed`` (the wait ran out). Must run
    inside a transaction."""
    rows = ApprovalTask.objects.select_related("step", "process__version", "task").select_for_update(of=("process",))
    if user is not None:
        rows = rows.annotate(
            held_by_user=Exists(ApprovalCandidate.objects.filter(approval_task=OuterRef("pk"), user_id=user.pk))
        )
    try:
        approval_task = rows.get(pk=task_id)
    except ApprovalTask.DoesNotExist:
        raise StepNotFound() from None
    except DatabaseError as exc:  # lock_timeout: someone else is deciding this case
        raise FlowLockFailed(f"Lock on the process of task {task_id} not obtained") from exc
    if approval_task.closed_at is not None:
        raise closed_message(approval_task)
    if user is not None:
        approval_task.held_for = user.pk
    # The viewflow task's process is the one just read (and locked): viewflow would fetch it twice.
    approval_task.task.process = approval_task.process
    return approval_task


def approval_start(*, subject: Model, version: TemplateVersion, structure_on: date) -> tuple[ApprovalProcess, list]:
    """Start ``version`` for ``subject``; the first applicable step's task is created at once and
    returned with the process (each task with its ``.assignment``), for the caller's audit entry."""
    with steps_opened() as opened:
        process = ApprovalFlow.start.run(
            subject_type=ContentType.objects.get_for_model(subject),
            subject_id=subject.pk,
            version=version,
            structure_on=structure_on,
        )
    return process, opened


def approval_decide(
    *,
    approval_task: ApprovalTask,
    by,
    action: str,
    comment: str = "",
    engine: bool = False,
    intervention: bool = False,
) -> list[ApprovalTask]:
    """Record the decision on an open task (read by ``take_open_step`` or ``locked_task``) and move
    the flow on; return the tasks this opened (each with its ``.assignment``), for the caller's audit
    entry, which says who was given what.

    Approve goes to the next applicable step (or ends the run after the last), return parks the run
    until ``approval_resume``, reject ends it. ``engine``: taken by the engine (a tally), which may
    also send the case back to the nearest earlier group step; ``by`` is then None.
    ``intervention``: ``by`` is an administrator moving the step for its holders (recorded as such).
    Must run under the process's lock.
    """
    step = approval_task.step
    kind = kind_of(step)
    if action not in (kind.engine_decisions(step) if engine else kind.decisions(step)):
        raise ActionNotAllowed()
    now = timezone.now()
    # Closed only if still open: on PostgreSQL the statement that locked the process read the task as
    # it was when that statement began, so a decision committed while it waited for the lock shows
    # here, as no row updated. The whole write then gives up, naming who decided.
    closed = ApprovalTask.objects.filter(pk=approval_task.pk, closed_at__isnull=True).update(
        action=action, decided_by=by, comment=comment, closed_at=now, intervention=intervention
    )
    if not closed:
        raise closed_message(ApprovalTask.objects.select_related("decided_by").get(pk=approval_task.pk))
    approval_task.action, approval_task.decided_by, approval_task.comment = action, by, comment
    approval_task.closed_at, approval_task.intervention = now, intervention
    process = approval_task.process
    process.last_action = action
    if action == StepAction.APPROVE:
        process.position = next_position(process, step.position)
    elif action == StepAction.SEND_BACK:
        process.position = previous_group_position(process, step.position)
        if process.position is None:
            process.last_action = StepAction.REJECT
    elif action == StepAction.REJECT:
        process.position = None
    changed = ["position", "last_action"]
    if "objections" in process.data:
        # A decision on a posting step clears (or rejects over) its objections: the window is behind us.
        process.data.pop("objections")
        changed.append("data")
    process.save(update_fields=changed)
    ApprovalCandidate.objects.filter(approval_task=approval_task, is_open=True).update(is_open=False)
    task = approval_task.task
    task.process = process
    with steps_opened() as opened:
        task.flow_task.activation_class(task).decide(by)
    return opened


def approval_resume(*, process: ApprovalProcess) -> list[ApprovalTask]:
    """After a return: the run continues at the step that returned it (a new task, a new pass); the
    tasks opened are returned for the caller's audit entry."""
    waiting = process.task_set.filter(flow_task=ApprovalFlow.wait, status=STATUS.NEW).first()
    if waiting is None:
        raise StepClosed(_("This case is not waiting for a resubmission."))
    with steps_opened() as opened:
        ApprovalFlow.wait.run(waiting)
    return opened


def approval_cancel(*, process: ApprovalProcess) -> None:
    """End a run early (the case was withdrawn): open tasks are closed, nobody is asked again."""
    now = timezone.now()
    tasks = ApprovalTask.objects.filter(process=process, closed_at__isnull=True)
    ApprovalCandidate.objects.filter(approval_task__in=tasks).update(is_open=False)
    tasks.update(closed_at=now)
    ApprovalFlow.instance.cancel(process)


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


def opened_summary(opened: list[ApprovalTask]) -> list[dict]:
    """The steps a write opened, as its audit entry records them: who was given what, until when, how."""
    summary = []
    for approval_task in opened:
        assignment = getattr(approval_task, "assignment", None) or StepAssignment()
        row = {
            "step": approval_task.step.code,
            "task": approval_task.pk,
            "holders": [user.get_username() for user in assignment.users],
            "holder_ids": [user.pk for user in assignment.users],
            "due_at": approval_task.due_at.isoformat(),
            "how": assignment.note,
        }
        if assignment.on_behalf_of is not None:
            row["on_behalf_of"] = assignment.on_behalf_of.get_username()
        summary.append(row)
    return summary


__all__ = [
    "FlowLockFailed",
    "StepAssignment",
    "StepNotFound",
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
    "opened_summary",
    "previous_group_position",
    "processes_of",
    "subject_adapter",
    "take_open_step",
]
