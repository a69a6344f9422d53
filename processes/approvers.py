"""Which template a case walks, and who approves each of its steps.

The engine (``workflow``) knows steps only by their approver rule and parameter; this module reads
them against the organisation. Two dates matter, on purpose:

- ``structure_on``: the tree a case climbs is the one of its start date, so a reorganisation
  never re-routes a case under way (``OrgTree.on(structure_on)``);
- ``people_on``: who holds each role is read on the day the task is made, so a new head
  appointed mid-case gets the next task, not the one who left.

Rules (``processes.choices.ApproverRule``) and their parameter:

- ``subject_unit_head``: the head of the proposing unit (``nomination.unit``); no parameter.
- ``ancestor_head``: the head of the nearest unit *above* the proposing unit (the unit itself is
  never taken) whose kind is one of the comma-separated kinds, e.g. ``department,district``.
- ``unit_members``: every member, whatever the role, of a group of units; the parameter is
  unit kinds (``board``: every unit of those kinds in the tree that day), unit codes
  (``HP.SNV.BTDKT``), or ``above:`` and kinds (``above:department,district,commune``: the
  nearest unit of those kinds above the proposing unit, e.g. the deciding level).
- ``council``: the members of a council unit. Blank: the city's council (a council unit directly
  under the city). Kinds: the council of the nearest unit of those kinds above the proposing unit.
- ``city_chairman``: the chairman (head of the city unit) first, then the vice-chairmen (the city's
  deputies), who customarily sign on the chairman's behalf; the decision records who signed and
  whether on the chairman's behalf.

Nobody decides on their own nomination: a head who is the nominee's user is replaced by the unit's
deputy, failing that by the parent unit's head, with ``on_behalf_of`` set to the head; groups
simply lose that member. A head with a delegation in force on ``people_on`` is replaced by the
delegate, ``on_behalf_of`` the head. Nobody found: ``errors.NoApprover`` naming the unit and rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from processes import errors
from processes.choices import ApproverRule
from processes.models import (
    DECIDING_LEVEL_KINDS,
    ChainAssignment,
    Delegation,
    Membership,
    Nomination,
    OrganisationUnit,
    Role,
    UnitKind,
)
from processes.organisation import OrgTree
from workflow.models import ProcessTemplate

ABOVE_PREFIX = "above:"
#: The order in which a group's members are listed: who leads the unit first.
ROLE_ORDER = {Role.HEAD: 0, Role.DEPUTY: 1, Role.SECRETARY: 2, Role.MEMBER: 3}


@dataclass
class Assignment:
    """Who holds one step of one case.

    ``users``: one user for a head rule, several for a group (any of them may act; for the city
    chairman, the chairman first). ``unit``: the unit the step belongs to. ``on_behalf_of``: the
    head when a delegate or a stand-in acts for them. ``reason``: how the answer was reached, for
    the audit entry.
    """

    users: list = field(default_factory=list)
    unit: OrganisationUnit | None = None
    on_behalf_of: object | None = None
    reason: str = ""


# --- which template ----------------------------------------------------------------------------


def template_for(*, nomination: Nomination) -> ProcessTemplate:
    """The template assigned to the nomination's award form: its procedure's row, else the form's default."""
    rows = {
        row.procedure: row.template
        for row in ChainAssignment.objects.filter(
            award_form_id=nomination.award_form_id, procedure__in=[nomination.procedure, ""]
        ).select_related("template")
    }
    template = rows.get(nomination.procedure) or rows.get("")
    if template is None:
        raise errors.NoChain(
            _("No approval chain is assigned to “%(form)s” for the procedure “%(procedure)s”.")
            % {"form": nomination.award_form, "procedure": nomination.get_procedure_display()}
        )
    return template


# --- who approves ------------------------------------------------------------------------------


