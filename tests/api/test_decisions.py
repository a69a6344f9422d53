"""Decisions through the API: one step (approve, return, reject; the signing step signs a numbered
decision), several at once as on My work, a 409 with the case now when it moved, and the numbered
decisions with their papers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from processes.models import AwardDecision, Decision, Nomination, Stage
from tests.api import decision_cases as cases
from tests.factories import NomineeFactory, make_nomination, open_step
from workflow.calendar import is_working_day
from workflow.models import ApprovalTask

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def decide(client, task, **body):
    return client.post(f"/api/v1/steps/{task.pk}/decide/", body, format="json")


def test_the_holder_approves_and_the_case_moves_to_its_next_step(world):
    task, nomination = cases.first_step(world)
    response = decide(world.client("head_a"), task, action="approve", version=nomination.version)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["nomination"] == nomination.pk
    assert body["version"] == Nomination.objects.get(pk=nomination.pk).version > nomination.version
    assert body["step"]["code"] == "proposer_submit"
    assert [holder["id"] for holder in body["step"]["holders"]] == [world.org.director.pk]
    assert ApprovalTask.objects.get(pk=task.pk).action == "approve"


@pytest.mark.parametrize(("action", "stage"), [("return", Stage.RETURNED), ("reject", Stage.REJECTED)])
def test_the_holder_returns_or_rejects_with_a_reason(world, action, stage):
    task, nomination = cases.first_step(world)
    client = world.client("head_a")
    refused = decide(client, task, action=action, version=nomination.version)
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"
    response = decide(client, task, action=action, comment="Thiếu báo cáo", version=nomination.version)
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == stage
    assert Nomination.objects.get(pk=nomination.pk).stage == stage


def test_deciding_a_step_twice_is_a_conflict_with_the_case_now(world):
    task, nomination = cases.first_step(world)
    client = world.client("head_a")
    assert decide(client, task, action="approve", version=nomination.version).status_code == 200
    again = decide(client, task, action="approve", version=nomination.version)
    assert again.status_code == 409
    body = again.json()
    assert body["code"] == "conflict"
    now = Nomination.objects.get(pk=nomination.pk)
    assert body["current"]["version"] == now.version
    assert body["current"]["stage"] == now.stage
    assert body["current"]["step"]["code"] == "proposer_submit"
    assert body["current"]["step"]["holders"][0]["id"] == world.org.director.pk


def test_a_stale_version_is_a_conflict_and_decides_nothing(world):
    task, nomination = cases.first_step(world)
    response = decide(world.client("head_a"), task, action="approve", version=nomination.version - 1)
    assert response.status_code == 409
    assert response.json()["current"] == {
        "nomination": nomination.pk,
        "stage": nomination.stage,
        "version": nomination.version,
        "step": {
            "task": task.pk,
            "code": "unit_confirm",
            "name": task.step.name,
            "holders": [{"id": world.org.hospital_head.pk, "name": world.org.hospital_head.get_full_name()}],
        },
    }
    assert ApprovalTask.objects.get(pk=task.pk).closed_at is None


def test_who_does_not_hold_the_step_gets_403_if_they_see_the_case_and_404_if_not(world):
    task, nomination = cases.first_step(world)
    assert decide(world.client("secretary"), task, action="approve", version=nomination.version).status_code == 403
    hidden = decide(world.client("head_b"), task, action="approve", version=nomination.version)
    assert hidden.status_code == 404
    assert nomination.nominee.name not in hidden.content.decode()
    assert decide(world.client("head_a"), ApprovalTask(pk=10**17), action="approve", version=1).status_code == 404
    assert ApprovalTask.objects.get(pk=task.pk).closed_at is None


def test_the_signing_step_is_signed_as_a_numbered_decision(world):
    task, nomination = cases.at_signing(world)
    if not is_working_day(timezone.localdate()):
        refused = decide(world.client("chairman"), task, action="approve", version=nomination.version)
        assert (refused.status_code, refused.json()["code"]) == (400, "confirm_non_working_day")
    response = decide(
        world.client("chairman"), task, action="approve", version=nomination.version, confirm_non_working_day=True
    )
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == Stage.REPLICATE
    award = Decision.objects.get(nomination=nomination)
    assert award.document is not None
    assert award.document.signer == world.org.chairman


# --- several at once ------------------------------------------------------------------------------


def test_bulk_decides_each_case_and_reports_the_stale_one(world):
    first, second, stale = (cases.hospital_case(world, "unit_confirm") for _ in range(3))
    items = [{"task": open_step(n).pk, "version": n.version} for n in (first, second)]
    items.append({"task": open_step(stale).pk, "version": stale.version - 1})
    response = world.client("head_a").post("/api/v1/steps/decide/", {"items": items, "comment": ""}, format="json")
    assert response.status_code == 200, response.content
    rows = {row["nomination"]: row for row in response.json()["items"]}
    assert [rows[n.pk]["outcome"] for n in (first, second, stale)] == ["decided", "decided", "refused"]
    assert rows[stale.pk]["code"] == "conflict"
    assert rows[stale.pk]["detail"]
    assert rows[stale.pk]["current"]["step"]["code"] == "unit_confirm"
    assert rows[first.pk]["current"]["step"]["code"] == "proposer_submit"
    assert open_step(stale).step.code == "unit_confirm"


def test_a_forged_or_foreign_id_in_a_bulk_refuses_the_whole_batch_naming_nothing(world):
    mine, foreign = cases.hospital_case(world, "unit_confirm"), cases.hospital_case(world, "unit_confirm")
    # The ward's head does not see the hospital's case: its step is not theirs to name.
    items = [{"task": open_step(foreign).pk, "version": foreign.version}]
    response = world.client("head_b").post("/api/v1/steps/decide/", {"items": items}, format="json")
    assert response.status_code == 404
    assert foreign.nominee.name not in response.content.decode()
    forged = [{"task": open_step(mine).pk, "version": mine.version}, {"task": 10**17, "version": 1}]
    response = world.client("head_a").post("/api/v1/steps/decide/", {"items": forged}, format="json")
    assert response.status_code == 404
    assert open_step(mine).step.code == "unit_confirm"  # the good one was not decided either
    assert open_step(foreign).step.code == "unit_confirm"


# --- numbered decisions and their papers --------------------------------------------------------


def test_two_cases_are_signed_on_one_decision_and_its_papers_download(world):
    first, second = cases.hospital_case(world), cases.hospital_case(world)
    chairman = world.client("chairman")
    body = {
        "tasks": [{"task": open_step(n).pk, "version": n.version} for n in (first, second)],
        "signed_on": cases.last_working_day().isoformat(),
    }
    response = chairman.post("/api/v1/decisions/sign/", body, format="json")
    assert response.status_code == 201, response.content
    signed = response.json()
    assert signed["awardee_count"] == 2
    assert {row["nomination"] for row in signed["awardees"]} == {first.pk, second.pk}
    document = AwardDecision.objects.get()
    assert signed["number"] == document.number
    assert set(Nomination.objects.filter(pk__in=[first.pk, second.pk]).values_list("stage", flat=True)) == {
        Stage.REPLICATE
    }
    for paper in ("decision.docx", "certificates.docx"):
        download = world.client("head_a").get(f"/api/v1/decisions/{document.pk}/{paper}")
        assert download.status_code == 200
        assert download["Content-Type"] == DOCX
        assert download.content[:2] == b"PK"
    assert world.client("head_b").get(f"/api/v1/decisions/{document.pk}/decision.docx").status_code == 404
    detail = world.client("head_a").get(f"/api/v1/decisions/{document.pk}/")
    assert detail.json()["signer"]["id"] == world.org.chairman.pk


def test_signing_on_a_day_off_asks_for_confirmation(world):
    task, nomination = cases.at_signing(world)
    day = timezone.localdate()
    while is_working_day(day):
        day -= timedelta(days=1)
    body = {"tasks": [{"task": task.pk, "version": nomination.version}], "signed_on": day.isoformat()}
    refused = world.client("chairman").post("/api/v1/decisions/sign/", body, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "confirm_non_working_day")
    assert not AwardDecision.objects.exists()
    confirmed = world.client("chairman").post(
        "/api/v1/decisions/sign/", {**body, "confirm_non_working_day": True}, format="json"
    )
    assert confirmed.status_code == 201, confirmed.content


def test_signing_a_stale_case_is_a_conflict_and_signs_nothing(world):
    task, nomination = cases.at_signing(world)
    body = {"tasks": [{"task": task.pk, "version": nomination.version - 1}], "confirm_non_working_day": True}
    response = world.client("chairman").post("/api/v1/decisions/sign/", body, format="json")
    assert response.status_code == 409
    assert nomination.nominee.name in response.json()["detail"]
    assert not AwardDecision.objects.exists()


def _decisions(world, count):
    """``count`` numbered decisions of hospital cases (rows made directly: the list is what is tested)."""
    org = world.org
    for _ in range(count):
        nomination = make_nomination(org, unit=org.hospital, nominee=NomineeFactory(unit=org.hospital))
        sequence = AwardDecision.objects.count() + 1
        document = AwardDecision.objects.create(
            issuer=org.city,
            year=2026,
            sequence=sequence,
            symbol="QĐ-UBND",
            signed_on=date(2026, 1, 5),
            signer=org.chairman,
        )
        Decision.objects.create(
            nomination=nomination,
            number=document.number,
            signed_on=document.signed_on,
            signer=org.chairman,
            document=document,
        )


def _queries(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def test_the_decisions_list_reads_a_constant_number_of_queries(world):
    client = world.client("head_a")
    _decisions(world, 10)
    few, shown = _queries(client, "/api/v1/decisions/?page_size=200")
    assert shown == 10
    _decisions(world, 190)
    many, shown = _queries(client, "/api/v1/decisions/?page_size=200")
    assert shown == 200
    assert many == few
    assert world.client("head_b").get("/api/v1/decisions/").json()["results"] == []
