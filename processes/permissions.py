"""The one per-object permission module.

Who may see or move a nomination depends on the user's memberships in the organisation tree on
the day, never on a global Django permission: views, admin actions, services and the FSM
``permission=`` callables all ask here, always with the object.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from processes.models import (
    DECIDING_LEVEL_KINDS,
    AwardDecision,
    Consultation,
    Decision,
    DecisionLevel,
    Membership,
    Nomination,
    Nominee,
    OrganisationUnit,
    Role,
    Stage,
    UnitKind,
)
from processes.organisation import OrgTree, memberships_on, today
from workflow.approvals import decisions_for, is_candidate
from workflow.models import ApprovalCandidate, ApprovalTask, StepAction, VoteSession


class Capacity(StrEnum):
    ADMIN = "admin"
    UNIT_HEAD = "unit_head"  # head or deputy of the proposing unit
    UNIT_SECRETARY = "unit_secretary"
    UNIT_MEMBER = "unit_member"
    CHAIN_HEAD = "chain_head"  # head or deputy of a unit above the proposing unit
    CHAIN_STAFF = "chain_staff"  # secretary of a unit above the proposing unit
    BOARD = "board"  # officer of the Emulation and Commendation Board, for city-level forms
    COUNCIL = "council"  # member of the Emulation and Commendation Council, for city-level forms
    DECIDER = "decider"  # head (or deputy, on the head's behalf) of the unit deciding the form
    STEP_HOLDER = "step_holder"  # holds an open approval step of the nomination (a delegate, a stand-in)


C = Capacity
HEAD_ROLES = (Role.HEAD, Role.DEPUTY)
STAFF_ROLES = (Role.HEAD, Role.DEPUTY, Role.SECRETARY)

#: Who spreads an awarded exemplar: sets its replication plan, records the activities with their
#: evidence, and closes its case (with a reason) before the plan is met.
REPLICATION_RULES = frozenset({C.UNIT_HEAD, C.UNIT_SECRETARY, C.BOARD})

#: Transition → capacities allowed to take it. Stage and guard conditions are the FSM's job.
TRANSITION_RULES: dict[str, frozenset[Capacity]] = {
    "start_cultivation": frozenset({C.UNIT_HEAD}),
    "submit": frozenset({C.UNIT_HEAD, C.UNIT_SECRETARY}),
    "submit_simplified": frozenset({C.UNIT_HEAD, C.UNIT_SECRETARY}),
    "resubmit": frozenset({C.UNIT_HEAD, C.UNIT_SECRETARY}),
    "return_for_completion": frozenset({C.UNIT_HEAD, C.CHAIN_HEAD, C.BOARD, C.DECIDER}),
    "reject": frozenset({C.UNIT_HEAD, C.CHAIN_HEAD, C.BOARD, C.DECIDER}),
    "award": frozenset({C.DECIDER}),
    "close": REPLICATION_RULES,
    "withdraw": frozenset({C.UNIT_HEAD}),
}

#: Who may edit the dossier (summary, plan, files) in which stage.
EDIT_RULES: dict[str, frozenset[Capacity]] = {
    Stage.DISCOVER: frozenset({C.UNIT_HEAD, C.UNIT_SECRETARY}),
    Stage.CULTIVATE: frozenset({C.UNIT_HEAD, C.UNIT_SECRETARY}),
    Stage.RETURNED: frozenset({C.UNIT_HEAD, C.UNIT_SECRETARY}),
    # The Board files agency opinion letters during appraisal.
    Stage.SUMMARISE: frozenset({C.BOARD}),
}


@dataclass(frozen=True)
class UserScope:
    """What the tree grants one user on one day, computed once and reused for every object."""

    user_id: int | None
    is_admin: bool
    roles: dict[int, frozenset[str]]  # unit id → roles held there
    staff_units: frozenset[int]  # units (with their subtrees) where the user is head/deputy/secretary
    member_units: frozenset[int]  # units where the user is a plain member
    board: bool
    council: bool
    tree: OrgTree
    holding: frozenset[int] = frozenset()  # nominations with an open approval step this user holds

    def without_holding(self, nomination_id: int) -> UserScope:
        """This scope as it is at least after the user's step on ``nomination_id`` is decided: what it
        grants is a lower bound of the fresh scope (their roles are the same; they may hold its next step)."""
        return replace(self, holding=self.holding - {nomination_id})

    @property
    def city_wide(self) -> bool:
        return self.board or self.council

    @property
    def proposing_unit_ids(self) -> frozenset[int]:
        """Units this user may propose for: where they are head, deputy or secretary."""
        return frozenset(unit_id for unit_id, held in self.roles.items() if held & set(STAFF_ROLES))

    @property
    def may_propose(self) -> bool:
        return self.is_admin or bool(self.proposing_unit_ids)


def user_scope(user, *, day: date | None = None, tree: OrgTree | None = None) -> UserScope:
    day = day or today()
    tree = tree or OrgTree.on(day)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return UserScope(None, False, {}, frozenset(), frozenset(), False, False, tree)
    roles: dict[int, set[str]] = {}
    for unit_id, role in memberships_on(day).filter(user=user).values_list("unit_id", "role"):
        roles.setdefault(unit_id, set()).add(role)
    staff_units: set[int] = set()
    member_units: set[int] = set()
    for unit_id, held in roles.items():
        if held & set(STAFF_ROLES):
            staff_units |= tree.descendants(unit_id)
        else:
            member_units.add(unit_id)
    kinds = {tree.kind.get(unit_id) for unit_id in roles}
    holding = ApprovalCandidate.objects.filter(
        user=user,
        is_open=True,
        approval_task__process__subject_type=ContentType.objects.get_for_model(Nomination),
    ).values_list("approval_task__process__subject_id", flat=True)
    return UserScope(
        user_id=user.pk,
        is_admin=user.is_superuser,
        roles={unit_id: frozenset(held) for unit_id, held in roles.items()},
        staff_units=frozenset(staff_units),
        member_units=frozenset(member_units),
        board=UnitKind.BOARD in kinds,
        council=UnitKind.COUNCIL in kinds,
        tree=tree,
        holding=frozenset(holding),
    )


def _holds(scope: UserScope, unit_id: int | None, wanted) -> bool:
    return unit_id is not None and bool(scope.roles.get(unit_id, frozenset()) & set(wanted))


def deciding_unit_id(nomination: Nomination, tree: OrgTree) -> int | None:
    """The unit whose head decides this nomination's award form."""
    if nomination.award_form.decision_level == DecisionLevel.CITY_CHAIRMAN:
        return tree.nearest_of_kind(nomination.unit_id, (UnitKind.CITY,))
    return tree.nearest_of_kind(nomination.unit_id, DECIDING_LEVEL_KINDS)


