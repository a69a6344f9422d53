"""The council, posting and consultation screens: each write through its service, scoped per user."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from processes.models import Consultation, Objection, Role, Stage
from tests.factories import UserFactory, approve_until, member, open_step, submitted
from workflow.models import VoteSession


def _voting_form(org, *, posting_days=0):
    org.city_form.council_vote = True
    org.city_form.public_posting_working_days = posting_days
    org.city_form.council_threshold_percent = 50
    org.city_form.save()


def test_the_board_opens_a_session_members_vote_and_the_results_show_only_after_it_closes(client, org):
    _voting_form(org)
    second = UserFactory(username="council_two")
    member(second, org.council, Role.MEMBER)
    nomination = approve_until(submitted(org), "council_review")
    task = open_step(nomination)

    client.force_login(org.board_officer)
    page = client.get(reverse("processes:council")).text
    assert nomination.nominee.name in page
    response = client.post(
        reverse("processes:council"), {"task": [task.pk], "title": "Phiên họp tháng 12", "closes_on": "2099-12-31"}
    )
    session = VoteSession.objects.get()
    assert response.status_code == 302
    item = session.items.get()

    client.force_login(org.council_member)
    url = reverse("processes:council-session", args=[session.pk])
    assert client.post(url, {f"item-{item.pk}": "yes"}).status_code == 302
    page = client.get(url).text
    assert "1 / 2" in page
    assert "Passed" not in page  # no tally while the session is open

    client.force_login(second)
    client.post(url, {f"item-{item.pk}": "no"})
    page = client.get(url).text
    assert "Passed" in page  # 1 of 2 cast for, threshold 50 % of votes cast
    assert open_step(nomination).step.code == "chairman_decision"


def test_only_members_and_the_secretariat_see_a_session(client, org):
    _voting_form(org)
    nomination = approve_until(submitted(org), "council_review")
    client.force_login(org.board_officer)
    client.post(
        reverse("processes:council"),
        {"task": [open_step(nomination).pk], "title": "Phiên họp", "closes_on": "2099-12-31"},
    )
    session = VoteSession.objects.get()
    client.force_login(org.hospital_head)
    assert client.get(reverse("processes:council-session", args=[session.pk])).status_code == 404
    assert nomination.nominee.name not in client.get(reverse("processes:council")).text


def test_the_board_records_an_objection_while_the_nominee_is_posted(client, org):
    _voting_form(org, posting_days=10)
    nomination = approve_until(submitted(org), "public_posting")
    url = reverse("processes:objection-new", args=[nomination.pk])
    client.force_login(org.hospital_head)
    assert client.post(url, {"author": "Bà B", "content": "Chưa đúng"}).status_code == 409
    client.force_login(org.board_officer)
    assert client.post(url, {"author": "Ông A", "content": "<script>alert(1)</script>"}).status_code == 302
    page = client.get(reverse("processes:nomination-detail", args=[nomination.pk])).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert Objection.objects.filter(nomination=nomination).count() == 1


def test_the_board_asks_an_agency_and_its_secretary_answers_on_the_consultation_page(client, org):
    nomination = approve_until(submitted(org), "board_appraisal")
    task = open_step(nomination)
    client.force_login(org.board_officer)
    response = client.post(
        reverse("processes:consultation-new", args=[nomination.pk, task.pk]),
        {"agency": org.department.pk, "agency_name": "", "working_days": "10", "question": "Có vi phạm không?"},
    )
    assert response.status_code == 302
    consultation = Consultation.objects.get()

    client.force_login(org.department_secretary)
    assert consultation.nomination.nominee.name in client.get(reverse("processes:inbox")).text
    url = reverse("processes:consultation", args=[consultation.pk])
    assert client.post(url, {"answer": "Không vi phạm."}).status_code == 302
    consultation.refresh_from_db()
    assert (consultation.answer, consultation.via_board) == ("Không vi phạm.", False)

    client.force_login(org.outsider)
    assert client.get(url).status_code == 404


def test_an_approval_waiting_for_an_agency_says_so_and_keeps_the_step(client, org):
    nomination = approve_until(submitted(org), "board_appraisal")
    task = open_step(nomination)
    client.force_login(org.board_officer)
    client.post(
        reverse("processes:consultation-new", args=[nomination.pk, task.pk]),
        {"agency_name": "Cục Thuế", "working_days": "5", "question": "Chấp hành thuế?"},
    )
    response = client.post(reverse("processes:step-decide", args=[nomination.pk, task.pk]), {"action": "approve"})
    assert response.status_code == 409
    assert "Cục Thuế" in response.text
    assert open_step(nomination).pk == task.pk
    assert nomination.stage == Stage.SUMMARISE


def test_the_council_page_runs_the_same_queries_for_one_case_or_four_awaiting(client, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _voting_form(org)
    client.force_login(org.board_officer)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("processes:council")).status_code == 200
        return len(captured)

    approve_until(submitted(org), "council_review")
    few = queries()
    for _ in range(3):
        approve_until(submitted(org), "council_review")
    assert queries() == few


def test_the_session_list_shows_what_the_session_page_lets_each_user_see(client, org):
    from processes import services

    _voting_form(org)
    nomination = approve_until(submitted(org), "council_review")
    services.council_session_open(
        by=org.board_officer,
        title="Phiên họp quý IV",
        tasks=[open_step(nomination)],
        closes_at=timezone.now() + timedelta(days=3),
    )
    session = VoteSession.objects.get()
    for user, sees in (
        (org.council_member, True),  # holds a ballot
        (org.chairman, True),  # heads the city, whose council it is: may convene it
        (org.board_officer, True),
        (org.hospital_head, False),
    ):
        client.force_login(user)
        listed = "Phiên họp quý IV" in client.get(reverse("processes:council")).text
        page = client.get(reverse("processes:council-session", args=[session.pk])).status_code
        assert (listed, page == 200) == (sees, sees), user.username
