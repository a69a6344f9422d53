"""Dossier files seen and corrected: PDFs and images previewed inline with the download's permission
check; a wrong file replaced or removed while the dossier is editable, by who may edit it, audited,
named in the history, the old file kept for the audit."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from processes import errors
from processes.guards import has_achievement_report
from processes.models import DossierDownload, DossierFile
from processes.services import dossier_remove, dossier_replace, dossier_upload
from tests.factories import PDF_BYTES, attach_file, make_nomination, submitted
from tests.processes.test_dossiers import png_bytes
from workflow.audit import audit_entries_for


@pytest.fixture
def nomination(org):
    return make_nomination(org)


def _upload(org, nomination, name, content):
    return dossier_upload(
        nomination=nomination,
        by=org.hospital_secretary,
        document_type=org.report_type,
        upload=SimpleUploadedFile(name, content),
    )


def _preview(client, dossier_file):
    return client.get(reverse("processes:dossier-preview", args=[dossier_file.pk]))


def test_a_pdf_is_previewed_inline_framed_only_by_the_site(client, org, nomination):
    dossier_file = _upload(org, nomination, "bao-cao.pdf", PDF_BYTES)
    client.force_login(org.hospital_head)
    response = _preview(client, dossier_file)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert DossierDownload.objects.filter(file=dossier_file, user=org.hospital_head).count() == 1
    # Every other page still refuses to be framed.
    page = client.get(reverse("processes:nomination-detail", args=[nomination.pk]))
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert f'<iframe src="{reverse("processes:dossier-preview", args=[dossier_file.pk])}"' in page.text


def test_an_image_is_previewed_as_an_image(client, org, nomination):
    dossier_file = _upload(org, nomination, "anh.png", png_bytes())
    client.force_login(org.hospital_secretary)
    response = _preview(client, dossier_file)
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    page = client.get(reverse("processes:nomination-detail", args=[nomination.pk])).text
    assert f'<img src="{reverse("processes:dossier-preview", args=[dossier_file.pk])}"' in page


@pytest.mark.parametrize("username", ["ward_head", "district_chairman", "outsider"])
def test_another_units_head_or_an_outsider_gets_not_found(client, org, nomination, username):
    dossier_file = _upload(org, nomination, "bao-cao.pdf", PDF_BYTES)
    client.force_login(getattr(org, username))
    assert _preview(client, dossier_file).status_code == 404
    assert client.get(reverse("processes:dossier-download", args=[dossier_file.pk])).status_code == 404
    assert not DossierDownload.objects.exists()


def test_a_file_a_browser_would_not_show_has_no_preview(client, org, nomination):
    dossier_file = attach_file(nomination, org.report_type, user=org.hospital_secretary, name="bang.xlsx")
    DossierFile.objects.filter(pk=dossier_file.pk).update(
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", extension="xlsx"
    )
    client.force_login(org.hospital_secretary)
    assert _preview(client, dossier_file).status_code == 404


def test_a_wrong_file_is_removed_audited_named_in_the_history_and_kept(client, org, nomination):
    wrong = _upload(org, nomination, "nham-ho-so.pdf", PDF_BYTES)
    stored = wrong.file.path
    client.force_login(org.hospital_secretary)
    response = client.post(reverse("processes:dossier-remove", args=[wrong.pk]), {"reason": "Nhầm hồ sơ"})
    assert response.status_code == 302
    wrong.refresh_from_db()
    assert wrong.removed_by == org.hospital_secretary
    assert wrong.removed_at is not None
    assert Path(stored).read_bytes() == PDF_BYTES  # kept for the audit
    entry = audit_entries_for(nomination).last()
    assert entry.action == "processes.dossier.removed"
    assert entry.data["name"] == "nham-ho-so.pdf"
    assert entry.comment == "Nhầm hồ sơ"
    assert not has_achievement_report(nomination)  # a removed file no longer counts
    page = client.get(reverse("processes:nomination-detail", args=[nomination.pk])).text
    assert "File removed · “nham-ho-so.pdf”" in page
    assert reverse("processes:dossier-download", args=[wrong.pk]) not in page
    # Out of the dossier: the unit no longer opens it; an administrator still can.
    assert _preview(client, wrong).status_code == 404
    assert client.get(reverse("processes:dossier-download", args=[wrong.pk])).status_code == 404
    client.force_login(org.admin)
    assert client.get(reverse("processes:dossier-download", args=[wrong.pk])).status_code == 200
    # Removed twice: refused, nothing more written.
    with pytest.raises(errors.PermissionDenied):
        dossier_remove(dossier_file=wrong, by=org.hospital_secretary)
    assert audit_entries_for(nomination).filter(action="processes.dossier.removed").count() == 1


def test_a_file_is_replaced_by_a_new_one_of_the_same_document_type(client, org, nomination):
    old = _upload(org, nomination, "ban-cu.pdf", PDF_BYTES)
    client.force_login(org.hospital_head)
    response = client.post(
        reverse("processes:dossier-replace", args=[old.pk]), {"file": SimpleUploadedFile("ban-moi.png", png_bytes())}
    )
    assert response.status_code == 302
    old.refresh_from_db()
    new = old.replaced_by
    assert new is not None
    assert new.original_name == "ban-moi.png"
    assert new.document_type == old.document_type
    assert old.removed_at is not None
    assert list(nomination.files.kept()) == [new]
    entry = audit_entries_for(nomination).last()
    assert entry.action == "processes.dossier.replaced"
    assert (entry.data["replaced_name"], entry.data["name"]) == ("ban-cu.pdf", "ban-moi.png")
    page = client.get(reverse("processes:nomination-detail", args=[nomination.pk])).text
    assert "File replaced · “ban-cu.pdf” replaced by “ban-moi.png”" in page


def test_a_replacement_is_checked_like_an_upload(client, org, nomination):
    old = _upload(org, nomination, "ban-cu.pdf", PDF_BYTES)
    client.force_login(org.hospital_secretary)
    client.post(
        reverse("processes:dossier-replace", args=[old.pk]),
        {"file": SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf")},
    )
    old.refresh_from_db()
    assert old.removed_at is None
    assert list(nomination.files.kept()) == [old]
    assert not audit_entries_for(nomination).filter(action="processes.dossier.replaced").exists()


def test_once_submitted_the_unit_can_no_longer_replace_or_remove(client, org):
    nomination = submitted(org)
    dossier_file = nomination.files.get()
    client.force_login(org.hospital_secretary)
    page = client.get(reverse("processes:nomination-detail", args=[nomination.pk])).text
    assert reverse("processes:dossier-remove", args=[dossier_file.pk]) not in page
    assert reverse("processes:dossier-replace", args=[dossier_file.pk]) not in page
    client.post(reverse("processes:dossier-remove", args=[dossier_file.pk]))
    client.post(
        reverse("processes:dossier-replace", args=[dossier_file.pk]), {"file": SimpleUploadedFile("b.pdf", PDF_BYTES)}
    )
    dossier_file.refresh_from_db()
    assert dossier_file.removed_at is None
    assert nomination.files.count() == 1
    with pytest.raises(errors.PermissionDenied):
        dossier_remove(dossier_file=dossier_file, by=org.hospital_secretary)
    with pytest.raises(errors.PermissionDenied):
        dossier_replace(
            dossier_file=dossier_file, by=org.hospital_secretary, upload=SimpleUploadedFile("b.pdf", PDF_BYTES)
        )


@pytest.mark.parametrize("username", ["hospital_member", "board_officer", "director"])
def test_who_may_see_but_not_edit_the_dossier_cannot_remove_or_replace(client, org, nomination, username):
    dossier_file = _upload(org, nomination, "bao-cao.pdf", PDF_BYTES)
    with pytest.raises(errors.PermissionDenied):
        dossier_remove(dossier_file=dossier_file, by=getattr(org, username))
    with pytest.raises(errors.PermissionDenied):
        dossier_replace(
            dossier_file=dossier_file, by=getattr(org, username), upload=SimpleUploadedFile("b.pdf", PDF_BYTES)
        )
    client.force_login(getattr(org, username))
    response = client.post(reverse("processes:dossier-remove", args=[dossier_file.pk]))
    assert response.status_code in (302, 404)  # refused with a message, or the case is not theirs to see
    dossier_file.refresh_from_db()
    assert dossier_file.removed_at is None
    assert not audit_entries_for(nomination).filter(action="processes.dossier.removed").exists()
