"""Dossier files: uploads accepted by what they contain (``processes.file_checks``), stored under random
names, downloads logged.

The client's name is kept for display only; on disk a file is ``<nomination id>/<random uuid>.<extension
of the detected type>`` under ``settings.DOSSIER_ROOT``, which no web server serves.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from processes import errors
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


def dossier_upload(*, nomination: Nomination, by, document_type: DocumentType, upload: File) -> DossierFile:
    """Add a file to ``nomination``'s dossier, or raise UploadRejected / PermissionDenied.

    Either the row, the stored file and the audit entry all exist afterwards or none does. One
    limit: called inside a caller's transaction that later rolls back, the stored file stays on disk
    with no row pointing at it (Django offers no hook on rollback).
    """
    scope = user_scope(by)
    if not can_edit(by, nomination, scope=scope):
        raise errors.PermissionDenied(_("You may not add files to this nomination at its current stage."))
    if document_type is None:
        raise errors.UploadRejected(_("Choose which document this file is."))
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
            # Lock the nomination as transitions do, so the stage that the edit right depends on
            # cannot change between this check and the insert.
            locked = (
                Nomination.objects.select_for_update(of=("self",))
                .select_related("award_form", "nominee")
                .get(pk=nomination.pk)
            )
            if not can_edit(by, locked, scope=scope):
                raise errors.PermissionDenied(_("You may not add files to this nomination at its current stage."))
            dossier_file.nomination = locked
            dossier_file.save(force_insert=True)
            audit_append(
                subject=locked,
                actor=by,
                action="processes.dossier.uploaded",
                data={
                    "file": dossier_file.pk,
                    "document_type": document_type.code,
                    "name": dossier_file.original_name,
                    "size": dossier_file.size,
                    "sha256": dossier_file.sha256,
                },
            )
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