def capacities(user, nomination: Nomination, *, scope: UserScope | None = None) -> frozenset[Capacity]:
    scope = scope or user_scope(user)
    if scope.user_id is None:
        return frozenset()
    if nomination.nominee.user_id == scope.user_id:
        # Nobody acts on their own nomination, administrators included; they may still follow it.
        return frozenset({C.UNIT_MEMBER})
    if scope.is_admin:
        return frozenset({C.ADMIN})
    found: set[Capacity] = set()
    if nomination.pk in scope.holding:
        found.add(C.STEP_HOLDER)
    unit_id = nomination.unit_id
    if _holds(scope, unit_id, HEAD_ROLES):
        found.add(C.UNIT_HEAD)
    if _holds(scope, unit_id, (Role.SECRETARY,)):
        found.add(C.UNIT_SECRETARY)
    if _holds(scope, unit_id, (Role.MEMBER,)):
        found.add(C.UNIT_MEMBER)
    ancestors = scope.tree.ancestors(unit_id)
    if any(_holds(scope, ancestor, HEAD_ROLES) for ancestor in ancestors):
        found.add(C.CHAIN_HEAD)
    if any(_holds(scope, ancestor, (Role.SECRETARY,)) for ancestor in ancestors):
        found.add(C.CHAIN_STAFF)
    if _holds(scope, deciding_unit_id(nomination, scope.tree), HEAD_ROLES):
        found.add(C.DECIDER)
    if nomination.award_form.decision_level == DecisionLevel.CITY_CHAIRMAN:
        if scope.board:
            found.add(C.BOARD)
        if scope.council:
            found.add(C.COUNCIL)
    return frozenset(found)


def can_view(user, nomination: Nomination, *, scope: UserScope | None = None) -> bool:
    return bool(capacities(user, nomination, scope=scope))


def can_open_file(user, dossier_file, *, scope: UserScope | None = None) -> bool:
    """Download or preview a dossier file: whoever may see its nomination; a file removed from the
    dossier (or replaced) is kept for the audit, and only an administrator opens it."""
    scope = scope or user_scope(user)
    if dossier_file.removed_at is not None and not scope.is_admin:
        return False
    return can_view(user, dossier_file.nomination, scope=scope)


def can_transition(user, nomination: Nomination, action: str, *, scope: UserScope | None = None) -> bool:
    held = capacities(user, nomination, scope=scope)
    return C.ADMIN in held or bool(held & TRANSITION_RULES.get(action, frozenset()))


