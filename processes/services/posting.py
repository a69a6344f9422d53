"""Objections to a publicly posted nominee."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.status import STATUS

from processes import errors
from processes.models import (
    Nomination,
    Objection,
)
from processes.permissions import C, capacities
from processes.services.steps import running_process
from processes.text import plain
from workflow.approvals import (
    approval_lock,
)
from workflow.audit import audit_append
from workflow.models import ApprovalTask, StepKind


def open_window(nomination: Nomination) -> ApprovalTask | None:
    process = running_process(nomination)
    if process is None:
        return None
    return ApprovalTask.objects.filter(process=process, closed_at__isnull=True, step__kind=StepKind.POSTING).first()


def objection_record(*, nomination: Nomination, by, author: str, content: str) -> Objection:
    """Record an objection to a posted nominee (the Board receives them), while the window is open."""
    author, content = plain(author, one_line=True), plain(content)
    if not author or not content:
        raise errors.DomainError(_("Say who objects and what the objection is."))
    if not capacities(by, nomination) & {C.ADMIN, C.BOARD}:
        raise errors.PermissionDenied(_("Objections are recorded by the Emulation and Commendation Board."))
    process = running_process(nomination)
    if process is None:
        raise errors.TransitionNotAllowed(_("This nominee is not publicly posted now."))
    # Under the case's lock: the window's timer cannot close it between this check and the insert.
    with transaction.atomic(), approval_lock(process.pk):
        window = open_window(nomination)
        if window is None or window.task.status != STATUS.SCHEDULED:
            raise errors.TransitionNotAllowed(_("This nominee is not publicly posted now."))
        objection = Objection.objects.create(
            nomination=nomination,
            window=window,
            author=author[:255],
            content=content,
            recorded_by=by,
            recorded_at=timezone.now(),
        )
        audit_append(
            subject=nomination,
            actor=by,
            action="processes.nomination.objection_recorded",
            comment=content,
            data={"step": window.step.code, "task": window.pk, "author": author[:255]},
        )
    return objection