class _Resolver:
    def __init__(self, *, nomination: Nomination, step, tree: OrgTree, people_on: date):
        self.nomination = nomination
        self.rule = step.approver_rule
        self.param = (step.approver_param or "").strip()
        self.tree = tree
        self.people_on = people_on
        self.nominee_user_id = nomination.nominee.user_id
        self._units: dict[int, OrganisationUnit] = {}
        self._deputies: dict[int, list] = {}

    # -- reads ----------------------------------------------------------------------------------

    def unit(self, unit_id: int) -> OrganisationUnit:
        unit = self.tree.units.get(unit_id) or self._units.get(unit_id)
        if unit is None:
            unit = self._units[unit_id] = OrganisationUnit.objects.get(pk=unit_id)
        return unit

    def memberships(self, unit_ids, roles=None):
        rows = Membership.objects.on(self.people_on).filter(unit_id__in=unit_ids, user__is_active=True)
        if roles is not None:
            rows = rows.filter(role__in=roles)
        return rows.select_related("user").order_by("valid_from", "pk")

    def head_of(self, unit_id: int):
        membership = self.memberships([unit_id], [Role.HEAD]).first()
        return membership.user if membership else None

    def deputies_of(self, unit_id: int) -> list:
        if unit_id in self._deputies:
            return self._deputies[unit_id]
        return [
            membership.user
            for membership in self.memberships([unit_id], [Role.DEPUTY])
            if membership.user_id != self.nominee_user_id
        ]

    def kinds(self) -> tuple[str, ...]:
        kinds = tuple(part.strip() for part in self.param.removeprefix(ABOVE_PREFIX).split(",") if part.strip())
        unknown = sorted(set(kinds) - set(UnitKind.values))
        if not kinds or unknown:
            raise errors.NoApprover(
                _("The approver parameter “%(param)s” of the rule “%(rule)s” names no known unit kind.")
                % {"param": self.param, "rule": self.rule},
                unit=self.nomination.unit,
                rule=self.rule,
            )
        return kinds

    def above(self, kinds) -> int:
        unit_id = self.tree.nearest_of_kind(self.nomination.unit_id, kinds, include_self=False)
        if unit_id is None:
            raise errors.NoApprover(unit=self.nomination.unit, rule=self.rule)
        return unit_id

    # -- rules ----------------------------------------------------------------------------------

    def resolve(self) -> Assignment:
        if self.rule == ApproverRule.SUBJECT_UNIT_HEAD:
            return self.head_assignment(self.nomination.unit_id)
        if self.rule == ApproverRule.ANCESTOR_HEAD:
            return self.head_assignment(self.above(self.kinds()))
        if self.rule == ApproverRule.UNIT_MEMBERS:
            return self.group_assignment(self.member_units())
        if self.rule == ApproverRule.COUNCIL:
            return self.group_assignment(self.council_units())
        if self.rule == ApproverRule.CITY_CHAIRMAN:
            return self.chairman_assignment()
        raise errors.NoApprover(unit=self.nomination.unit, rule=self.rule)

    def head_membership(self, unit_id: int, *, with_deputies: bool = False) -> Membership | None:
        """The unit's head that day, with the id of their delegation in force (``delegation_id``), in
        one query: most steps go to a head, and most heads have no stand-in. ``with_deputies``: the
        same query reads the deputies (kept for ``deputies_of``), for a step any of them may sign."""
        still_there = Membership.objects.on(self.people_on).filter(unit_id=unit_id).values("user_id")
        delegation = (
            Delegation.objects.on(self.people_on)
            .filter(
                delegator_id=OuterRef("user_id"),
                unit_id=unit_id,
                delegate_id__in=still_there,
                delegate__is_active=True,
            )
            .exclude(delegate_id=self.nominee_user_id)
            .order_by("-valid_from", "-pk")
            .values("pk")[:1]
        )
        roles = [Role.HEAD, Role.DEPUTY] if with_deputies else [Role.HEAD]
        rows = list(self.memberships([unit_id], roles).annotate(delegation_id=Subquery(delegation)))
        if with_deputies:
            self._deputies[unit_id] = [
                row.user for row in rows if row.role == Role.DEPUTY and row.user_id != self.nominee_user_id
            ]
        return next((row for row in rows if row.role == Role.HEAD), None)

    def head_assignment(self, unit_id: int, *, with_deputies: bool = False) -> Assignment:
        unit = self.unit(unit_id)
        membership = self.head_membership(unit_id, with_deputies=with_deputies)
        if membership is None:
            raise errors.NoApprover(unit=unit, rule=self.rule)
        head = membership.user
        if head.pk != self.nominee_user_id:
            delegation = (
                Delegation.objects.select_related("delegate").get(pk=membership.delegation_id)
                if membership.delegation_id
                else None
            )
            if delegation is not None:
                return Assignment(
                    users=[delegation.delegate],
                    unit=unit,
                    on_behalf_of=head,
                    reason=(
                        f"{self.rule}: {head.get_username()} heads {unit.code}; delegation #{delegation.pk} "
                        f"to {delegation.delegate.get_username()} in force on {self.people_on.isoformat()}"
                    ),
                )
            return Assignment(users=[head], unit=unit, reason=f"{self.rule}: head of {unit.code}")
        # The head is the nominee: the deputy, failing that the parent unit's head, acts instead.
        deputies = self.deputies_of(unit_id)
        if deputies:
            return Assignment(
                users=[deputies[0]],
                unit=unit,
                on_behalf_of=head,
                reason=f"{self.rule}: the head of {unit.code} is the nominee; the deputy decides",
            )
        parent_id = self.tree.parent.get(unit_id)
        parent_head = self.head_of(parent_id) if parent_id else None
        if parent_head is not None and parent_head.pk != self.nominee_user_id:
            return Assignment(
                users=[parent_head],
                unit=unit,
                on_behalf_of=head,
                reason=(
                    f"{self.rule}: the head of {unit.code} is the nominee and has no deputy; "
                    f"the head of {self.unit(parent_id).code} decides"
                ),
            )
        raise errors.NoApprover(unit=unit, rule=self.rule)

    def member_units(self) -> list[int]:
        if self.param.startswith(ABOVE_PREFIX):
            return [self.above(self.kinds())]
        items = [part.strip() for part in self.param.split(",") if part.strip()]
        if items and set(items) <= set(UnitKind.values):
            present = set(self.tree.parent) | set(self.tree.parent.values())
            units = sorted(unit_id for unit_id in present if self.tree.kind.get(unit_id) in items)
        else:
            units = list(OrganisationUnit.objects.filter(code__in=items).order_by("code").values_list("pk", flat=True))
        if not units:
            raise errors.NoApprover(
                _("No unit matches “%(param)s” for the rule “%(rule)s”.") % {"param": self.param, "rule": self.rule},
                unit=self.nomination.unit,
                rule=self.rule,
            )
        return units

    def council_units(self) -> list[int]:
        if self.param:
            level = self.above(self.kinds())
        else:
            level = self.tree.nearest_of_kind(self.nomination.unit_id, (UnitKind.CITY,))
        councils = sorted(
            unit_id
            for unit_id, parent_id in self.tree.parent.items()
            if parent_id == level and self.tree.kind.get(unit_id) == UnitKind.COUNCIL
        )
        if not councils:
            raise errors.NoApprover(
                unit=self.unit(level) if level else self.nomination.unit,
                rule=self.rule,
            )
        return councils

    def group_assignment(self, unit_ids: list[int]) -> Assignment:
        rows = sorted(self.memberships(unit_ids), key=lambda row: (ROLE_ORDER.get(row.role, 9), row.user_id))
        users, seen = [], set()
        dropped = False
        for row in rows:
            if row.user_id == self.nominee_user_id:
                dropped = True
                continue
            if row.user_id not in seen:
                seen.add(row.user_id)
                users.append(row.user)
        unit = self.unit(unit_ids[0])
        if not users:
            raise errors.NoApprover(unit=unit, rule=self.rule)
        codes = ", ".join(self.unit(unit_id).code for unit_id in unit_ids)
        reason = f"{self.rule}: members of {codes}"
        if dropped:
            reason += "; the nominee is left out of the group"
        return Assignment(users=users, unit=unit, reason=reason)

    def chairman_assignment(self) -> Assignment:
        city_id = self.tree.nearest_of_kind(self.nomination.unit_id, (UnitKind.CITY,))
        if city_id is None:
            raise errors.NoApprover(unit=self.nomination.unit, rule=self.rule)
        assignment = self.head_assignment(city_id, with_deputies=True)
        listed = {user.pk for user in assignment.users}
        vice = [user for user in self._deputies.get(city_id, []) if user.pk not in listed]
        assignment.users += vice
        if vice:
            assignment.reason += "; the vice-chairmen may sign on the chairman's behalf"
        return assignment


