"""Objections to a publicly posted nominee."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes import errors
from processes.models import (
    Nomination,
    Objection,
)
from processes.permissions import C, capacities
from processes.selectors.public import objection_windows
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
    if not capacities(by, nomination) & {C.ADMIN, C.BOARD}:
        raise errors.PermissionDenied(_("Objections are recorded by the Emulation and Commendation Board."))
    return _objection_add(nomination=nomination, by=by, author=author, content=content, source=Objection.Source.BOARD)


def objection_submit_public(
    *, nomination: Nomination, author: str, contact: str, content: str, client_address: str | None
) -> Objection:
    """An objection sent by anyone through the public posting page: it reaches the Board's case and holds
    it exactly as one the Board records (the window's end hands the case to the Board while it is open)."""
    return _objection_add(
        nomination=nomination,
        by=None,
        author=author,
        content=content,
        source=Objection.Source.PUBLIC,
        contact=contact,
        client_address=client_address,
    )


def _objection_add(
    *, nomination: Nomination, by, author: str, content: str, source: str, contact: str = "", client_address=None
) -> Objection:
    """The one way an objection is recorded, whoever sends it: while the case's window is open."""
    author, content, contact = plain(author, one_line=True), plain(content), plain(contact or "", one_line=True)
    if not author or not content:
        raise errors.DomainError(_("Say who objects and what the objection is."))
    process = running_process(nomination)
    if process is None:
        raise errors.TransitionNotAllowed(_("This nominee is not publicly posted now."))
    # Under the case's lock: the window's timer cannot close it between this check and the insert.
    with transaction.atomic(), approval_lock(process.pk):
        window = objection_windows().filter(process=process).select_related("step").first()
        if window is None:
            raise errors.TransitionNotAllowed(_("This nominee is not publicly posted now."))
        objection = Objection.objects.create(
            nomination=nomination,
            window=window,
            author=author[:255],
            contact=contact[:255],
            content=content,
            source=source,
            recorded_by=by,
            recorded_at=timezone.now(),
            client_address=client_address,
        )
        audit_append(
            subject=nomination,
            actor=by,
            action="processes.nomination.objection_recorded",
            comment=content,
            data={"step": window.step.code, "task": window.pk, "author": author[:255], "source": source},
        )
    return objection
