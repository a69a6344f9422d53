"""Reads for the screens: scoped, with a constant number of queries whatever the size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from processes.models import Nomination, Stage
from processes.permissions import TRANSITION_RULES, UserScope, can_transition, nominations_visible_to
from workflow.approvals import decisions_for, inbox, next_position, open_tasks, processes_of
from workflow.audit import audit_entries_for
from workflow.models import ApprovalTask, StepAction, StepKind, TemplateStep

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    rows: list[Nomination]
    next_cursor: str | None


def _cursor_of(nomination: Nomination) -> str:
    return f"{nomination.updated_at.isoformat()}|{nomination.pk}"


def _parse_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor or "|" not in cursor:
        return None
    stamp, _sep, pk = cursor.rpartition("|")
    try:
        moment = parse_datetime(stamp)
    except ValueError:  # well-formed but impossible, e.g. month 99
        return None
    if moment is None or not pk.isdigit():
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment, int(pk)


def nomination_page(
    *,
    user,
    scope: UserScope,
    stage: str = "",
    campaign_id: int | None = None,
    award_form_id: int | None = None,
    search: str = "",
    cursor: str | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of the nominations ``user`` may see, newest change first, by keyset (no COUNT)."""
    rows: QuerySet[Nomination] = nominations_visible_to(user, scope=scope).select_related(
        "nominee", "award_form", "unit", "campaign"
    )
    if stage in Stage.values:
        rows = rows.filter(stage=stage)
    if campaign_id:
        rows = rows.filter(campaign_id=campaign_id)
    if award_form_id:
        rows = rows.filter(award_form_id=award_form_id)
    if search:
        rows = rows.filter(nominee__name__icontains=search.strip())
    after = _parse_cursor(cursor)
    if after:
        moment, pk = after
        rows = rows.filter(Q(updated_at__lt=moment) | Q(updated_at=moment, pk__lt=pk))
    found = list(rows.order_by("-updated_at", "-pk")[: size + 1])
    has_more = len(found) > size
    found = found[:size]
    _attach_open_steps(found)
    return Page(rows=found, next_cursor=_cursor_of(found[-1]) if has_more else None)


def _attach_open_steps(nominations: list[Nomination]) -> None:
    """Each row's open approval steps (step and due time), for the whole page in one query."""
    by_pk = {nomination.pk: nomination for nomination in nominations}
    for nomination in nominations:
        nomination.open_steps = []
    if not by_pk:
        return
    steps = (
        ApprovalTask.objects.filter(
            closed_at__isnull=True,
            process__subject_type=ContentType.objects.get_for_model(Nomination),
            process__subject_id__in=list(by_pk),
        )
        .select_related("step")
        .annotate(subject_id=F("process__subject_id"))
        .order_by("due_at")
    )
    for step in steps:
        by_pk[step.subject_id].open_steps.append(step)


@dataclass(frozen=True)
class AvailableAction:
    name: str
    blocked_by: list  # the guard messages that keep it closed now; empty when it can be taken


#: Taken on the open approval step, not as a plain transition (see ``approval_steps``).
STEP_DECISIONS = {"return_for_completion", "reject", "award"}


def available_actions(*, user, nomination: Nomination, scope: UserScope) -> list[AvailableAction]:
    """The transitions this user may take from the current stage, with what still blocks each."""
    actions = []
    for name in TRANSITION_RULES:
        if name in STEP_DECISIONS:
            continue
        method = getattr(nomination, name)
        if not can_proceed(method, check_conditions=False):
            continue
        if not can_transition(user, nomination, name, scope=scope):
            continue
        transition = method._django_fsm.get_transition(nomination.stage)
        blocked = [condition.explain(nomination) for condition in transition.conditions if not condition(nomination)]
        if name == "submit_simplified" and blocked and not nomination.is_simplified:
            continue  # not an option at all outside the simplified procedure
        actions.append(AvailableAction(name=name, blocked_by=blocked))
    return actions


#: Audit actions as the timeline names them: events, worded apart from the stages they lead to.
TIMELINE_LABELS = {
    "processes.nomination.created": _("Nomination opened"),
    "processes.nomination.cultivation_started": _("Cultivation started"),
    "processes.nomination.submitted": _("Submitted for approval"),
    "processes.nomination.submitted_simplified": _("Submitted under the simplified procedure"),
    "processes.nomination.returned": _("Sent back for completion"),
    "processes.nomination.resubmitted": _("Resubmitted"),
    "processes.nomination.rejected": _("Refused"),
    "processes.nomination.awarded": _("Award decided"),
    "processes.nomination.closed": _("Case closed"),
    "processes.nomination.withdrawn": _("Withdrawn by the unit"),
    "processes.nomination.updated": _("Dossier text edited"),
    "processes.nomination.step_opened": _("Step opened"),
    "processes.nomination.step_approved": _("Step approved"),
    "processes.nomination.step_reassigned": _("Step reassigned"),
    "processes.dossier.uploaded": _("File uploaded"),
}


