"""Dossier files through the API: an upload through ``services.dossier_upload`` (audited), 413 over the
limit, 400 for a file of a type not accepted or a field missing, a download as the screen serves it (its
content type, logged), and a constant number of queries for the list."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from processes.actions import FILE_UPLOADED
from processes.models import DossierDownload, DossierFile
from tests.factories import PDF_BYTES, attach_file
from workflow.audit import audit_entries_for

pytestmark = pytest.mark.django_db


def upload(client, nomination, document_type, *, content=PDF_BYTES, name="bao-cao.pdf"):
    return client.post(
        f"/api/v1/nominations/{nomination.pk}/files/",
        {"document_type": document_type.pk, "file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def test_an_upload_is_stored_audited_and_listed(world):
    client = world.client("secretary")

    response = upload(client, world.inside, world.org.report_type)

    assert response.status_code == 201, response.content
    stored = DossierFile.objects.get(pk=response.json()["id"])
    assert (stored.content_type, stored.size) == ("application/pdf", len(PDF_BYTES))
    assert [entry.action for entry in audit_entries_for(world.inside)][-1] == FILE_UPLOADED
    listed = client.get(f"/api/v1/nominations/{world.inside.pk}/files/").json()["results"]
    assert [row["id"] for row in listed] == [stored.pk]


def test_an_upload_over_the_limit_is_413(world, settings):
    settings.DOSSIER_MAX_UPLOAD_BYTES = 64

    response = upload(world.client("secretary"), world.inside, world.org.report_type)

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not DossierFile.objects.exists()


def test_a_file_of_a_type_not_accepted_is_400(world):
    response = upload(world.client("secretary"), world.inside, world.org.report_type, content=b"MZ\x90\x00 not a pdf")

    assert response.status_code == 400
    assert not DossierFile.objects.exists()


def test_an_upload_without_its_fields_is_400_with_field_errors(world):
    response = world.client("secretary").post(
        f"/api/v1/nominations/{world.inside.pk}/files/", {"document_type": "x"}, format="multipart"
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"document_type", "file"}


def test_a_download_streams_the_file_with_its_type_and_is_logged(world):
    dossier_file = attach_file(world.inside, world.org.report_type, user=world.org.hospital_secretary)

    response = world.client("board").get(f"/api/v1/files/{dossier_file.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert DossierDownload.objects.filter(file=dossier_file, user=world.org.board_officer).count() == 1


def test_a_removed_file_is_not_found_but_by_an_administrator(world):
    dossier_file = attach_file(world.inside, world.org.report_type, user=world.org.hospital_secretary)
    DossierFile.objects.filter(pk=dossier_file.pk).update(removed_at=timezone.now())
    url = f"/api/v1/files/{dossier_file.pk}/download/"

    assert world.client("head_a").get(url).status_code == 404
    assert world.client("admin").get(url).status_code == 200
    assert not DossierDownload.objects.filter(user=world.org.hospital_head).exists()


def _queries(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def test_the_file_list_keeps_its_queries_at_10_and_200_files(world):
    client = world.client("head_a")
    url = f"/api/v1/nominations/{world.inside.pk}/files/?page_size=200"
    for _ in range(10):
        attach_file(world.inside, world.org.report_type, user=world.org.hospital_secretary)
    small = _queries(client, url)
    for _ in range(190):
        attach_file(world.inside, world.org.report_type, user=world.org.hospital_head)
    large = _queries(client, url)

    assert (small[1], large[1]) == (10, 200)
    assert small[0] == large[0]


def test_a_request_body_over_djangos_limit_is_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = world.client("secretary").post(
        f"/api/v1/nominations/{world.inside.pk}/files/",
        {"document_type": "1" * 5000, "file": SimpleUploadedFile("bao-cao.pdf", PDF_BYTES)},
        format="multipart",
    )

    assert response.status_code == 413
    assert not DossierFile.objects.exists()
