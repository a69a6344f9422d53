"""No server error from anything a user can send: every query parameter and every form field goes
through a form, which turns bad input into a clear message or a 400/404, and loses nothing."""

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.views.defaults import server_error

from notifications.models import InAppNotification
from processes import errors, services
from processes.models import Nomination, Stage
from tests.factories import PDF_BYTES, approve_until, make_nomination, open_step, submitted
from workflow.errors import ActionNotAllowed
from workflow.models import StepKind

HUGE = "9" * 30  # beyond 64 bits: SQLite raised OverflowError on such ids
SUPERSCRIPT_TWO = "²"  # str.isdigit() is True, int() refuses it
NUL = "lý do\x00"
BIDI = "lý do\u202e"


def _detail(nomination):
    return reverse("processes:nomination-detail", args=[nomination.pk])


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, HUGE, "-1", "1e3", "٣"])
@pytest.mark.parametrize("name", ["campaign", "award_form", "stage", "cursor"])
def test_a_bad_filter_on_the_list_is_a_400_with_a_message_and_the_list_still_shows(client, org, name, value):
    nomination = make_nomination(org)
    client.force_login(org.hospital_head)
    response = client.get(reverse("processes:nomination-list"), {name: value})
    assert response.status_code == 400
    assert list(response.context["page"].rows) == [nomination]
    assert response.context["messages"]


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, HUGE, "abc"])
def test_a_bad_page_link_of_the_inbox_and_the_notification_centre_is_a_400(client, org, value):
    client.force_login(org.hospital_head)
    assert client.get(reverse("processes:inbox"), {"cursor": value}).status_code == 400
    assert client.get(reverse("notifications:centre"), {"before": value}).status_code == 400


def test_a_bad_nominee_in_the_new_nomination_link_is_ignored(client, org):
    client.force_login(org.hospital_secretary)
    for value in (SUPERSCRIPT_TWO, HUGE):
        assert client.get(reverse("processes:nomination-new"), {"nominee": value}).status_code == 200


@pytest.mark.parametrize(
    "url_name",
    ["processes:nomination-detail", "processes:nomination-edit", "processes:nomination-transition"],
)
def test_an_id_beyond_64_bits_in_a_path_is_not_found(client, org, url_name):
    client.force_login(org.admin)
    url = reverse(url_name, args=[1]).replace("/1/", f"/{HUGE}/")
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


def test_a_step_id_beyond_64_bits_is_not_found(client, org):
    nomination = submitted(org)
    client.force_login(org.hospital_head)
    for name in ("processes:step-decide", "processes:step-reassign"):
        url = reverse(name, args=[nomination.pk, 1]).replace("/steps/1/", f"/steps/{HUGE}/")
        assert client.post(url, {"action": "approve"}).status_code == 404
    for url in (
        f"/files/{HUGE}/download/",
        f"/notifications/{HUGE}/read/",
        f"/council/sessions/{HUGE}/",
        f"/consultations/{HUGE}/",
    ):
        assert client.get(url).status_code in (404, 405), url


@pytest.mark.parametrize("comment", [NUL, BIDI, "a\x07b", "x" * 4001])
def test_a_decision_with_a_bad_comment_is_refused_with_the_text_kept(client, org, comment):
    nomination = submitted(org)
    task = open_step(nomination)
    client.force_login(org.hospital_head)
    url = reverse("processes:step-decide", args=[nomination.pk, task.pk])
    response = client.post(url, {"action": "return", "comment": comment, "expected_version": nomination.version})
    assert response.status_code == 400
    assert response.context["posted"]["comment"] == comment  # nothing the user typed is lost
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE
    assert open_step(nomination).pk == task.pk


@pytest.mark.parametrize("field", ["expected_version", "action"])
def test_a_forged_transition_field_is_a_400(client, org, field):
    nomination = make_nomination(org)
    client.force_login(org.hospital_head)
    data = {"action": "start_cultivation", "expected_version": nomination.version, field: SUPERSCRIPT_TWO}
    response = client.post(reverse("processes:nomination-transition", args=[nomination.pk]), data)
    assert response.status_code == 400
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.DISCOVER


@pytest.mark.parametrize("to", [SUPERSCRIPT_TWO, HUGE, "", "0"])
def test_a_forged_reassignment_is_a_400(client, org, to):
    nomination = submitted(org)
    task = open_step(nomination)
    client.force_login(org.hospital_secretary)
    url = reverse("processes:step-reassign", args=[nomination.pk, task.pk])
    response = client.post(url, {"to": to, "reason": "Đi công tác"})
    assert response.status_code == 400
    assert response.context["posted"]["reason"] == "Đi công tác"


