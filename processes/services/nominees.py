"""Registering nominees and editing their record (pending proceedings reach their open cases)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from processes import errors
from processes.models import (
    FINAL_STAGES,
    Nomination,
    Nominee,
    OrganisationUnit,
)
from processes.permissions import can_propose_in
from workflow.audit import audit_append

#: What a unit records about a nominee, in the order the form asks for it.
NOMINEE_FIELDS = (
    "kind",
    "name",
    "gender",
    "birth_date",
    "ethnicity",
    "position",
    "id_number",
    "category",
    "collective_type",
    "remote_or_island",
    "pending_discipline",
    "under_investigation",
    "pending_complaint",
)


def nominee_create(*, by, unit: OrganisationUnit, **fields) -> Nominee:
    """Register a person or collective of ``unit``; only the unit's staff may (as for proposing)."""
    unknown = set(fields) - set(NOMINEE_FIELDS)
    if unknown:
        raise ValueError(f"unknown nominee fields: {', '.join(sorted(unknown))}")
    if not can_propose_in(by, unit):
        raise errors.PermissionDenied(_("Only the head, a deputy or the secretary of the unit may register nominees."))
    nominee = Nominee(unit=unit, **fields)
    nominee.full_clean()
    nominee.save(force_insert=True)
    return nominee


#: Decree 152/2025/ND-CP: no award while any of these is pending.
PROCEEDINGS_FLAGS = ("pending_discipline", "under_investigation", "pending_complaint")


def nominee_update(*, nominee: Nominee, by, **fields) -> Nominee:
    """Edit a nominee's record (their unit's staff, or an administrator). A pending-proceedings flag
    set or cleared is written on the log of each of their open cases, where the steps' holders see
    it at once and are told: the case can go on being appraised, but no award is made while one is
    pending."""
    unknown = set(fields) - set(NOMINEE_FIELDS)
    if unknown:
        raise ValueError(f"not editable here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = Nominee.objects.select_for_update().get(pk=nominee.pk)
        if not can_propose_in(by, current.unit):
            raise errors.PermissionDenied(_("Only the head, a deputy or the secretary of the unit may edit nominees."))
        before = {name: getattr(current, name) for name in PROCEEDINGS_FLAGS}
        changed = {name: value for name, value in fields.items() if getattr(current, name) != value}
        for name, value in changed.items():
            setattr(current, name, value)
        current.full_clean()
        current.save()
        raised = sorted(name for name in PROCEEDINGS_FLAGS if getattr(current, name) and not before[name])
        lifted = sorted(name for name in PROCEEDINGS_FLAGS if before[name] and not getattr(current, name))
        if raised or lifted:
            open_cases = Nomination.objects.filter(nominee=current).exclude(stage__in=FINAL_STAGES).order_by("pk")
            for nomination in open_cases:
                audit_append(
                    subject=nomination,
                    actor=by,
                    action=(
                        "processes.nomination.proceedings_flagged"
                        if current.has_pending_proceedings
                        else "processes.nomination.proceedings_cleared"
                    ),
                    data={"raised": raised, "lifted": lifted},
                )
    return current
