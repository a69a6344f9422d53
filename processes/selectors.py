"""Reads for the screens: scoped, with a constant number of queries whatever the size."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from processes import errors
from processes.approvers import eligible_for_reassignment, successor_assignment
from processes.guards import unmet_eligibility_rules
from processes.models import (
    FINAL_STAGES,
    Consultation,
    Decision,
    EligibilityRule,
    Membership,
    Nomination,
    OrganisationUnit,
    Stage,
)
from processes.permissions import (
    HOLDER,
    INTERVENTION,
    STAFF_ROLES,
    TRANSITION_RULES,
    UserScope,
    can_transition,
    decider_role,
    decisions_offered,
    may_reassign,
    nominations_visible_to,
    user_scope,
)
from workflow.actions import detail_of, label_of
from workflow.approvals import inbox, next_position, open_tasks, processes_of
from workflow.audit import audit_entries_for
from workflow.kinds import kind_of
from workflow.models import ApprovalTask, StepAction, TemplateStep, VoteSession
from workflow.subject import subject_adapter

PAGE_SIZE = 50


#: Nominations a write already holds, by id: the engine's questions about them (who holds the next
#: step, which optional steps apply) are answered without reading them again.
_known_subjects: ContextVar[dict | None] = ContextVar("processes_known_subjects", default=None)


@contextmanager
def known_subject(nomination: Nomination):
    """Within the block, ``nomination_of`` answers with this very object for its case."""
    token = _known_subjects.set({**(_known_subjects.get() or {}), nomination.pk: nomination})
    try:
        yield nomination
    finally:
        _known_subjects.reset(token)


def nomination_of(process) -> Nomination:
    """The nomination a running approval is about, with what its steps read."""
    known = _known_subjects.get()
    if known and process.subject_id in known:
        return known[process.subject_id]
    return Nomination.objects.select_related("award_form", "nominee", "unit").get(pk=process.subject_id)


def nomination_for_decision(approval_task: ApprovalTask) -> Nomination:
    """The nomination of a step being decided, in one statement: with what deciding reads, and
    whether an agency it consulted on this step is still to answer in time (``consulting``)."""
    waiting = Consultation.objects.filter(
        approval_task_id=approval_task.pk, answered_at__isnull=True, due_at__gt=timezone.now()
    )
    return (
        Nomination.objects.select_related("award_form", "nominee", "unit")
        .annotate(consulting=Exists(waiting))
        .get(pk=approval_task.process.subject_id)
    )


@dataclass(frozen=True)
class Page:
    rows: list[Nomination]
    next_cursor: str | None


def _cursor_of(nomination: Nomination) -> str:
    return f"{nomination.updated_at.isoformat()}|{nomination.pk}"


def _parse_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """A cursor from a caller that did not parse it (views parse theirs with ``forms.CursorField``)."""
    if not cursor or "|" not in cursor:
        return None
    stamp, _sep, pk = cursor.rpartition("|")
    try:
        moment = parse_datetime(stamp)
    except ValueError:  # well-formed but impossible, e.g. month 99
        return None
    if moment is None or not (pk.isascii() and pk.isdigit() and len(pk) < 19):
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
    after: tuple[datetime, int] | None = None,
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
    after = after or _parse_cursor(cursor)
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


def nomination_timeline(nomination: Nomination) -> list:
    """The nomination's audit entries, oldest first, labelled for people (``workflow.actions``)."""
    stages = dict(Stage.choices)
    entries = list(audit_entries_for(nomination))
    step_names = dict(
        TemplateStep.objects.filter(version__processes__in=processes_of(nomination)).values_list("code", "name")
    )
    for entry in entries:
        data = entry.data or {}
        entry.step_name = step_names.get(data.get("step"), "")
        entry.label = label_of(entry.action)
        entry.detail = _entry_detail(entry.action, data)
        entry.from_label = stages.get(entry.from_state, entry.from_state)
        entry.to_label = stages.get(entry.to_state, entry.to_state)
    return entries


def _entry_detail(action: str, data: dict) -> str:
    """What an entry's data adds for a reader: what its action's declaration shows (a file's name, a
    decision's number), and, for any decision, an administrator's intervention."""
    parts = [str(_("by an administrator, in place of the step's holder"))] if data.get("intervention") else []
    parts.append(detail_of(action, data))
    return " · ".join(part for part in parts if part)


# --- approval steps ------------------------------------------------------------------------------