def test_reject_at_a_vote_step_through_the_transition_form_is_a_message_not_a_500(client, org):
    """The decision path raises WorkflowError subclasses (ActionNotAllowed…); every view catches the base."""
    org.city_form.council_vote = True
    org.city_form.save()
    nomination = approve_until(submitted(org), "council_review")
    assert open_step(nomination).step.kind == StepKind.VOTE
    client.force_login(org.admin)
    response = client.post(
        reverse("processes:nomination-transition", args=[nomination.pk]),
        {"action": "reject", "comment": "Không đạt", "expected_version": nomination.version},
    )
    assert response.status_code == 409
    assert "does not allow that action" in response.content.decode()
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE


def test_the_admin_reject_action_at_a_vote_step_reports_the_refusal(admin_client, org):
    org.city_form.council_vote = True
    org.city_form.save()
    nomination = approve_until(submitted(org), "council_review")
    response = admin_client.post(
        reverse("admin:processes_nomination_changelist"),
        {"action": "reject", "_selected_action": [nomination.pk], "confirm": "1", "reason": "Không đạt"},
        follow=True,
    )
    assert response.status_code == 200
    refusals = [message for message in response.context["messages"] if message.level_tag == "error"]
    assert [str(ActionNotAllowed.default_message) in message.message for message in refusals] == [True]
    assert Nomination.objects.get(pk=nomination.pk).stage == Stage.SUMMARISE


@pytest.mark.postgres
def test_a_nul_byte_never_reaches_postgresql(client, org):
    nomination = make_nomination(org)
    client.force_login(org.hospital_head)
    response = client.post(
        reverse("processes:nomination-edit", args=[nomination.pk]),
        {"achievement_summary": NUL, "cultivation_goals": "", "mentor": "", "expected_version": nomination.version},
    )
    assert response.status_code == 400
    assert Nomination.objects.get(pk=nomination.pk).achievement_summary == ""


def test_an_over_long_file_name_gets_a_clear_message(client, org):
    nomination = make_nomination(org)
    client.force_login(org.hospital_secretary)
    upload = SimpleUploadedFile("b" * 5000 + ".pdf", PDF_BYTES, content_type="application/pdf")
    response = client.post(
        reverse("processes:dossier-upload", args=[nomination.pk]),
        {"document_type": org.report_type.pk, "file": upload},
        follow=True,
    )
    assert response.status_code == 200
    stored = nomination.files.get()
    assert len(stored.original_name) <= 255
    assert stored.original_name.endswith(".pdf")


def test_a_form_larger_than_the_server_accepts_gets_the_products_400_page_saying_why(org, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    nomination = make_nomination(org)
    client = Client(raise_request_exception=False)
    client.force_login(org.hospital_head)
    response = client.post(
        reverse("processes:nomination-edit", args=[nomination.pk]),
        {"achievement_summary": "x" * 5000, "expected_version": nomination.version},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Biểu mẫu gửi lên lớn hơn" in body or "larger than" in body
    assert "Django" not in body


def test_errors_are_the_products_own_pages_in_vietnamese(org, rf):
    client = Client()  # no language cookie: Vietnamese
    client.force_login(org.hospital_head)
    missing = client.get(f"/nominations/{HUGE}/")
    assert missing.status_code == 404
    body = missing.content.decode()
    assert "Không tìm thấy trang" in body
    assert "Django Material" not in body
    assert "viewflow" not in body.lower()
    with translation.override("vi"):
        crashed = server_error(rf.get("/"))
    assert crashed.status_code == 500
    assert "Đã có lỗi ở phía hệ thống" in crashed.content.decode()


def test_a_foreign_notification_id_is_not_found(client, org):
    row = InAppNotification.objects.filter(recipient=org.director).first()
    client.force_login(org.hospital_head)
    url = reverse("notifications:read", args=[row.pk if row else 1])
    assert client.post(url).status_code == 404


def test_an_id_beyond_64_bits_in_any_admin_change_page_is_no_object(admin_client):
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[HUGE])
        assert admin_client.get(url).status_code == 302, url  # "does not exist", back to the list


def test_services_refuse_invisible_characters_from_any_caller(org):
    """Screens check text in their forms; the services check it again for every other caller."""
    nomination = submitted(org)
    task = open_step(nomination)
    with pytest.raises(errors.DomainError):
        services.nomination_decide(task_id=task.pk, by=org.hospital_head, action="return", comment=BIDI)
    with pytest.raises(errors.DomainError):
        services.step_reassign(task_id=task.pk, to=org.hospital_deputy, by=org.hospital_secretary, reason=NUL)
    assert open_step(nomination).pk == task.pk