def can_edit(user, nomination: Nomination, *, scope: UserScope | None = None) -> bool:
    held = capacities(user, nomination, scope=scope)
    return C.ADMIN in held or bool(held & EDIT_RULES.get(nomination.stage, frozenset()))


def may_record_activity(user, nomination: Nomination, *, scope: UserScope | None = None) -> bool:
    """Set the replication plan of an awarded case and record its dissemination activities: while it is
    in replicate, its proposing unit's head, deputy or secretary, the Board (city-level forms), an admin."""
    if nomination.stage != Stage.REPLICATE:
        return False
    held = capacities(user, nomination, scope=scope)
    return C.ADMIN in held or bool(held & REPLICATION_RULES)


def may_close_replication(user, nomination: Nomination, *, scope: UserScope | None = None) -> bool:
    """Close a case in replicate before its plan is met (with a reason): the same people."""
    return nomination.stage == Stage.REPLICATE and can_transition(user, nomination, "close", scope=scope)


def statistics_units(user, *, scope: UserScope | None = None) -> frozenset[int] | None:
    """The units whose awards ``user`` may count in the annual statistics: None for the whole city (an
    administrator, the Board, the city's leaders), the subtrees a district's or department's head or
    deputy leads, or nothing (an empty set) for everyone else."""
    scope = scope or user_scope(user)
    if scope.user_id is None:
        return frozenset()
    if scope.is_admin or scope.board:
        return None
    led: set[int] = set()
    for unit_id, held in scope.roles.items():
        if held & set(HEAD_ROLES) and scope.tree.kind.get(unit_id) in (UnitKind.CITY, *DECIDING_LEVEL_KINDS):
            if scope.tree.kind.get(unit_id) == UnitKind.CITY:
                return None
            led |= scope.tree.descendants(unit_id)
    return frozenset(led)


def may_see_statistics(user, *, scope: UserScope | None = None) -> bool:
    """The statistics page and workbook: whoever counts something there (``statistics_units``)."""
    return statistics_units(user, scope=scope) != frozenset()


def can_propose_in(user, unit: OrganisationUnit, *, scope: UserScope | None = None) -> bool:
    """Create a nomination proposed by ``unit``: its head, deputy or secretary."""
    scope = scope or user_scope(user)
    return scope.is_admin or unit.pk in scope.proposing_unit_ids


def nominees_proposable_by(user, *, scope: UserScope | None = None) -> QuerySet[Nominee]:
    """The nominees ``user`` may open a nomination for (the new-nomination form's choices): those of the
    units where they are head, deputy or secretary, with the units below; every nominee for an admin."""
    scope = scope or user_scope(user)
    nominees = Nominee.objects.all()
    return nominees if scope.is_admin else nominees.filter(unit_id__in=scope.staff_units)


def nominations_visible_to(user, *, scope: UserScope | None = None) -> QuerySet[Nomination]:
    """The nominations ``user`` may see: the same answer as ``can_view``, as one filter."""
    scope = scope or user_scope(user)
    nominations = Nomination.objects.all()
    if scope.user_id is None:
        return nominations.none()
    if scope.is_admin:
        return nominations
    visible = (
        Q(unit_id__in=scope.staff_units | scope.member_units)
        | Q(nominee__user_id=scope.user_id)
        | Q(pk__in=scope.holding)
    )
    if scope.city_wide:
        visible |= Q(award_form__decision_level=DecisionLevel.CITY_CHAIRMAN)
    # Deciders of unit-level forms sit at or above the proposing unit, so staff_units covers them.
    return nominations.filter(visible)


def may_see_id_numbers(user, *, scope: UserScope | None = None) -> bool:
    """Whole ID numbers in lists and exports: administrators and the Board's officers, who check the
    nominee's identity against earlier awards city-wide; everyone else sees them masked."""
    scope = scope or user_scope(user)
    return scope.user_id is not None and (scope.is_admin or scope.board)


# --- who may decide, reassign, answer, convene: asked by services, screens and the API alike ------


#: How someone may decide an open step: as one of its holders, or as an administrator stepping in
#: for them (with a reason, audited as such, never signing an award).
HOLDER = "holder"
INTERVENTION = "intervention"


