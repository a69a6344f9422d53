"""Writes to the organisation: dated memberships."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction

from processes import errors
from processes.models import (
    Membership,
    OrganisationUnit,
    Role,
)


def membership_create(
    *, user, unit: OrganisationUnit, role: str, valid_from: date, valid_to: date | None = None
) -> Membership:
    """Add a dated membership; a second head for an overlapping period is refused."""
    with transaction.atomic():
        # Serialise head appointments per unit: the overlap check and the insert see the same rows.
        OrganisationUnit.objects.select_for_update().filter(pk=unit.pk).first()
        membership = Membership(user=user, unit=unit, role=role, valid_from=valid_from, valid_to=valid_to)
        if (
            role == Role.HEAD
            and Membership.objects.filter(unit=unit, role=Role.HEAD).overlapping(valid_from, valid_to).exists()
        ):
            raise errors.OverlappingMembership()
        try:
            with transaction.atomic():
                membership.save()
        except IntegrityError as exc:  # the PostgreSQL exclusion constraint, under a race
            raise errors.OverlappingMembership() from exc
    return membership
