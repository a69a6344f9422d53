"""The public pages (no log-in): the nominees in their posting window with the objection form, and the
awards lookup; each behind its setting, rate-limited, showing nothing personal beyond what is listed."""

import threading
from datetime import date

import pytest
from django.core.cache import caches
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Event, Outbox
from processes.models import Decision, Objection
from tests.factories import NomineeFactory, approve_until, holders, make_nomination, open_step, run_out, submitted
from tests.workflow.test_council_posting_consultation import posted
from workflow.audit import audit_entries_for

POSTING = reverse("processes:public-posting")
AWARDS = reverse("processes:public-awards")


def objection_url(nomination) -> str:
    return reverse("processes:public-objection", args=[nomination.pk])


@pytest.fixture(autouse=True)
def _public(settings, db):
    settings.PUBLIC_POSTING_PAGE = True
    settings.PUBLIC_AWARDS_LOOKUP = True
    settings.PUBLIC_RATE_LIMIT = "1000/m"
    settings.PUBLIC_OBJECTION_RATE_LIMIT = "1000/h"
    caches["ratelimit"].clear()
    yield
    caches["ratelimit"].clear()


OBJECTION = {"author": "Trần Văn Bình", "contact": "0912 345 678", "content": "Từng bị kỷ luật năm 2025"}


def test_the_public_pages_answer_404_while_their_settings_are_off(client, org, settings):
    nomination, _window = posted(org)
    settings.PUBLIC_POSTING_PAGE = False
    settings.PUBLIC_AWARDS_LOOKUP = False
    assert client.get(POSTING).status_code == 404
    assert client.get(objection_url(nomination)).status_code == 404
    assert client.post(objection_url(nomination), OBJECTION).status_code == 404
    assert client.get(AWARDS).status_code == 404
    assert not Objection.objects.exists()
    settings.PUBLIC_AWARDS_LOOKUP = True  # each setting turns on its own page only
    assert client.get(AWARDS).status_code == 200
    assert client.get(POSTING).status_code == 404


def test_the_posting_page_lists_only_nominees_in_an_open_window_and_nothing_personal(client, org):
    nomination, window = posted(org)
    nominee = nomination.nominee
    appraised = approve_until(
        submitted(org, award_form=nomination.award_form, nominee=NomineeFactory(unit=org.hospital, name="Lê Thị Hồng")),
        "board_appraisal",
    )

    response = client.get(POSTING)  # no log-in

    assert response.status_code == 200
    page = response.text
    for shown in (
        nominee.name,
        nomination.unit.name,
        nomination.award_form.name,
        window.due_at.astimezone().strftime("%d/%m/%Y"),
    ):
        assert shown in page
    for hidden in (nominee.id_number, "17/05/1985", "1985-05-17", appraised.nominee.name, "Log out"):
        assert hidden not in page
    assert objection_url(nomination) in page
    assert reverse("login") in page


def test_a_public_objection_holds_the_case_and_reaches_the_board(client, org):
    nomination, window = posted(org)

    response = client.post(objection_url(nomination), OBJECTION)

    assert response.status_code == 302
    objection = Objection.objects.get(nomination=nomination)
    assert (objection.source, objection.recorded_by, objection.window_id, objection.contact) == (
        Objection.Source.PUBLIC,
        None,
        window.pk,
        "0912 345 678",
    )
    assert objection.client_address == "127.0.0.1"
    entry = audit_entries_for(nomination).get(action="processes.nomination.objection_recorded")
    assert (entry.actor, entry.data["source"]) == (None, "public")

    run_out(window)  # the window ends while the objection is unresolved: the Board must settle it

    task = open_step(nomination)
    assert (task.step.code, holders(task)) == ("public_posting", [org.board_officer])
    assert Outbox.objects.filter(
        recipient=org.board_officer, event=Event.TASK_ASSIGNED, object_id=nomination.pk
    ).exists()
    client.force_login(org.board_officer)
    case = client.get(reverse("processes:nomination-detail", args=[nomination.pk])).text
    assert "public objection" in case
    assert "Từng bị kỷ luật năm 2025" in case
    assert "sent by the public through the posting page" in case  # the timeline's entry


def test_a_closed_window_or_a_forged_id_answers_404_and_records_nothing(client, org):
    nomination, window = posted(org)
    appraised = approve_until(
        submitted(org, award_form=nomination.award_form, nominee=NomineeFactory(unit=org.hospital)), "board_appraisal"
    )
    for pk in (appraised.pk, 987654321):
        url = reverse("processes:public-objection", args=[pk])
        assert client.get(url).status_code == 404
        assert client.post(url, OBJECTION).status_code == 404
    run_out(window)
    assert open_step(nomination).step.code == "council_review"
    assert client.post(objection_url(nomination), OBJECTION).status_code == 404
    assert nomination.nominee.name not in client.get(POSTING).text
    assert not Objection.objects.exists()


def test_a_bad_objection_is_refused_with_what_was_typed_kept(client, org):
    nomination, _window = posted(org)
    response = client.post(objection_url(nomination), {**OBJECTION, "content": "  "})
    assert response.status_code == 400
    assert "Trần Văn Bình" in response.text
    assert not Objection.objects.exists()