def resolve_approvers(
    *, nomination: Nomination, step, structure_on: date, people_on: date, tree: OrgTree | None = None
) -> Assignment:
    """Who holds ``step`` (a ``workflow.TemplateStep``) of ``nomination``.

    ``tree`` may be passed when it is already loaded for ``structure_on``. Raises
    ``errors.NoApprover`` when nobody holds the role.
    """
    tree = tree if tree is not None and tree.day == structure_on else OrgTree.on(structure_on)
    return _Resolver(nomination=nomination, step=step, tree=tree, people_on=people_on).resolve()


def eligible_for_reassignment(
    *, nomination: Nomination, step, structure_on: date, people_on: date, tree: OrgTree | None = None
) -> list:
    """Who may be given the step instead: its resolved users, the head they stand in for, and the
    unit's deputies; never the nominee. A unit left without a head still offers its deputies."""
    tree = tree if tree is not None and tree.day == structure_on else OrgTree.on(structure_on)
    resolver = _Resolver(nomination=nomination, step=step, tree=tree, people_on=people_on)
    try:
        assignment = resolver.resolve()
    except errors.NoApprover as exc:
        if exc.unit is None:
            raise
        assignment = Assignment(users=[], unit=exc.unit)
        deputies = resolver.deputies_of(exc.unit.pk)
        if not deputies:
            raise
    candidates = [*assignment.users]
    if assignment.on_behalf_of is not None:
        candidates.append(assignment.on_behalf_of)
    candidates += resolver.deputies_of(assignment.unit.pk)
    eligible, seen = [], set()
    for user in candidates:
        if user.pk != resolver.nominee_user_id and user.pk not in seen:
            seen.add(user.pk)
            eligible.append(user)
    return eligible


