"""A user's work in one list ("My work"): the steps they hold, their council ballots, the opinions asked
of their agency, the stage moves they may make, the returned cases to complete and, for secretaries,
the steps nobody holds in their remit; sorted by due time, each with its badge.

Every kind of row is one query whatever its size (plus the user's scope and the calendar), and the
count in the menu (``my_work_count``) asks the same questions as counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes.choices import Procedure
from processes.models import DecisionLevel, Nomination, Role
from processes.permissions import (
    HEAD_ROLES,
    STAFF_ROLES,
    TRANSITION_RULES,
    C,
    UserScope,
    nominations_visible_to,
    user_scope,
)
from processes.selectors.work import consultations_open_for
from workflow.approvals import inbox
from workflow.calendar import END_OF_DAY, working_calendar
from workflow.models import ApprovalCandidate, ApprovalTask, StepAction, StepKind, TemplateStep
from workflow.voting import open_ballots

#: At most this many rows of each kind; the rest is reached through the paged lists.
LIMIT = 300
#: "Due soon" when a row has no reminder of its own: this many working days before its due time.
DUE_SOON_WORKING_DAYS = 2

#: The stage moves offered on My work, in the order tried for a case (one row per case).
STAGE_MOVES = ("start_cultivation", "submit_simplified", "submit", "close")
#: A returned case is completed and resubmitted: its own kind of row.
RESUBMIT = "resubmit"


class Kind(StrEnum):
    STEP = "step"
    BALLOT = "ballot"
    CONSULTATION = "consultation"
    MOVE = "move"
    RETURNED = "returned"
    UNHELD = "unheld"


class Badge(StrEnum):
    ON_TIME = "on-time"
    DUE_SOON = "due-soon"
    OVERDUE = "overdue"


BADGE_LABELS = {
    Badge.ON_TIME: _("On time"),
    Badge.DUE_SOON: _("Due soon"),
    Badge.OVERDUE: _("Overdue"),
}

MOVE_LABELS = {
    "start_cultivation": _("Start cultivation"),
    "submit_simplified": _("Submit (simplified procedure)"),
    "submit": _("Submit for approval"),
    # The replicate stage's work: record the activities that spread the exemplar (the case closes when
    # its plan is met) or close it with a reason; both on the case page's replication section.
    "close": _("Spread the exemplar or close the case"),
    RESUBMIT: _("Complete and resubmit the returned case"),
}


@dataclass
class WorkItem:
    kind: Kind
    what: str
    case: str  # the nominee's name, or the session's title
    url: str
    unit: str
    due_at: datetime | None
    key: int  # the row's own id (task, session, consultation, nomination), for a stable order
    badge: Badge | None = None
    task: ApprovalTask | None = None
    version: int | None = None
    bulk: bool = False  # an approval step the user may approve with others

    @property
    def badge_label(self):
        return BADGE_LABELS[self.badge] if self.badge else ""

    @property
    def bulk_value(self) -> str:
        return f"{self.task.pk}:{self.version}" if self.bulk else ""


@dataclass
class MyWork:
    rows: list[WorkItem] = field(default_factory=list)
    truncated: bool = False
    signing: bool = False  # the user holds a signing step: the signing page is for them

    @property
    def bulk(self) -> bool:
        return any(row.bulk for row in self.rows)


# --- who may do what, as sets of units (the same rules as ``permissions.capacities``) ---------------


def _units_with(scope: UserScope, roles) -> set[int]:
    return {unit_id for unit_id, held in scope.roles.items() if held & set(roles)}


def _unit_rule(scope: UserScope, capacities) -> Q | None:
    """The nominations on which ``scope`` holds one of ``capacities`` (those a stage move names):
    head or secretary of the proposing unit, the Board for city-level forms."""
    units: set[int] = set()
    if C.UNIT_HEAD in capacities:
        units |= _units_with(scope, HEAD_ROLES)
    if C.UNIT_SECRETARY in capacities:
        units |= _units_with(scope, (Role.SECRETARY,))
    rule = Q(unit_id__in=units) if units else None
    if C.BOARD in capacities and scope.board:
        board = Q(award_form__decision_level=DecisionLevel.CITY_CHAIRMAN)
        rule = board if rule is None else rule | board
    return rule


def _move_rules(scope: UserScope) -> dict[str, Q]:
    """Stage move → the nominations on which ``scope`` may take it: its source stages (the FSM's),
    the procedure it belongs to, and who may (``TRANSITION_RULES``)."""
    rules = {}
    for name in (*STAGE_MOVES, RESUBMIT):
        who = _unit_rule(scope, TRANSITION_RULES[name])
        if who is None:
            continue
        sources = list(getattr(Nomination, name)._django_fsm.transitions)
        rule = Q(stage__in=sources) & who
        if name == "start_cultivation":
            rule &= ~Q(procedure=Procedure.AD_HOC)
        elif name == "submit_simplified":
            rule &= Q(procedure=Procedure.AD_HOC)
        rules[name] = rule
    return rules


def _move_of(nomination: Nomination, scope: UserScope) -> str | None:
    """The move a case of the stage-move query offers (the same rules, in memory)."""
    heads, secretaries = _units_with(scope, HEAD_ROLES), _units_with(scope, (Role.SECRETARY,))
    for name in (*STAGE_MOVES, RESUBMIT):
        if nomination.stage not in getattr(Nomination, name)._django_fsm.transitions:
            continue
        if name == "start_cultivation" and nomination.procedure == Procedure.AD_HOC:
            continue
        if name == "submit_simplified" and nomination.procedure != Procedure.AD_HOC:
            continue
        allowed = TRANSITION_RULES[name]
        if (
            (C.UNIT_HEAD in allowed and nomination.unit_id in heads)
            or (C.UNIT_SECRETARY in allowed and nomination.unit_id in secretaries)
            or (
                C.BOARD in allowed
                and scope.board
                and nomination.award_form.decision_level == DecisionLevel.CITY_CHAIRMAN
            )
        ):
            return name
    return None


def _moves(user, scope: UserScope):
    """The cases waiting for a stage move (or a resubmission) by ``user``: a queryset, or None."""
    rules = list(_move_rules(scope).values())
    if not rules:
        return None
    wanted = rules[0]
    for rule in rules[1:]:
        wanted |= rule
    # Nobody moves their own nomination (``capacities`` gives its nominee no capacity to act).
    return nominations_visible_to(user, scope=scope).filter(wanted).exclude(nominee__user_id=scope.user_id)


def _remit(scope: UserScope) -> set[int]:
    """The units whose steps a secretary watches (``may_reassign``): theirs and every unit below."""
    units: set[int] = set()
    for unit_id in _units_with(scope, (Role.SECRETARY,)):
        units |= scope.tree.descendants(unit_id)
    return units


def _unheld(scope: UserScope):
    """Open decision steps in the secretary's remit that nobody holds: a queryset, or None."""
    remit = _remit(scope)
    if not remit:
        return None
    return (
        ApprovalTask.objects.filter(
            closed_at__isnull=True,
            unit_id__in=remit,
            step__kind=StepKind.DECISION,
            process__subject_type=ContentType.objects.get_for_model(Nomination),
        )
        .annotate(held=Exists(ApprovalCandidate.objects.filter(approval_task=OuterRef("pk"), is_open=True)))
        .filter(held=False)
    )


def _consultations(scope: UserScope):
    return consultations_open_for(scope) if _units_with(scope, STAFF_ROLES) else None


# --- the list ------------------------------------------------------------------------------------


def _end_of(day) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=timezone.get_default_timezone())


