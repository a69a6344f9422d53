"""What the flow's nodes write beside viewflow's rows, and where a case goes next.

Called by ``workflow.flows`` (which therefore imports this module, never the other way round): the
product's row for each task (``ApprovalTask``) with its holders and due time, a posting window's row,
the next applicable step of a template. Steps opened while a decision runs are handed back to it
(``steps_opened``), so the decision's one audit entry says who was given what; a step opened by
anything else (a window running out) is logged through the subject adapter.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

from workflow import calendar
from workflow.errors import WorkflowError
from workflow.kinds import kind_of
from workflow.models import ApprovalCandidate, ApprovalProcess, ApprovalTask, StepKind, TemplateStep
from workflow.process_templates import step_at, version_steps
from workflow.subject import StepAssignment, subject_adapter

#: The steps opened by the decision now running (None: no decision is collecting them).
_opened: ContextVar[list | None] = ContextVar("workflow_opened_steps", default=None)


@contextmanager
def steps_opened():
    """Collect the tasks opened inside the block (each with ``.assignment``): the caller logs them."""
    opened: list[ApprovalTask] = []
    token = _opened.set(opened)
    try:
        yield opened
    finally:
        _opened.reset(token)


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
    """The product's row for a new human task, and one candidate row per holder."""
    now = timezone.now()
    step = task.seed
    users = assignment.users
    approval_task = ApprovalTask(
        task=task,
        process=task.process.coerced,
        step=step,
        unit_id=assignment.unit_id,
        unit_label=assignment.unit_label[:255],
        assignee=users[0] if len(users) == 1 else None,
        on_behalf_of=assignment.on_behalf_of,
        assignment_note=assignment.note,
        opened_at=now,
        due_at=calendar.due_at(now, step.deadline_working_days),
    )
    approval_task.save(force_insert=True)
    ApprovalCandidate.objects.bulk_create(
        ApprovalCandidate(approval_task=approval_task, user=user, due_at=approval_task.due_at) for user in users
    )
    approval_task.assignment = assignment
    collecting = _opened.get()
    if collecting is not None:
        collecting.append(approval_task)
    else:
        subject_adapter().task_opened(approval_task=approval_task, assignment=assignment)
    return approval_task


def record_window(task) -> ApprovalTask:
    """A posting window's row: its step and its end, the end of the Nth working day from now."""
    process = task.process.coerced
    step = step_at(process.version, process.position)
    task.seed = step
    task.save(update_fields=["seed_content_type", "seed_object_id"])
    days = subject_adapter().posting_days(process=process) or step.deadline_working_days
    now = timezone.now()
    window = ApprovalTask.objects.create(
        task=task,
        process=process,
        step=step,
        opened_at=now,
        due_at=calendar.due_at(now, days),
        assignment_note=f"public posting for {days} working days",
    )
    window.assignment = StepAssignment(note=window.assignment_note)
    collecting = _opened.get()
    if collecting is not None:
        collecting.append(window)
    return window


def window_closed(process: ApprovalProcess) -> None:
    """The posting window's timer fired: close its row; with objections still open the step's holder
    (a group) must clear or reject them, else the case moves on."""
    window = ApprovalTask.objects.filter(process=process, closed_at__isnull=True, step__kind=StepKind.POSTING).first()
    step = window.step if window else step_at(process.version, process.position)
    if window is not None:
        window.closed_at = timezone.now()
        window.save(update_fields=["closed_at"])
    adapter = subject_adapter()
    objections = adapter.open_objections(process=process, window=window) if window else 0
    if objections:
        process.data = {**process.data, "objections": window.pk}
    else:
        process.position = next_position(process, step.position)
    process.last_action = ""
    process.save(update_fields=["data", "position", "last_action"])
    if window is not None:
        adapter.window_closed(approval_task=window, objections=objections)


def next_position(process: ApprovalProcess, after: int | None) -> int | None:
    """The next step of the case's version after position ``after`` whose condition the case meets."""
    flags = None
    for step in version_steps(process.version):
        if step.position <= (after or 0):
            continue
        if not step.condition:
            return step.position
        if flags is None:
            flags = subject_adapter().flags(process=process)
        if step.condition in flags:
            return step.position
    return None


def previous_group_position(process: ApprovalProcess, before: int) -> int | None:
    """The nearest earlier decision step held by a group: where a vote without quorum sends a case back."""
    return send_back_target(version_steps(process.version), before)


def send_back_target(steps, before: int) -> int | None:
    """Among ``steps``, the position of the nearest decision step before ``before`` held by a group."""
    groups = subject_adapter().group_rules()
    earlier = [
        step.position
        for step in steps
        if step.position < before and kind_of(step).takes_cases_back and step.approver_rule in groups
    ]
    return max(earlier, default=None)