def test_a_form_filled_in_by_a_program_is_thanked_and_dropped(client, org):
    nomination, _window = posted(org)
    response = client.post(objection_url(nomination), {**OBJECTION, "website": "http://spam.example"})
    assert response.status_code == 302
    assert not Objection.objects.exists()


def test_requests_over_the_limit_get_a_429_page_in_vietnamese(org, settings):
    nomination, _window = posted(org)
    settings.PUBLIC_RATE_LIMIT = "3/m"
    visitor = Client()  # no language chosen: Vietnamese
    assert [visitor.get(POSTING).status_code for _ in range(3)] == [200, 200, 200]
    refused = visitor.get(AWARDS)
    assert refused.status_code == 429
    assert "Quá nhiều yêu cầu" in refused.text

    caches["ratelimit"].clear()
    settings.PUBLIC_RATE_LIMIT = "100/m"
    settings.PUBLIC_OBJECTION_RATE_LIMIT = "2/h"
    codes = [
        visitor.post(objection_url(nomination), {**OBJECTION, "content": f"Phản ánh {n}"}).status_code for n in range(3)
    ]
    assert codes == [302, 302, 429]
    assert Objection.objects.count() == 2


def test_names_are_escaped(client, org):
    nomination, _window = posted(org)
    nominee = nomination.nominee
    nominee.name = "<script>alert(1)</script>"
    nominee.save()
    page = client.get(POSTING).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def award(org, name: str, number: str, signed_on=date(2026, 3, 20)) -> Decision:
    nomination = make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name=name))
    return Decision.objects.create(nomination=nomination, number=number, signed_on=signed_on, signer=org.chairman)


def test_the_awards_lookup_finds_names_without_diacritics_and_shows_only_the_listed_fields(client, org):
    found = award(org, "Nguyễn Văn A", "245/QĐ-UBND")
    award(org, "Trần Thị Bích", "246/QĐ-UBND")

    page = client.get(AWARDS, {"q": "Nguyen Van A"}).text

    for shown in (
        "Nguyễn Văn A",
        "245/QĐ-UBND",
        "20/03/2026",
        found.nomination.unit.name,
        found.nomination.award_form.name,
    ):
        assert shown in page
    assert "Trần Thị Bích" not in page
    assert found.nomination.nominee.id_number not in page
    assert "17/05/1985" not in page
    # An ID number finds nothing: the public cannot confirm whose it is.
    assert "Nguyễn Văn A" not in client.get(AWARDS, {"q": found.nomination.nominee.id_number}).text
    assert "Trần Thị Bích" in client.get(AWARDS, {"q": "246"}).text


def test_the_awards_lookup_publishes_from_the_year_set(client, org, settings):
    award(org, "Nguyễn Văn Cũ", "12/QĐ-UBND", signed_on=date(2019, 5, 1))
    award(org, "Nguyễn Văn Mới", "13/QĐ-UBND", signed_on=date(2026, 5, 1))
    settings.PUBLIC_AWARDS_FROM_YEAR = 2020
    page = client.get(AWARDS).text
    assert "Nguyễn Văn Mới" in page
    assert "Nguyễn Văn Cũ" not in page


def queries_for(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured)


def test_the_awards_lookup_runs_a_constant_number_of_queries(client, org):
    for n in range(10):
        award(org, f"Phạm Văn {n}", f"{n}/QĐ-UBND")
    client.get(AWARDS)  # content types and the like, cached once per process
    at_ten = [queries_for(client, AWARDS), queries_for(client, AWARDS, {"q": "Pham"})]
    for n in range(10, 200):
        award(org, f"Phạm Văn {n}", f"{n}/QĐ-UBND")
    at_two_hundred = [queries_for(client, AWARDS), queries_for(client, AWARDS, {"q": "Pham"})]
    assert at_ten == at_two_hundred
    page = client.get(AWARDS).text
    assert page.count("/QĐ-UBND</td>") == 50
    next_page = client.get(AWARDS, {"after": Decision.objects.order_by("-pk")[49].pk}).text
    assert "149/QĐ-UBND" in next_page
    assert "150/QĐ-UBND" not in next_page


def test_the_posting_page_runs_a_constant_number_of_queries(client, org):
    first, _window = posted(org)
    client.get(POSTING)
    at_one = queries_for(client, POSTING)
    second = approve_until(
        submitted(org, award_form=first.award_form, nominee=NomineeFactory(unit=org.hospital)), "public_posting"
    )
    assert open_step(second).step.code == "public_posting"
    assert queries_for(client, POSTING) == at_one
    assert second.nominee.name in client.get(POSTING).text


def test_a_bad_page_link_is_ignored(client, org):
    assert client.get(AWARDS, {"after": "x²"}).status_code == 200
    assert client.get(POSTING, {"after": "-1"}).status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_rate_counts_lose_no_request_made_at_the_same_time():
    """Django's DatabaseCache.incr reads and writes back: concurrent requests would count once."""
    counts = caches["ratelimit"]
    counts.add("burst", 0, 600)
    start = threading.Barrier(8)

    def hit():
        try:
            start.wait(10)
            for _ in range(25):
                counts.incr("burst")
        finally:
            connections.close_all()

    workers = [threading.Thread(target=hit) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert counts.get("burst") == 200
