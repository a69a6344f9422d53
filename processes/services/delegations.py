"""A head names a stand-in for a period."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from processes import errors
from processes.models import (
    Delegation,
    Membership,
    OrganisationUnit,
    Role,
)
from workflow.audit import audit_append


def delegation_create(
    *, by, delegator, delegate, unit: OrganisationUnit, valid_from: date, valid_to: date | None = None, reason=""
) -> Delegation:
    """A head names a stand-in for a date range; steps made in it go to the stand-in, on the head's behalf."""
    delegation_check(by=by, delegator=delegator, delegate=delegate, unit=unit, valid_from=valid_from)
    delegation = Delegation(
        delegator=delegator, delegate=delegate, unit=unit, valid_from=valid_from, valid_to=valid_to, reason=reason
    )
    delegation.full_clean()
    with transaction.atomic():
        delegation.save(force_insert=True)
        audit_append(
            subject=delegation,
            actor=by,
            action="processes.delegation.created",
            comment=reason,
            data={
                "delegator": delegator.get_username(),
                "delegate": delegate.get_username(),
                "unit": unit.code,
                "valid_from": valid_from.isoformat(),
                "valid_to": valid_to.isoformat() if valid_to else None,
            },
        )
    return delegation


def delegation_check(*, by, delegator, delegate, unit: OrganisationUnit, valid_from: date) -> None:
    """Raise the reason a delegation cannot be made (for forms to show before saving)."""
    if not (by.is_superuser or by.pk == delegator.pk):
        raise errors.PermissionDenied(_("Only the head themselves or an administrator may delegate."))
    if not Membership.objects.on(valid_from).filter(unit=unit, user=delegator, role=Role.HEAD).exists():
        raise errors.DomainError(_("%(who)s does not head this unit on that day.") % {"who": delegator})
    if not Membership.objects.on(valid_from).filter(unit=unit, user=delegate).exists():
        raise errors.DomainError(_("The stand-in must belong to the unit."))
