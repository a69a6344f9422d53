"""The tracker's Excel export: Vietnamese headers, real dates, ID numbers masked by role, formulas
neutralised; small exports in the request, large ones through the Celery task with a download that
belongs to the user who asked."""

from datetime import date
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from processes import export, tasks
from processes.models import ExportJob
from tests.factories import NomineeFactory, make_nomination, submitted

EXPORT = reverse("processes:tracker-export")
FORMULAS = ['=HYPERLINK("http://x.test","bấm")', "+84 912", "-1+2", "@SUM(A1)", "\tTab"]


@pytest.fixture(autouse=True)
def _exports_folder(settings, tmp_path):
    settings.EXPORT_ROOT = tmp_path / "exports"


def sheet_of(content: bytes):
    return load_workbook(BytesIO(content)).active


def rows_of(content: bytes) -> list[tuple]:
    return list(sheet_of(content).iter_rows(values_only=True))


def vietnamese(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    return client


def test_headers_are_vietnamese_and_dates_are_dates(client, settings, org):
    nomination = make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name="Nguyễn Thị Hoa"))
    client.force_login(org.hospital_secretary)
    response = vietnamese(client, settings).post(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "attachment" in response["Content-Disposition"]
    sheet = sheet_of(response.content)
    headers = [cell.value for cell in sheet[1]]
    assert headers[:4] == ["STT", "Đối tượng được đề nghị", "Loại đối tượng", "Số định danh cá nhân/CCCD"]
    assert "Ngày cập nhật" in headers
    row = [cell for cell in sheet[2]]
    assert row[1].value == "Nguyễn Thị Hoa"
    updated = row[headers.index("Ngày cập nhật")]
    assert updated.is_date
    assert updated.number_format == "dd/mm/yyyy"
    assert updated.value.date() == nomination.updated_at.astimezone().date()


@pytest.mark.parametrize(
    ("who", "reveals"),
    [("hospital_secretary", False), ("hospital_head", False), ("board_officer", True), ("admin", True)],
)
def test_id_numbers_are_masked_unless_the_role_needs_them(client, org, who, reveals):
    make_nomination(org, nominee=NomineeFactory(unit=org.hospital, id_number="001234567889"))
    client.force_login(org.users[who])
    (_headers, row) = rows_of(client.post(EXPORT).content)
    assert row[3] == ("001234567889" if reveals else "••••••••7889")


def test_text_a_spreadsheet_would_run_as_a_formula_stays_text(client, org):
    for name in FORMULAS:
        make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name=name))
    client.force_login(org.hospital_secretary)
    sheet = sheet_of(client.post(EXPORT).content)
    names = {sheet.cell(row=row, column=2).value for row in range(2, sheet.max_row + 1)}
    assert names == {f"'{name}" for name in FORMULAS}
    for row in range(2, sheet.max_row + 1):
        assert sheet.cell(row=row, column=2).data_type == "s"  # a string, never a formula ("f")


def test_every_formula_start_is_neutralised_and_other_text_is_left_alone():
    for text in [*FORMULAS, "\rCR"]:
        assert export.neutralise(text) == f"'{text}"
    assert export.neutralise("Nguyễn Thị Hoa") == "Nguyễn Thị Hoa"
    assert export.neutralise("1234/QĐ-UBND") == "1234/QĐ-UBND"


def test_the_export_follows_the_filters_and_the_scope(client, org):
    make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name="Nguyễn Thị Hoa"))
    make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name="Trần Văn Bình"))
    make_nomination(org, unit=org.ward, nominee=NomineeFactory(unit=org.ward, name="Lê Thị Hoa"))
    client.force_login(org.hospital_secretary)
    rows = rows_of(client.post(f"{EXPORT}?q=hoa").content)
    assert [row[1] for row in rows[1:]] == ["Nguyễn Thị Hoa"]


def _export_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(EXPORT)
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_export_costs_the_same_queries_for_10_and_200_rows(client, org):
    client.force_login(org.hospital_secretary)
    submitted(org)
    for n in range(9):
        make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name=f"Nguyễn Văn {n}"))
    _export_queries(client)
    at_10 = _export_queries(client)
    for n in range(190):
        make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name=f"Nguyễn Thị {n}"))
    at_200 = _export_queries(client)
    assert len(rows_of(client.post(EXPORT).content)) == 201
    assert at_10 == at_200


# --- the large export, through Celery ----------------------------------------------------------------


@pytest.fixture
def published(monkeypatch):
    """What reaches the broker; the task is then run as the worker runs it (by its function)."""
    calls = []
    monkeypatch.setattr(export, "publish", calls.append)
    return calls


def test_a_large_export_runs_as_a_task_with_progress_and_only_its_owner_downloads_it(
    client, settings, org, published, django_capture_on_commit_callbacks
):
    settings.EXPORT_STREAM_MAX_ROWS = 2
    for name in ("Nguyễn Văn A", "=1+2", "Nguyễn Văn C"):
        make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name=name))
    client.force_login(org.hospital_secretary)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(EXPORT)
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("processes:export-progress", args=[job.pk])
    assert published == [job.pk]
    assert (job.status, job.total, job.user) == (ExportJob.Status.PENDING, 3, org.hospital_secretary)
    waiting = client.get(response["Location"])
    assert waiting["Refresh"] == "2"
    assert reverse("processes:export-download", args=[job.pk]) not in waiting.text
    assert client.get(reverse("processes:export-download", args=[job.pk])).status_code == 404

    assert tasks.export_nominations(job.pk) == ExportJob.Status.DONE
    assert tasks.export_nominations(job.pk) == ExportJob.Status.DONE  # run twice: nothing more
    job.refresh_from_db()
    assert (job.done, job.total, job.percent) == (3, 3, 100)
    ready = client.get(reverse("processes:export-progress", args=[job.pk]))
    assert "Refresh" not in ready
    assert reverse("processes:export-download", args=[job.pk]) in ready.text
    download = client.get(reverse("processes:export-download", args=[job.pk]))
    assert download.status_code == 200
    rows = rows_of(b"".join(download.streaming_content))
    assert sorted(row[1] for row in rows[1:]) == ["'=1+2", "Nguyễn Văn A", "Nguyễn Văn C"]

    client.force_login(org.hospital_head)  # sees the same cases, but did not ask for this file
    assert client.get(reverse("processes:export-download", args=[job.pk])).status_code == 404
    assert client.get(reverse("processes:export-progress", args=[job.pk])).status_code == 404


def test_a_broker_that_refuses_the_task_marks_the_export_failed(
    client, settings, org, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EXPORT_STREAM_MAX_ROWS = 0
    make_nomination(org)

    def broker_down(job_id):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(export, "publish", broker_down)
    client.force_login(org.hospital_secretary)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(EXPORT)
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.FAILED
    assert "could not be written" in client.get(reverse("processes:export-progress", args=[job.pk])).text


def test_the_task_writes_dates_as_dates_in_the_requesters_language(settings, org, django_capture_on_commit_callbacks):
    make_nomination(org)
    job = ExportJob.objects.create(user=org.hospital_secretary, query="", language="vi", total=1)
    export.export_job_run(job_id=job.pk)
    sheet = load_workbook(export.export_file(job)).active
    assert sheet.cell(row=1, column=1).value == "STT"
    assert sheet.cell(row=2, column=13).is_date
    assert sheet.cell(row=2, column=13).value.date() <= date.today()