def successor_assignment(*, nomination: Nomination, step, day: date, tree: OrgTree | None = None) -> Assignment:
    """Who holds ``step`` on ``day`` over that day's tree, for a step nobody can hold any more (its unit
    was abolished or merged in a reorganisation): the same rule in the successor unit.

    The rule is read again over the tree of ``day``; when it names levels (kinds) that no longer
    stand above the proposing unit, the nearest unit of any deciding level above it takes their
    place (the 2025 reform gave the district's powers to the commune). Raises ``errors.NoApprover``.
    """
    tree = tree if tree is not None and tree.day == day else OrgTree.on(day)
    resolver = _Resolver(nomination=nomination, step=step, tree=tree, people_on=day)
    try:
        return resolver.resolve()
    except errors.NoApprover:
        if not resolver.param or resolver.rule not in (
            ApproverRule.ANCESTOR_HEAD,
            ApproverRule.UNIT_MEMBERS,
            ApproverRule.COUNCIL,
        ):
            raise
        prefix = ABOVE_PREFIX if resolver.param.startswith(ABOVE_PREFIX) else ""
        if resolver.rule == ApproverRule.UNIT_MEMBERS and not prefix:
            raise  # a group named by unit codes or kinds has no level to widen
        resolver.param = prefix + ",".join(DECIDING_LEVEL_KINDS)
        return resolver.resolve()
