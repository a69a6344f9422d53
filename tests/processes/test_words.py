"""The words users read: labels, not codes; a success message that says what happened; the history
names the file uploaded."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from processes.services.dossiers import dossier_upload
from tests.factories import PDF_BYTES, approve_until, hold_session, holders, make_nomination, open_step, submitted

RAW_CODES = ("sent_back", "posting_closed", "objection_recorded", "consultation_requested", "step_approved")


def _vietnamese_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_after_an_approval_the_message_says_where_the_case_went(org):
    nomination = submitted(org)
    task = open_step(nomination)
    client = _vietnamese_client(org.hospital_head)
    response = client.post(
        reverse("processes:step-decide", args=[nomination.pk, task.pk]),
        {"action": "approve", "expected_version": nomination.version},
        follow=True,
    )
    [message] = [str(message) for message in response.context["messages"]]
    director = org.director.get_full_name() or org.director.get_username()
    assert message.startswith(f"Đã phê duyệt; chuyển đến {director} (")
    assert org.department.name in message
    assert "Tổng kết" not in message  # the stage did not change: the old message said it had


def test_the_history_and_decided_steps_read_in_words_not_codes(org):
    org.city_form.council_vote = True
    org.city_form.save()
    nomination = approve_until(submitted(org), "council_review")
    hold_session(open_step(nomination), choice="yes")
    client = _vietnamese_client(org.admin)
    body = client.get(reverse("processes:nomination-detail", args=[nomination.pk])).content.decode()
    for code in (*RAW_CODES, "processes.nomination", "workflow.vote"):
        assert code not in body
    assert "kết quả bỏ phiếu kín" in body  # who decided the vote step
    assert "· approve ·" not in body


def test_the_history_names_the_file_uploaded(org):
    nomination = make_nomination(org)
    dossier_upload(
        nomination=nomination,
        by=org.hospital_secretary,
        document_type=org.report_type,
        upload=SimpleUploadedFile("bao-cao-thanh-tich.pdf", PDF_BYTES),
    )
    client = _vietnamese_client(org.hospital_head)
    page = client.get(reverse("processes:nomination-detail", args=[nomination.pk]))
    [uploaded] = [entry for entry in page.context["timeline"] if entry.action == "processes.dossier.uploaded"]
    assert "bao-cao-thanh-tich.pdf" in uploaded.detail
    assert "bao-cao-thanh-tich.pdf" in page.content.decode()


@pytest.mark.parametrize("action", ["return", "reject"])
def test_return_and_reject_say_what_happened(org, action):
    nomination = submitted(org)
    task = open_step(nomination)
    client = _vietnamese_client(holders(task)[0])
    response = client.post(
        reverse("processes:step-decide", args=[nomination.pk, task.pk]),
        {"action": action, "comment": "Thiếu biên bản", "expected_version": nomination.version},
        follow=True,
    )
    [message] = [str(message) for message in response.context["messages"]]
    expected = "Đã trả lại cho Bệnh viện Việt Tiệp để bổ sung." if action == "return" else "Đã không chấp thuận"
    assert message.startswith(expected)