@dataclass
class OpenStep:
    task: ApprovalTask
    holders: list
    overdue: bool
    decisions: list  # (action, label) the viewer may take; empty when the step is not theirs
    is_last: bool
    may_reassign: bool
    reassign_to: list  # services.ReassignOption
    is_window: bool = False  # a public posting window running out (no holder)
    may_consult: bool = False  # the viewer holds a Board step and may ask other agencies
    intervention: bool = False  # the viewer is an administrator who does not hold the step


def approval_steps(*, user, nomination: Nomination, scope: UserScope | None = None) -> tuple[list[OpenStep], list]:
    """The nomination's open steps (holder, due time, what the viewer may do) and its decided steps,
    oldest first, over every run of its chain: a constant number of queries."""
    runs = processes_of(nomination)
    now = timezone.now()
    open_rows = []
    for task in open_tasks(processes=runs).select_related("process__version"):
        holders = [candidate.user for candidate in task.candidates.all()]
        role = decider_role(user, task, nomination) if holders or user.is_superuser else None
        is_last = next_position(task.process, task.step.position) is None
        kind = kind_of(task.step)
        reassigns = not kind.runs_out and may_reassign(user, task)
        holder_ids = {holder.pk for holder in holders}
        open_rows.append(
            OpenStep(
                task=task,
                holders=holders,
                overdue=task.due_at < now,
                decisions=[
                    (action, StepAction(action).label) for action in decisions_offered(task, role, is_last=is_last)
                ],
                is_last=is_last,
                may_reassign=reassigns,
                reassign_to=[option for option in reassignment_choices(task) if option.pk not in holder_ids]
                if reassigns
                else [],
                is_window=kind.runs_out and not holders,
                may_consult=role == HOLDER and kind.may_consult(task.step, group_rules=subject_adapter().group_rules()),
                intervention=role == INTERVENTION,
            )
        )
    history = list(
        ApprovalTask.objects.filter(process__in=runs, closed_at__isnull=False)
        .exclude(action="")
        .select_related("step", "decided_by", "on_behalf_of")
        .order_by("closed_at", "pk")
    )
    for done in history:
        done.decided_by_label = _decided_by_label(done)
    return open_rows, history


def _decided_by_label(task: ApprovalTask) -> str:
    """Who decided a closed step, for people: a person, or the council's vote or the posting's end."""
    if task.decided_by is not None:
        return task.decided_by.get_full_name() or task.decided_by.get_username()
    return str(kind_of(task.step).engine_label)


def case_warnings(*, user, nomination: Nomination, scope: UserScope) -> list[dict]:
    """What everyone deciding on the case must know before they do: pending proceedings (no award
    until resolved) and the award form's eligibility rules set to warn that the nominee does not meet.
    Each is ``{"text": ..., "blocking": bool}``."""
    found = []
    if nomination.nominee.has_pending_proceedings:
        found.append(
            {
                "text": _(
                    "Discipline, investigation or complaint pending (Decree 152/2025/ND-CP): the case may be "
                    "appraised, but no award can be decided until it is resolved."
                ),
                "blocking": True,
            }
        )
    if nomination.stage not in FINAL_STAGES:
        for rule in unmet_eligibility_rules(nomination, enforcement=EligibilityRule.Enforcement.WARN):
            found.append(
                {
                    "text": _("Eligibility warning: the nominee does not meet “%(rule)s”.")
                    % {"rule": rule.description or str(rule)},
                    "blocking": False,
                }
            )
    return found


def decision_message(*, nomination: Nomination, task: ApprovalTask, action: str) -> str:
    """What a decision did, for the message after it: "Approved; passed to …", "Returned to …"."""
    if action == StepAction.RETURN:
        return _("Returned for completion to %(unit)s.") % {"unit": nomination.unit.name}
    if action == StepAction.REJECT:
        return _("Rejected; the case is closed for this campaign.")
    if nomination.stage == Stage.REPLICATE:
        decision = Decision.objects.filter(nomination=nomination).first()
        return _("Approved; award decision no. %(number)s recorded, the case moves to replication.") % {
            "number": decision.number if decision else ""
        }
    following = open_tasks(process=task.process).select_related("step").first()
    if following is None:
        return _("Approved.")
    holders = [candidate.user for candidate in following.candidates.all()]
    kind = kind_of(following.step)
    if kind.runs_out and not holders:
        return _("Approved; the nominee is now publicly posted until %(until)s.") % {
            "until": timezone.localtime(following.due_at).strftime("%d/%m/%Y")
        }
    if kind.in_session:
        return _("Approved; the case now awaits the council's vote (%(step)s).") % {"step": following.step.name}
    if not holders:
        return _("Approved; next step “%(step)s”, which nobody holds yet: a secretary must assign it.") % {
            "step": following.step.name
        }
    names = ", ".join(holder.get_full_name() or holder.get_username() for holder in holders[:3])
    if len(holders) > 3:
        names += ", …"
    where = f" · {following.unit_label}" if following.unit_label else ""
    return _("Approved; passed to %(who)s (%(step)s%(where)s).") % {
        "who": names,
        "step": following.step.name,
        "where": where,
    }


