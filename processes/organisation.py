"""Reads over the dated organisation tree: who is whose parent, and who holds a role, on a day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from processes.models import Membership, OrganisationUnit, Role, UnitLink


def today() -> date:
    return timezone.localdate()


#: Trees already read, by day, inside ``organisation_unchanged()``; None outside it.
_trees: ContextVar[dict[date, OrgTree] | None] = ContextVar("org_trees", default=None)


@contextmanager
def organisation_unchanged() -> Iterator[None]:
    """Read each day's tree once, for a batch of work that changes no unit and no parent link (the
    demo's stories ask for the same tree thousands of times). Outside it, every read is fresh."""
    token = _trees.set({})
    try:
        yield
    finally:
        _trees.reset(token)


@dataclass
class OrgTree:
    """The tree as it stood on one day, loaded in two queries and walked in memory."""

    day: date
    parent: dict[int, int]
    kind: dict[int, str]
    _children: dict[int, list[int]] | None = field(default=None, repr=False)

    @classmethod
    def on(cls, day: date | None = None) -> OrgTree:
        day = day or today()
        trees = _trees.get()
        if trees is not None and day in trees:
            return trees[day]
        parent = dict(UnitLink.objects.on(day).values_list("unit_id", "parent_id"))
        kind = dict(OrganisationUnit.objects.values_list("id", "kind"))
        tree = cls(day=day, parent=parent, kind=kind)
        if trees is not None:
            trees[day] = tree
        return tree

    def ancestors(self, unit_id: int) -> list[int]:
        """Nearest first, without ``unit_id`` itself."""
        chain, seen = [], {unit_id}
        current = self.parent.get(unit_id)
        while current is not None and current not in seen:
            chain.append(current)
            seen.add(current)
            current = self.parent.get(current)
        return chain

    def descendants(self, unit_id: int) -> set[int]:
        """``unit_id`` and every unit below it."""
        if self._children is None:
            children = defaultdict(list)
            for child, parent in self.parent.items():
                children[parent].append(child)
            self._children = children
        found, stack = {unit_id}, [unit_id]
        while stack:
            for child in self._children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found

    def nearest_of_kind(self, unit_id: int, kinds, *, include_self: bool = True) -> int | None:
        candidates = ([unit_id] if include_self else []) + self.ancestors(unit_id)
        return next((unit for unit in candidates if self.kind.get(unit) in kinds), None)


def memberships_on(day: date | None = None):
    return Membership.objects.on(day or today())


def unit_head_on(unit, day: date | None = None):
    """The one user who headed ``unit`` on ``day``, or None. Overlaps are refused on write."""
    membership = (
        memberships_on(day).filter(unit=unit, role=Role.HEAD).select_related("user").order_by("valid_from").first()
    )
    return membership.user if membership else None
