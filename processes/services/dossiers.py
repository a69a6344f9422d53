"""Dossier files: uploads accepted by what they contain (``processes.file_checks``), stored under random
names, downloads logged; replaced or removed while the dossier is editable, the old file kept.

The client's name is kept for display only; on disk a file is ``<nomination id>/<random uuid>.<extension
of the detected type>`` under ``settings.DOSSIER_ROOT``, which no web server serves.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes import errors
from processes.actions import FILE_REMOVED, FILE_REPLACED, FILE_UPLOADED
from processes.file_checks import (
    PDF,
    MeasuredStream,
    check_pdf,
    detect_kind,
    display_name,
    name_saying,
    size_limit_error,
)
from processes.models import DocumentType, DossierDownload, DossierFile, Nomination
from processes.permissions import can_edit, can_view, user_scope
from workflow.audit import audit_append

NOT_EDITABLE = _("You may not change the files of this nomination at its current stage.")


def dossier_upload(*, nomination: Nomination, by, document_type: DocumentType, upload: File) -> DossierFile:
    """Add a file to ``nomination``'s dossier, or raise UploadRejected / PermissionDenied.

    Either the row, the stored file and the audit entry all exist afterwards or none does. One
    limit: called inside a caller's transaction that later rolls back, the stored file stays on disk
    with no row pointing at it (Django offers no hook on rollback).
    """
    if not can_edit(by, nomination, scope=user_scope(by)):
        raise errors.PermissionDenied(_("You may not add files to this nomination at its current stage."))
    if document_type is None:
        raise errors.UploadRejected(_("Choose which document this file is."))

    def record(locked: Nomination, dossier_file: DossierFile) -> None:
        audit_append(
            subject=locked,
            actor=by,
            action=FILE_UPLOADED,
            data={
                "file": dossier_file.pk,
                "document_type": document_type.code,
                "name": dossier_file.original_name,
                "size": dossier_file.size,
                "sha256": dossier_file.sha256,
            },
        )

    return _store(nomination=nomination, by=by, document_type=document_type, upload=upload, then=record)


def dossier_replace(*, dossier_file: DossierFile, by, upload: File) -> DossierFile:
    """Put a new file in place of ``dossier_file`` (same document type) while the dossier is editable.
    The old one is marked replaced, its row and stored file kept for the audit; one audit entry names
    both files."""
    nomination = dossier_file.nomination
    if not can_edit(by, nomination, scope=user_scope(by)):
        raise errors.PermissionDenied(NOT_EDITABLE)

    def record(locked: Nomination, new: DossierFile) -> None:
        old = _kept_file_of(locked, dossier_file.pk)
        now = timezone.now()
        DossierFile.objects.filter(pk=old.pk).update(removed_at=now, removed_by=by, replaced_by=new)
        dossier_file.removed_at, dossier_file.removed_by, dossier_file.replaced_by = now, by, new
        audit_append(
            subject=locked,
            actor=by,
            action=FILE_REPLACED,
            data={
                "file": new.pk,
                "name": new.original_name,
                "document_type": new.document_type.code,
                "size": new.size,
                "sha256": new.sha256,
                "replaced": old.pk,
                "replaced_name": old.original_name,
                "replaced_sha256": old.sha256,
            },
        )

    return _store(nomination=nomination, by=by, document_type=dossier_file.document_type, upload=upload, then=record)


def dossier_remove(*, dossier_file: DossierFile, by, reason: str = "") -> DossierFile:
    """Take a file out of the dossier while it is editable. The row and the stored file stay (the audit
    log and the download log point at them); the case no longer shows or counts the file, and only an
    administrator can still open it."""
    with transaction.atomic():
        locked = _locked_nomination(dossier_file.nomination_id)
        if not can_edit(by, locked, scope=user_scope(by)):
            raise errors.PermissionDenied(NOT_EDITABLE)
        current = _kept_file_of(locked, dossier_file.pk)
        current.removed_at = timezone.now()
        current.removed_by = by
        current.save(update_fields=["removed_at", "removed_by"])
        audit_append(
            subject=locked,
            actor=by,
            action=FILE_REMOVED,
            comment=reason,
            data={
                "file": current.pk,
                "name": current.original_name,
                "document_type": current.document_type.code,
                "sha256": current.sha256,
            },
        )
    return current


def _locked_nomination(pk: int) -> Nomination:
    # Locked as transitions do, so the stage that the edit right depends on cannot change meanwhile.
    return Nomination.objects.select_for_update(of=("self",)).select_related("award_form", "nominee").get(pk=pk)


def _kept_file_of(nomination: Nomination, pk: int) -> DossierFile:
    """The file ``pk`` of this dossier, still in it (not removed or replaced meanwhile)."""
    found = (
        DossierFile.objects.select_for_update(of=("self",))
        .select_related("document_type")
        .filter(pk=pk, nomination=nomination, removed_at__isnull=True)
        .first()
    )
    if found is None:
        raise errors.PermissionDenied(_("This file is no longer in the dossier."))
    return found


def _store(*, nomination: Nomination, by, document_type: DocumentType, upload: File, then: Callable) -> DossierFile:
    """Check and store ``upload`` as a new file of the dossier, then, in the same transaction under the
    nomination's lock, call ``then(locked nomination, new file)`` for the audit entry."""
    name = display_name(upload.name)
    limit = settings.DOSSIER_MAX_UPLOAD_BYTES
    # Django knows the size of an upload before anything reads it.
    if upload.size is not None and upload.size > limit:
        raise size_limit_error(size=upload.size)
    kind = detect_kind(upload)
    if kind is PDF:
        check_pdf(upload)

    dossier_file = DossierFile(
        nomination=nomination,
        document_type=document_type,
        original_name=name_saying(name, kind),
        content_type=kind.content_type,
        extension=kind.extension,
        uploaded_by=by,
    )
    field = dossier_file.file.field
    storage = dossier_file.file.storage
    target = field.generate_filename(dossier_file, dossier_file.original_name)
    stream = MeasuredStream(upload, limit=limit)
    stored = None
    try:
        stored = storage.save(target, stream, max_length=field.max_length)
        dossier_file.file = stored
        dossier_file.size = stream.bytes_read
        dossier_file.sha256 = stream.digest.hexdigest()
        with transaction.atomic():
            locked = _locked_nomination(nomination.pk)
            if not can_edit(by, locked, scope=user_scope(by)):
                raise errors.PermissionDenied(NOT_EDITABLE)
            dossier_file.nomination = locked
            dossier_file.save(force_insert=True)
            then(locked, dossier_file)
    except BaseException:
        # The name is a fresh UUID, so whatever lies there was written by this call.
        storage.delete(stored or target)
        raise
    return dossier_file


def dossier_download_log(*, dossier_file: DossierFile, by, ip_address: str | None) -> DossierDownload:
    """Record that ``by`` is receiving ``dossier_file``; only someone who may see the nomination may."""
    if not can_view(by, dossier_file.nomination):
        raise errors.PermissionDenied()
    try:
        address = str(ipaddress.ip_address(ip_address)) if ip_address else None
    except ValueError:
        address = None
    return DossierDownload.objects.create(file=dossier_file, user=by, ip_address=address)