@dataclass(frozen=True)
class InboxPage:
    rows: list  # (ApprovalTask, Nomination)
    next_cursor: str | None


def inbox_page(
    *, user, cursor: str | None = None, after: tuple[datetime, int] | None = None, size: int = PAGE_SIZE
) -> InboxPage:
    """The open steps ``user`` holds, soonest due first, by keyset; each with its nomination."""
    found = [candidate.approval_task for candidate in inbox(user, after=after or _parse_cursor(cursor))[: size + 1]]
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


def consultations_for(user) -> list[Consultation]:
    """Open consultations this user's agencies must answer (for the inbox)."""
    scope = user_scope(user)
    units = [unit_id for unit_id, roles in scope.roles.items() if roles & set(STAFF_ROLES)]
    return list(
        Consultation.objects.filter(agency_id__in=units, answered_at__isnull=True)
        .select_related("nomination__nominee")
        .order_by("due_at")[:50]
    )


# --- who may be given a step; which council sessions a user sees --------------------------------------


@dataclass(frozen=True)
class ReassignOption:
    """Someone a step may be given to; ``unit`` is set when the step passes to a successor unit
    (after a reorganisation left nobody to hold it where it was)."""

    user: object
    unit: OrganisationUnit | None = None

    @property
    def pk(self) -> int:
        return self.user.pk

    def __str__(self) -> str:
        name = self.user.get_full_name() or self.user.get_username()
        return f"{name} · {self.unit}" if self.unit is not None else name


def reassignment_choices(approval_task: ApprovalTask) -> list[ReassignOption]:
    """Who may be given the step: those the rule allows today (the resolved holders, the head they
    stand in for, the unit's deputies); else the active members of the step's unit; and when the step
    can no longer be held where it was (a reorganisation abolished or emptied its unit), whoever holds
    the same rule today in the successor unit (``approvers.successor_assignment``)."""
    process = approval_task.process
    nomination = nomination_of(process)
    today = timezone.localdate()
    try:
        return [
            ReassignOption(user)
            for user in eligible_for_reassignment(
                nomination=nomination, step=approval_task.step, structure_on=process.structure_on, people_on=today
            )
        ]
    except errors.NoApprover:
        pass
    if approval_task.unit_id is not None:
        rows = (
            Membership.objects.on(today)
            .filter(unit_id=approval_task.unit_id, user__is_active=True)
            .exclude(user_id=nomination.nominee.user_id)
            .select_related("user")
            .order_by("role", "user_id")
        )
        members = list({row.user_id: row.user for row in rows}.values())
        if members:
            return [ReassignOption(user) for user in members]
    try:
        successor = successor_assignment(nomination=nomination, step=approval_task.step, day=today)
    except errors.NoApprover:
        return []
    people = [*successor.users]
    if successor.on_behalf_of is not None:
        people.append(successor.on_behalf_of)
    options, seen = [], {nomination.nominee.user_id}
    for user in people:
        if user.pk not in seen:
            seen.add(user.pk)
            options.append(ReassignOption(user, unit=successor.unit))
    return options


def sessions_visible_to(user, *, scope=None):
    """The sessions ``may_see_session`` lets ``user`` see, as one queryset: all for an admin or the
    Board; otherwise those they hold a ballot in and those of a council they may convene."""
    scope = scope or user_scope(user)
    sessions = VoteSession.objects.all()
    if scope.user_id is None:
        return sessions.none()
    if scope.is_admin or scope.board:
        return sessions
    staff = {unit_id for unit_id, held in scope.roles.items() if held & set(STAFF_ROLES)}
    convenes = staff | {unit_id for unit_id, parent in scope.tree.parent.items() if parent in staff}
    return sessions.filter(Q(task__owner_id=scope.user_id) | Q(council_unit_id__in=convenes)).distinct()