def signing_steps(version_ids) -> set[int]:
    """Steps that may be the last of their version (no later step that always applies): approving one
    signs the award, which is done on a numbered decision (the signing page), never in bulk."""
    by_version: dict[int, list[TemplateStep]] = {}
    for step in TemplateStep.objects.filter(version_id__in=version_ids).only(
        "id", "version_id", "position", "condition"
    ):
        by_version.setdefault(step.version_id, []).append(step)
    signing = set()
    for steps in by_version.values():
        for step in steps:
            if not any(later.position > step.position and not later.condition for later in steps):
                signing.add(step.pk)
    return signing


def my_work(user, *, scope: UserScope | None = None, now: datetime | None = None) -> MyWork:
    """Everything waiting for ``user``, soonest due first (rows without a due time last)."""
    scope = scope or user_scope(user)
    work = MyWork()
    if scope.user_id is None:
        return work
    now = now or timezone.now()
    nomination_ct = ContentType.objects.get_for_model(Nomination)

    # Steps they hold, and (for secretaries) steps nobody holds in their remit.
    # A vote step's holders have a ballot once a session opens (a row of its own), nothing before.
    held = [
        candidate.approval_task
        for candidate in inbox(user).exclude(approval_task__step__kind=StepKind.VOTE)[: LIMIT + 1]
    ]
    unheld_rows = _unheld(scope)
    unheld = (
        list(unheld_rows.select_related("step", "process").order_by("due_at", "pk")[: LIMIT + 1])
        if unheld_rows is not None
        else []
    )
    work.truncated |= len(held) > LIMIT or len(unheld) > LIMIT
    held, unheld = held[:LIMIT], unheld[:LIMIT]
    steps = held + unheld
    nominations = Nomination.objects.select_related("nominee", "unit").in_bulk(
        {task.process.subject_id for task in steps if task.process.subject_type_id == nomination_ct.pk}
    )
    signing = signing_steps({task.process.version_id for task in held})
    for task in held:
        nomination = nominations.get(task.process.subject_id)
        if nomination is None:
            continue
        what = task.step.name
        if task.on_behalf_of_id:
            head = task.on_behalf_of
            what = _("%(step)s (on behalf of %(head)s)") % {
                "step": what,
                "head": head.get_full_name() or head.get_username(),
            }
        decides = (
            task.step.kind == StepKind.DECISION
            and StepAction.APPROVE in task.step.actions
            and nomination.nominee.user_id != scope.user_id
        )
        approvable = decides and task.step_id not in signing
        work.signing |= decides and task.step_id in signing
        work.rows.append(
            WorkItem(
                kind=Kind.STEP,
                what=what,
                case=nomination.nominee.name,
                url=reverse("processes:nomination-detail", args=[nomination.pk]),
                unit=nomination.unit.name,
                due_at=task.due_at,
                key=task.pk,
                task=task,
                version=nomination.version,
                bulk=approvable,
            )
        )
    for task in unheld:
        nomination = nominations.get(task.process.subject_id)
        if nomination is None:
            continue
        work.rows.append(
            WorkItem(
                kind=Kind.UNHELD,
                what=_("Nobody holds “%(step)s”: give it to someone") % {"step": task.step.name},
                case=nomination.nominee.name,
                url=reverse("processes:nomination-detail", args=[nomination.pk]),
                unit=task.unit_label or nomination.unit.name,
                due_at=task.due_at,
                key=task.pk,
                task=task,
            )
        )

    for session in open_ballots(user):
        work.rows.append(
            WorkItem(
                kind=Kind.BALLOT,
                what=_("Cast your ballot"),
                case=session.title,
                url=reverse("processes:council-session", args=[session.pk]),
                unit=session.council_label,
                due_at=session.closes_at,
                key=session.pk,
            )
        )

    consultations = _consultations(scope)
    if consultations is not None:
        found = list(consultations.select_related("nomination__nominee").order_by("due_at", "pk")[: LIMIT + 1])
        work.truncated |= len(found) > LIMIT
        for consultation in found[:LIMIT]:
            work.rows.append(
                WorkItem(
                    kind=Kind.CONSULTATION,
                    what=_("Give your agency's opinion"),
                    case=consultation.nomination.nominee.name,
                    url=reverse("processes:consultation", args=[consultation.pk]),
                    unit=consultation.agency_name,
                    due_at=consultation.due_at,
                    key=consultation.pk,
                )
            )

    moves = _moves(user, scope)
    if moves is not None:
        found = list(moves.select_related("nominee", "unit", "award_form", "campaign").order_by("pk")[: LIMIT + 1])
        work.truncated |= len(found) > LIMIT
        for nomination in found[:LIMIT]:
            move = _move_of(nomination, scope)
            if move is None:
                continue
            # Before the campaign's deadline for submissions; closing a case has no deadline.
            due = _end_of(nomination.campaign.submission_deadline) if move != "close" else None
            work.rows.append(
                WorkItem(
                    kind=Kind.RETURNED if move == RESUBMIT else Kind.MOVE,
                    what=MOVE_LABELS[move],
                    case=nomination.nominee.name,
                    url=reverse("processes:nomination-detail", args=[nomination.pk])
                    + ("#replication" if move == "close" else ""),
                    unit=nomination.unit.name,
                    due_at=due,
                    key=nomination.pk,
                )
            )

    calendar = working_calendar()
    today = timezone.localdate(now)
    for row in work.rows:
        row.badge = badge_of(row, now=now, today=today, calendar=calendar)
    kinds = list(Kind)
    work.rows.sort(key=lambda row: (row.due_at is None, row.due_at or now, kinds.index(row.kind), row.key))
    return work


