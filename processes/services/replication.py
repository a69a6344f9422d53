"""The replicate stage as work: an awarded exemplar is spread by talks, articles, training and its
adoption by other units, each recorded with its evidence; the case closes by itself once its
replication plan is met, or earlier when its unit or the Board closes it with a reason.

Evidence files are checked and stored as dossier files are (``processes.file_checks``, the dossier
storage, a random name on disk); every change writes one audit entry on the nomination.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes import errors
from processes.actions import ACTIVITY_RECORDED, REPLICATION_PLAN_SET
from processes.file_checks import (
    PDF,
    MeasuredStream,
    check_pdf,
    detect_kind,
    display_name,
    name_saying,
    size_limit_error,
)
from processes.models import (
    ActivityEvidence,
    ActivityKind,
    DisseminationActivity,
    Nomination,
    OrganisationUnit,
    ReplicationPlan,
    Stage,
)
from processes.permissions import may_record_activity
from processes.selectors.replication import own_unit_ids, replication_progress
from processes.services.nominations import transition
from processes.text import plain
from workflow.audit import audit_append

#: A plan asks for at most this many activities or adopting units (a typo, not a plan, beyond).
MAX_REQUIRED = 100
NOT_YOURS = _("Only the proposing unit's head, deputy or secretary, or the Board, spreads this exemplar.")


def _locked(nomination: Nomination) -> Nomination:
    # Locked as transitions lock it: the stage the right depends on cannot change meanwhile, and two
    # activities recorded at once count each other before one of them closes the case.
    return (
        Nomination.objects.select_for_update(of=("self",))
        .select_related("award_form", "nominee", "campaign")
        .get(pk=nomination.pk)
    )


def _check_may_record(by, nomination: Nomination) -> None:
    if not may_record_activity(by, nomination):
        if nomination.stage != Stage.REPLICATE:
            raise errors.TransitionNotAllowed(
                _("Dissemination is recorded only while the case is in replicate; it is now “%(stage)s”.")
                % {"stage": nomination.get_stage_display()}
            )
        raise errors.PermissionDenied(NOT_YOURS)


def _close_if_met(locked: Nomination, by) -> Nomination:
    """Close the case through its ``close`` transition once its plan is met; the entry says so."""
    progress = replication_progress(locked)
    if not progress.met:
        return locked
    return transition(
        nomination=locked,
        by=by,
        action="close",
        authorised=True,  # the plan closes it, whoever recorded the last activity
        current=True,
        data={
            "plan_met": True,
            "activities": progress.activities,
            "adopting_units": progress.adopting_units,
        },
    )


def replication_plan_set(
    *, nomination: Nomination, by, activities_required: int, adoptions_required: int, notes: str = ""
) -> ReplicationPlan:
    """Set what spreading this exemplar takes; a plan already met closes the case at once."""
    if not 1 <= activities_required <= MAX_REQUIRED:
        raise errors.DomainError(
            _("A plan asks for between 1 and %(max)s dissemination activities.") % {"max": MAX_REQUIRED}
        )
    if not 0 <= adoptions_required <= MAX_REQUIRED:
        raise errors.DomainError(_("A plan asks for between 0 and %(max)s adopting units.") % {"max": MAX_REQUIRED})
    notes = plain(notes)
    with transaction.atomic():
        locked = _locked(nomination)
        _check_may_record(by, locked)
        plan, _created = ReplicationPlan.objects.update_or_create(
            nomination=locked,
            defaults={
                "activities_required": activities_required,
                "adoptions_required": adoptions_required,
                "notes": notes,
                "updated_by": by,
                "updated_at": timezone.now(),
            },
        )
        audit_append(
            subject=locked,
            actor=by,
            action=REPLICATION_PLAN_SET,
            comment=notes,
            data={"activities_required": activities_required, "adoptions_required": adoptions_required},
        )
        _close_if_met(locked, by)
    return plan


def _checked(upload: File) -> tuple[str, object]:
    """The display name and detected kind of an evidence file, or UploadRejected."""
    name = display_name(upload.name)
    if upload.size is not None and upload.size > settings.DOSSIER_MAX_UPLOAD_BYTES:
        raise size_limit_error(size=upload.size)
    kind = detect_kind(upload)
    if kind is PDF:
        check_pdf(upload)
    return name, kind


def activity_record(
    *,
    nomination: Nomination,
    by,
    kind: str,
    held_on: date,
    title: str,
    description: str = "",
    adopting_unit: OrganisationUnit | None = None,
    evidence: Iterable[File] = (),
) -> DisseminationActivity:
    """Record a talk, an article, a training or an adoption, with its evidence files; the case closes
    when this activity meets its plan. Either the activity, its files and the entries all exist
    afterwards or none does (the stored files of a refused call are deleted)."""
    # Checked now on the row as it is (the caller's copy may be older), so that nothing is stored for a
    # refusal; checked again under the lock before anything is written.
    nomination = Nomination.objects.select_related("award_form", "nominee").get(pk=nomination.pk)
    _check_may_record(by, nomination)
    if kind not in ActivityKind.values:
        raise errors.DomainError(_("Choose what kind of activity this was."))
    title, description = plain(title, one_line=True), plain(description)
    if not title:
        raise errors.DomainError(_("Give the activity a title."))
    if held_on > timezone.localdate():
        raise errors.DomainError(
            _("An activity is recorded once it has taken place: its date cannot be in the future.")
        )
    if kind == ActivityKind.ADOPTION:
        if adopting_unit is None:
            raise errors.DomainError(_("An adoption names the unit that adopted the model."))
        if adopting_unit.pk in own_unit_ids(nomination):
            raise errors.DomainError(
                _("The exemplar's own unit cannot adopt its model: choose another unit that applied it.")
            )
    elif adopting_unit is not None:
        raise errors.DomainError(_("Only an adoption names an adopting unit; leave it empty for this kind."))

    activity = DisseminationActivity(
        nomination=nomination,
        kind=kind,
        held_on=held_on,
        title=title,
        description=description,
        adopting_unit=adopting_unit,
        recorded_by=by,
    )
    files = []
    for upload in evidence:
        name, detected = _checked(upload)
        files.append(
            (
                upload,
                ActivityEvidence(
                    activity=activity,
                    original_name=name_saying(name, detected),
                    content_type=detected.content_type,
                    extension=detected.extension,
                    uploaded_by=by,
                ),
            )
        )
    field = ActivityEvidence._meta.get_field("file")
    storage = field.storage
    written: list[str] = []
    try:
        for upload, item in files:
            # The name is a fresh UUID: whatever lies there afterwards, this call wrote.
            target = field.generate_filename(item, item.original_name)
            written.append(target)
            stream = MeasuredStream(upload, limit=settings.DOSSIER_MAX_UPLOAD_BYTES)
            item.file = written[-1] = storage.save(target, stream, max_length=field.max_length)
            item.size, item.sha256 = stream.bytes_read, stream.digest.hexdigest()
        with transaction.atomic():
            locked = _locked(nomination)
            _check_may_record(by, locked)
            activity.nomination = locked
            activity.save(force_insert=True)
            for _upload, item in files:
                item.activity = activity
                item.save(force_insert=True)
            audit_append(
                subject=locked,
                actor=by,
                action=ACTIVITY_RECORDED,
                comment=description,
                data={
                    "activity": activity.pk,
                    "kind": kind,
                    "title": title,
                    "held_on": held_on.isoformat(),
                    "adopting_unit": adopting_unit.pk if adopting_unit else None,
                    "evidence": [
                        {"file": item.pk, "name": item.original_name, "size": item.size, "sha256": item.sha256}
                        for _upload, item in files
                    ],
                },
            )
            _close_if_met(locked, by)
    except BaseException:
        for name in written:
            storage.delete(name)
        raise
    return activity


def nomination_close(*, nomination: Nomination, by, reason: str, expected_version: int | None = None) -> Nomination:
    """Close a case in replicate before its plan is met: its unit's head or secretary, the Board or an
    admin, always with a reason."""
    reason = plain(reason)
    if not reason:
        raise errors.DomainError(_("Please give the reason for closing the case before its replication plan is met."))
    return transition(nomination=nomination, by=by, action="close", comment=reason, expected_version=expected_version)
