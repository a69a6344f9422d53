"""Council sessions through the API: the Board opens one, members cast their secret ballots once, the
counts show only once the session is closed, and the list reads a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from processes.models import Nomination, Role
from tests.api import decision_cases as cases
from tests.api.conftest import token_client
from tests.factories import UserFactory, member, open_step
from workflow.flows import CouncilFlow
from workflow.models import VoteSession


def _ballot(client, session_id, choices):
    return client.post(f"/api/v1/council/sessions/{session_id}/ballot/", {"choices": choices}, format="json")


def test_a_ballot_cast_through_the_api_counts_in_the_tally(world):
    second = UserFactory(username="council_two")
    member(second, world.org.council, Role.MEMBER)
    task = cases.awaiting_council(world)
    opened = world.client("board").post(
        "/api/v1/council/sessions/", {"title": "Phiên họp tháng 12", "tasks": [task.pk], "closes_on": "2099-12-31"}
    )
    assert opened.status_code == 201, opened.content
    session = opened.json()
    item = session["items"][0]["id"]

    first = world.client("council")
    assert first.get(f"/api/v1/council/sessions/{session['id']}/").json()["my_ballot"]["may_vote"] is True
    voted = _ballot(first, session["id"], [{"item": item, "choice": "yes"}])
    assert voted.status_code == 200, voted.content
    body = voted.json()
    assert body["my_ballot"]["may_vote"] is False
    assert body["my_ballot"]["voted_at"]
    assert (body["is_closed"], body["items"][0]["yes"], body["ballots_cast"]) == (False, None, 1)

    again = _ballot(first, session["id"], [{"item": item, "choice": "no"}])
    assert (again.status_code, again.json()["code"]) == (409, "conflict")

    last = _ballot(token_client(second), session["id"], [{"item": item, "choice": "yes"}])
    assert last.status_code == 200, last.content
    closed = world.client("board").get(f"/api/v1/council/sessions/{session['id']}/").json()
    assert closed["is_closed"] is True
    assert (closed["items"][0]["yes"], closed["items"][0]["no"], closed["items"][0]["outcome"]) == (2, 0, "passed")
    assert open_step(Nomination.objects.get(pk=task.process.subject_id)).step.code == "chairman_decision"


def test_a_ballot_must_name_every_case_the_member_votes_on(world):
    session = cases.open_session(world)
    response = _ballot(world.client("council"), session.pk, [{"item": 10**15, "choice": "yes"}])
    assert response.status_code == 400
    assert session.receipts.count() == 0


def test_only_whoever_may_convene_opens_a_session(world):
    task = cases.awaiting_council(world)
    body = {"title": "Phiên họp", "tasks": [task.pk], "closes_on": "2099-12-31"}
    refused = world.client("head_a").post("/api/v1/council/sessions/", body)
    assert refused.status_code == 404
    assert not VoteSession.objects.exists()
    past = world.client("board").post("/api/v1/council/sessions/", {**body, "closes_on": "2000-01-01"})
    assert past.status_code == 400
    assert "closes_on" in past.json()["errors"]


def _sessions(world, count):
    org = world.org
    for number in range(count):
        VoteSession.objects.create(
            flow_class=CouncilFlow,
            title=f"Phiên {number}",
            council_unit_id=org.council.pk,
            council_label=org.council.name,
            opened_by=org.board_officer,
            opened_at=timezone.now(),
            closes_at=timezone.now() + timedelta(days=7),
            member_count=1,
        )


def test_the_sessions_list_reads_a_constant_number_of_queries(world):
    client = world.client("board")
    counts = []
    for total in (10, 200):
        _sessions(world, total - VoteSession.objects.count())
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/council/sessions/?page_size=200")
        assert len(response.json()["results"]) == total
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert world.client("head_b").get("/api/v1/council/sessions/").json()["results"] == []
