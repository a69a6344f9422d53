"""Where a unit's papers are dated from, and whom it answers to, on a day."""

from __future__ import annotations

from processes.models import OrganisationUnit
from processes.organisation import OrgTree


def parent_name(unit_id: int, tree: OrgTree) -> str:
    parent_id = tree.parent.get(unit_id)
    parent = tree.units.get(parent_id) if parent_id is not None else None
    return parent.name if parent is not None else ""


def place_of(unit_id: int, tree: OrgTree) -> str:
    """The unit's own place name, else the nearest one above it (a hospital dates its papers from
    its city): one query."""
    chain = [unit_id, *tree.ancestors(unit_id)]
    places = dict(OrganisationUnit.objects.filter(pk__in=chain).exclude(place_name="").values_list("pk", "place_name"))
    return next((places[pk] for pk in chain if pk in places), "")