def badge_of(row: WorkItem, *, now: datetime, today, calendar) -> Badge | None:
    """Overdue past the due time; due soon from the day of the step's first reminder (the most working
    days before), else from ``DUE_SOON_WORKING_DAYS`` working days before; on time before that."""
    if row.due_at is None:
        return None
    if row.due_at < now:
        return Badge.OVERDUE
    offsets = [offset for offset in (row.task.step.reminder_offsets if row.task else []) if isinstance(offset, int)]
    ahead = max(offsets, default=DUE_SOON_WORKING_DAYS)
    if today >= calendar.working_days_before(row.due_at, ahead):
        return Badge.DUE_SOON
    return Badge.ON_TIME


def my_work_count(user, *, scope: UserScope | None = None) -> int:
    """How many rows ``my_work`` shows ``user``, counted by the same questions (one count each)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    scope = scope or user_scope(user)
    if scope.user_id is None:
        return 0
    nomination_ct = ContentType.objects.get_for_model(Nomination)
    counts = [
        min(
            ApprovalCandidate.objects.filter(
                user=user, is_open=True, approval_task__process__subject_type=nomination_ct
            )
            .exclude(approval_task__step__kind=StepKind.VOTE)
            .count(),
            LIMIT,
        ),
        len(open_ballots(user)),
    ]
    for rows in (_unheld(scope), _consultations(scope), _moves(user, scope)):
        if rows is not None:
            counts.append(min(rows.count(), LIMIT))
    return sum(counts)
