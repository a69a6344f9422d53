"""The route of a case: where it stands among the steps that apply to it ("step 3 of 6"), and its
template version drawn with each step's progress (``workflow.diagram``), in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from viewflow.workflow.status import STATUS

from processes.models import Nomination, Stage
from workflow.approvals import processes_of
from workflow.diagram import AHEAD, CURRENT, DECIDED, SKIPPED, StepProgress, template_svg
from workflow.kinds import kind_of
from workflow.models import ApprovalCandidate, ApprovalProcess, ApprovalTask, StepAction
from workflow.process_templates import version_steps
from workflow.subject import subject_adapter


@dataclass(frozen=True)
class CaseRoute:
    version: object
    position: int | None  # the current step among those that apply (None: no step open)
    total: int  # how many steps apply to the case
    finished: bool
    svg: SafeString
    #: Every step of the version in order, with where it stands (the API lists them; the page draws them).
    steps: tuple = ()


def _people(users) -> str:
    names = [user.get_full_name() or user.get_username() for user in users[:3]]
    return ", ".join(names) + (", …" if len(users) > 3 else "")


def case_route(*, nomination: Nomination) -> CaseRoute | None:
    """The route of the case's current (else latest) run; None before the case was submitted."""
    runs = list(processes_of(nomination).select_related("version__template")[:10])
    process: ApprovalProcess | None = next(
        (run for run in runs if run.status not in (STATUS.DONE, STATUS.CANCELED)), runs[0] if runs else None
    )
    if process is None:
        return None
    version = process.version
    steps = version_steps(version)
    flags = subject_adapter().flags(process=process) if any(step.condition for step in steps) else set()
    applies = [step for step in steps if not step.condition or step.condition in flags]
    tasks = list(
        ApprovalTask.objects.filter(process=process)
        .select_related("decided_by", "on_behalf_of")
        .order_by("opened_at", "pk")
    )
    holders: dict[int, list] = {}
    for candidate in ApprovalCandidate.objects.filter(
        approval_task__process=process, approval_task__closed_at__isnull=True
    ).select_related("user"):
        holders.setdefault(candidate.approval_task_id, []).append(candidate.user)
    latest = {task.step_id: task for task in tasks}  # the last visit of each step
    running = process.status not in (STATUS.DONE, STATUS.CANCELED)
    current = process.position if running else None
    now = timezone.now()
    progress: dict[int, StepProgress] = {}
    for step in steps:
        task = latest.get(step.pk)
        if step not in applies:
            progress[step.position] = StepProgress(state=SKIPPED)
        elif step.position == current:
            progress[step.position] = _current(nomination, process, step, task, holders, now)
        elif task is not None and task.closed_at is not None:
            who = (task.decided_by.get_full_name() or task.decided_by.get_username()) if task.decided_by else ""
            progress[step.position] = StepProgress(
                state=DECIDED,
                who=who or str(kind_of(step).engine_label),
                when=task.closed_at,
                outcome=str(StepAction(task.action).label) if task.action else "",
            )
        else:
            progress[step.position] = StepProgress(state=AHEAD)
    position = next((index for index, step in enumerate(applies, 1) if step.position == current), None)
    svg = template_svg(
        version,
        progress,
        title=_("Route of the case of %(name)s: %(template)s, version %(number)s")
        % {"name": nomination.nominee.name, "template": version.template.name, "number": version.number},
    )
    return CaseRoute(
        version=version,
        position=position,
        total=len(applies),
        finished=not running,
        svg=mark_safe(svg),  # noqa: S308  (built by ElementTree, which escapes every name)
        steps=tuple((step, progress[step.position]) for step in steps),
    )


def _current(nomination, process, step, task, holders, now) -> StepProgress:
    """The open step: who holds it (the unit, when the case was returned to it) and until when."""
    if task is None or task.closed_at is not None:
        if nomination.stage == Stage.RETURNED or process.last_action == StepAction.RETURN:
            return StepProgress(
                state=CURRENT, holder=_("returned to %(unit)s for completion") % {"unit": nomination.unit.name}
            )
        return StepProgress(state=CURRENT)
    people = holders.get(task.pk, [])
    if people:
        holder = _people(people)
        if task.on_behalf_of is not None:
            holder += " · " + _("on behalf of %(head)s") % {
                "head": task.on_behalf_of.get_full_name() or task.on_behalf_of.get_username()
            }
        if task.unit_label:
            holder += f" · {task.unit_label}"
    elif kind_of(step).runs_out:
        holder = _("public posting")
    else:
        holder = ""
    return StepProgress(state=CURRENT, holder=holder, due=task.due_at, overdue=task.due_at < now)