def nomination_timeline(nomination: Nomination) -> list:
    """The nomination's audit entries, oldest first, labelled for people."""
    stages = dict(Stage.choices)
    entries = list(audit_entries_for(nomination))
    step_names = dict(
        TemplateStep.objects.filter(version__processes__in=processes_of(nomination)).values_list("code", "name")
    )
    for entry in entries:
        entry.step_name = step_names.get((entry.data or {}).get("step"), "")
        entry.label = TIMELINE_LABELS.get(entry.action, entry.action)
        entry.from_label = stages.get(entry.from_state, entry.from_state)
        entry.to_label = stages.get(entry.to_state, entry.to_state)
    return entries


# --- approval steps ------------------------------------------------------------------------------


@dataclass
class OpenStep:
    task: ApprovalTask
    holders: list
    overdue: bool
    decisions: list  # (action, label) the viewer may take; empty when the step is not theirs
    is_last: bool
    may_reassign: bool
    reassign_to: list
    is_window: bool = False  # a public posting window running out (no holder)
    may_consult: bool = False  # the viewer holds a Board step and may ask other agencies


def approval_steps(*, user, nomination: Nomination) -> tuple[list[OpenStep], list[ApprovalTask]]:
    """The nomination's open steps (holder, due time, what the viewer may do) and its decided steps,
    oldest first, over every run of its chain: a constant number of queries."""
    from processes.services import may_reassign, reassignment_choices

    runs = processes_of(nomination)
    now = timezone.now()
    open_rows = []
    for task in open_tasks(processes=runs).select_related("process__version"):
        holders = [candidate.user for candidate in task.candidates.all()]
        mine = user.is_superuser or any(holder.pk == user.pk for holder in holders)
        reassigns = may_reassign(user, task) and task.step.kind != StepKind.POSTING
        open_rows.append(
            OpenStep(
                task=task,
                holders=holders,
                overdue=task.due_at < now,
                decisions=[(action, StepAction(action).label) for action in decisions_for(task.step)] if mine else [],
                is_last=next_position(task.process, task.step.position) is None,
                may_reassign=reassigns,
                reassign_to=[holder for holder in reassignment_choices(task) if holder not in holders]
                if reassigns
                else [],
                is_window=task.step.kind == StepKind.POSTING and not holders,
                may_consult=mine and task.step.kind == StepKind.DECISION and task.step.approver_rule == "unit_members",
            )
        )
    history = list(
        ApprovalTask.objects.filter(process__in=runs, closed_at__isnull=False)
        .exclude(action="")
        .select_related("step", "decided_by", "on_behalf_of")
        .order_by("closed_at", "pk")
    )
    return open_rows, history


@dataclass(frozen=True)
class InboxPage:
    rows: list  # (ApprovalTask, Nomination)
    next_cursor: str | None


def inbox_page(*, user, cursor: str | None = None, size: int = PAGE_SIZE) -> InboxPage:
    """The open steps ``user`` holds, soonest due first, by keyset; each with its nomination."""
    found = [candidate.approval_task for candidate in inbox(user, after=_parse_cursor(cursor))[: size + 1]]
    has_more = len(found) > size
    found = found[:size]
    nominations = Nomination.objects.select_related("nominee", "award_form", "unit").in_bulk(
        [task.process.subject_id for task in found]
    )
    pairs = [(task, nominations[task.process.subject_id]) for task in found if task.process.subject_id in nominations]
    last = found[-1] if has_more else None
    return InboxPage(rows=pairs, next_cursor=f"{last.due_at.isoformat()}|{last.pk}" if last else None)


def case_labels(processes) -> dict[int, str]:
    """Process id → "nominee · award form · unit", for lists of steps: one query."""
    by_subject = {process.subject_id: process.pk for process in processes}
    nominations = Nomination.objects.select_related("nominee", "award_form", "unit").in_bulk(list(by_subject))
    return {
        by_subject[pk]: f"{nomination.nominee.name} · {nomination.award_form.name} · {nomination.unit.name}"
        for pk, nomination in nominations.items()
    }
