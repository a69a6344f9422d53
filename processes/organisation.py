"""Reads over the dated organisation tree: who is whose parent, and who holds a role, on a day."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from time import monotonic

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_migrate, post_save
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


# --- the process-wide cache of trees -----------------------------------------------------------------
#
# Every new step asks the tree of its case's start date, and every page the tree of today: both are
# kept per day in this process. Saving or deleting a unit or a parent link here drops them at once
# (and again at commit); other processes (the worker, the other web workers) read them again within
# ORGANISATION_CACHE_SECONDS, as they do the working calendar. A tree read inside a transaction that
# itself changed units or links is not kept, since a rollback would leave it wrong.

DEFAULT_CACHE_SECONDS = 60
_cache: dict[date, tuple[OrgTree, float]] = {}
_generation = 0
_lock = threading.Lock()


def _writing_transaction() -> bool:
    """Whether the transaction now open has changed units or links itself."""
    blocks = connection.atomic_blocks
    return bool(blocks) and getattr(connection, "_organisation_changed_in", None) == id(blocks[0])


def clear_tree_cache() -> None:
    global _generation
    with _lock:
        _generation += 1
        _cache.clear()


def _organisation_changed(sender, using=None, **kwargs):
    clear_tree_cache()
    if connection.atomic_blocks:
        connection._organisation_changed_in = id(connection.atomic_blocks[0])
        transaction.on_commit(clear_tree_cache, using=using)


for _model in (OrganisationUnit, UnitLink):
    post_save.connect(_organisation_changed, sender=_model, dispatch_uid=f"org_tree_saved_{_model.__name__}")
    post_delete.connect(_organisation_changed, sender=_model, dispatch_uid=f"org_tree_deleted_{_model.__name__}")
post_migrate.connect(lambda **kwargs: clear_tree_cache(), dispatch_uid="org_tree_database_reset", weak=False)


@dataclass
class OrgTree:
    """The tree as it stood on one day, loaded in two queries, kept per day (above) and walked in
    memory; with each unit's code, name and kind (``units``)."""

    day: date
    parent: dict[int, int]
    kind: dict[int, str]
    units: dict[int, OrganisationUnit] = field(default_factory=dict, repr=False)
    _children: dict[int, list[int]] | None = field(default=None, repr=False)

    @classmethod
    def on(cls, day: date | None = None) -> OrgTree:
        day = day or today()
        trees = _trees.get()
        if trees is not None and day in trees:
            return trees[day]
        cached = _cache.get(day)
        if cached is not None and cached[1] > monotonic():
            tree = cached[0]
        else:
            generation = _generation
            tree = cls._load(day)
            if not _writing_transaction():
                ttl = getattr(settings, "ORGANISATION_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
                with _lock:
                    if generation == _generation:
                        _cache[day] = (tree, monotonic() + ttl)
        if trees is not None:
            trees[day] = tree
        return tree

    @classmethod
    def _load(cls, day: date) -> OrgTree:
        parent = dict(UnitLink.objects.on(day).values_list("unit_id", "parent_id"))
        units = {unit.pk: unit for unit in OrganisationUnit.objects.only("id", "code", "name", "kind")}
        return cls(day=day, parent=parent, kind={pk: unit.kind for pk, unit in units.items()}, units=units)

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