def decider_role(user, approval_task: ApprovalTask, nomination: Nomination) -> str | None:
    """``HOLDER``, ``INTERVENTION`` or None. Nobody decides on their own nomination, superusers included."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if nomination.nominee.user_id == user.pk:
        return None
    if is_candidate(approval_task, user):
        return HOLDER
    if user.is_superuser:
        return INTERVENTION
    return None


def decisions_offered(approval_task: ApprovalTask, role: str | None, *, is_last: bool) -> list[str]:
    """The decisions ``role`` may take on the step: an administrator stepping in never signs the award."""
    if role is None:
        return []
    offered = decisions_for(approval_task.step)
    if role == INTERVENTION and is_last:
        offered = [action for action in offered if action != StepAction.APPROVE]
    return offered


def may_reassign(user, approval_task: ApprovalTask) -> bool:
    """An administrator, or a secretary of the step's unit or of a unit above it (the owning level),
    in today's tree or in the tree the case climbs (a unit abolished since has no parent today)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if approval_task.unit_id is None:
        return False
    scope = user_scope(user)
    secretary_of = {unit_id for unit_id, held in scope.roles.items() if Role.SECRETARY in held}
    if not secretary_of:
        return False
    owning = {approval_task.unit_id, *scope.tree.ancestors(approval_task.unit_id)}
    if owning & secretary_of:
        return True
    structure_on = approval_task.process.structure_on
    if structure_on == scope.tree.day:
        return False
    return bool(set(OrgTree.on(structure_on).ancestors(approval_task.unit_id)) & secretary_of)


def may_answer(user, consultation: Consultation) -> bool:
    """The agency's head, deputy or secretary; for an agency with nobody in the tree, a Board officer
    (who records its letter); an administrator always."""
    if user.is_superuser:
        return True
    scope = user_scope(user)
    if consultation.agency_id is not None and scope.roles.get(consultation.agency_id, frozenset()) & set(STAFF_ROLES):
        return True
    agency_staffed = (
        consultation.agency_id is not None
        and Membership.objects.on(timezone.localdate()).filter(unit_id=consultation.agency_id).exists()
    )
    return scope.board and not agency_staffed


def may_open_session(user, council_unit_id: int | None, *, scope=None) -> bool:
    """An administrator, a Board officer (the city council's secretariat), or the head, a deputy or the
    secretary of the council's unit or of the unit it belongs to (a department's own council)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    scope = scope or user_scope(user)
    if scope.board:
        return True
    if council_unit_id is None:
        return False
    owners = {council_unit_id, scope.tree.parent.get(council_unit_id)}
    return any(scope.roles.get(unit_id, frozenset()) & set(STAFF_ROLES) for unit_id in owners if unit_id)


def may_see_session(user, session: VoteSession) -> bool:
    """Its members (they hold a ballot task), the Board, and whoever may convene that council."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    scope = user_scope(user)
    return (
        scope.is_admin
        or scope.board
        or session.task_set.filter(owner=user).exists()
        or may_open_session(user, session.council_unit_id, scope=scope)
    )


# --- the dashboard -------------------------------------------------------------------------------


def may_see_dashboard(user, *, scope: UserScope | None = None) -> bool:
    """Secretaries, the Board and leaders: an administrator, a Board officer, or the head, a deputy or
    the secretary of some unit (the city's chairman and vice-chairmen included)."""
    scope = scope or user_scope(user)
    return scope.user_id is not None and (scope.is_admin or scope.board or bool(scope.staff_units))


def dashboard_nominations(user, *, scope: UserScope | None = None) -> QuerySet[Nomination]:
    """The nominations the dashboard counts for ``user``: of those they may see, the ones of the units
    they lead or serve as secretary (with the units below), and for the Board the city-level forms.

    A case seen only because its viewer holds one of its steps (a delegate) or is its nominee is left out:
    the figures are a unit's figures, and a head of one unit never sees another unit's."""
    scope = scope or user_scope(user)
    if not may_see_dashboard(user, scope=scope):
        return Nomination.objects.none()
    visible = nominations_visible_to(user, scope=scope)
    if scope.is_admin:
        return visible
    counted = Q(unit_id__in=scope.staff_units)
    if scope.board:
        counted |= Q(award_form__decision_level=DecisionLevel.CITY_CHAIRMAN)
    return visible.filter(counted)


# --- signed award decisions ------------------------------------------------------------------------


def decisions_visible_to(user, *, scope: UserScope | None = None) -> QuerySet[AwardDecision]:
    """The numbered decisions ``user`` may open: those listing an awardee whose case they may see."""
    visible = nominations_visible_to(user, scope=scope)
    return AwardDecision.objects.filter(
        Exists(Decision.objects.filter(document=OuterRef("pk"), nomination__in=visible.values("pk")))
    )


def may_see_decision(user, decision: AwardDecision, *, scope: UserScope | None = None) -> bool:
    return decisions_visible_to(user, scope=scope).filter(pk=decision.pk).exists()
