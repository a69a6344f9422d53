"""Nominees and nominations through the API: the tracker's filters and search, opening, editing, submitting
and withdrawing a case through the services (each writing its audit entry), 409 with the case as it is
on a stale version, 400 with the fields' errors, and a constant number of queries per page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes import services
from processes.models import Nomination, Procedure, Stage
from processes.selectors import case_route, nomination_timeline
from tests.api.conftest import token_client
from tests.factories import NomineeFactory, attach_file, make_nomination, open_step, submitted
from workflow.audit import audit_entries_for

pytestmark = pytest.mark.django_db


def actions_of(nomination) -> list[str]:
    return [entry.action for entry in audit_entries_for(nomination)]


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


# --- the list ----------------------------------------------------------------------------------------


def test_search_without_diacritics_finds_the_accented_name(world):
    hoa = make_nomination(world.org, nominee=NomineeFactory(unit=world.org.hospital, name="Lê Thị Hoa"))
    world.inside.nominee.name = "Nguyễn Thị Lan"
    world.inside.nominee.save()
    client = world.client("admin")

    found = client.get("/api/v1/nominations/", {"q": "nguyen lan"})

    assert found.status_code == 200
    assert ids(found) == {world.inside.pk}
    assert ids(client.get("/api/v1/nominations/", {"q": "HOA"})) == {hoa.pk}


def test_filters_narrow_the_list_and_scope_holds_under_them(world):
    admin = world.client("admin")
    assert ids(admin.get("/api/v1/nominations/", {"unit": world.org.district.pk})) == {world.outside.pk}
    assert ids(admin.get("/api/v1/nominations/", {"stage": Stage.WITHDRAWN})) == set()
    # The hospital's head filtering by the ward's unit gets nothing of the ward.
    head_a = world.client("head_a")
    assert ids(head_a.get("/api/v1/nominations/", {"unit": world.org.ward.pk})) == set()
    assert ids(head_a.get("/api/v1/nominations/")) == {world.inside.pk}


def test_a_refused_filter_is_400_with_its_error(world):
    response = world.client("admin").get("/api/v1/nominations/", {"due_within": 999, "stage": "nonsense"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"due_within", "stage"}


def test_pages_follow_the_cursor_without_repeating_a_case(world):
    for _ in range(3):
        make_nomination(world.org)
    client = world.client("admin")
    seen, url = [], "/api/v1/nominations/?page_size=2"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted(Nomination.objects.values_list("pk", flat=True), reverse=True)


def _count_list_queries(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


@pytest.mark.parametrize("url", ["/api/v1/nominations/?page_size=200", "/api/v1/nominees/?page_size=200"])
def test_list_queries_stay_constant_at_10_and_200_rows(world, url):
    client = world.client("head_a")
    submitted(world.org)  # a case with an open step and its holders

    def grow_to(rows):
        while Nomination.objects.filter(unit=world.org.hospital).count() < rows:
            make_nomination(world.org)

    grow_to(10)
    small, small_rows = _count_list_queries(client, url)
    grow_to(200)
    large, large_rows = _count_list_queries(client, url)

    assert (small_rows, large_rows) == (10, 200)
    assert small == large


# --- one case -------------------------------------------------------------------------------------------


def test_a_case_shows_its_open_step_with_holders_and_due_time(world):
    nomination = submitted(world.org)
    task = open_step(nomination)

    body = world.client("head_a").get(f"/api/v1/nominations/{nomination.pk}/").json()

    assert body["stage"] == Stage.SUMMARISE
    assert body["version"] == nomination.version
    assert body["award_form"]["id"] == world.org.city_form.pk
    assert body["decision_number"] is None
    [step] = body["open_steps"]
    assert step["id"] == task.pk
    assert step["due_at"]
    assert {holder["id"] for holder in step["holders"]} == {c.user_id for c in task.candidates.filter(is_open=True)}


def test_a_script_in_a_name_comes_back_as_data(world):
    world.inside.nominee.name = "<script>alert(1)</script>"
    world.inside.nominee.save()

    response = world.client("head_a").get(f"/api/v1/nominations/{world.inside.pk}/")

    assert response["Content-Type"] == "application/json"
    assert response.json()["nominee"]["name"] == "<script>alert(1)</script>"


# --- writes ---------------------------------------------------------------------------------------------


def test_opening_a_case_goes_through_the_service_and_is_audited(world):
    nominee = NomineeFactory(unit=world.org.hospital)

    response = world.client("secretary").post(
        "/api/v1/nominations/",
        {
            "campaign": world.org.campaign.pk,
            "award_form": world.org.unit_form.pk,
            "nominee": nominee.pk,
            "achievement_summary": "Hoàn thành xuất sắc nhiệm vụ",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    created = Nomination.objects.get(pk=response.json()["id"])
    assert created.unit == world.org.hospital
    assert created.created_by == world.org.hospital_secretary
    assert actions_of(created) == ["processes.nomination.created"]


def test_opening_a_case_with_bad_input_is_400_with_field_errors(world):
    response = world.client("secretary").post(
        "/api/v1/nominations/", {"award_form": "x", "procedure": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert {"campaign", "award_form", "procedure", "nominee"} <= set(response.json()["errors"])


def test_a_second_open_case_for_the_same_nominee_form_and_campaign_is_refused(world):
    body = {"campaign": world.org.campaign.pk, "award_form": world.org.city_form.pk, "nominee": world.inside.nominee_id}

    response = world.client("head_a").post("/api/v1/nominations/", body, format="json")

    assert response.status_code == 400
    assert Nomination.objects.filter(nominee=world.inside.nominee).count() == 1


def test_editing_sends_the_version_and_is_audited(world):
    client = world.client("head_a")

    response = client.patch(
        f"/api/v1/nominations/{world.inside.pk}/",
        {"version": world.inside.version, "mentor": "Phạm Văn Hùng"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["mentor"] == "Phạm Văn Hùng"
    assert response.json()["version"] == world.inside.version + 1
    assert actions_of(world.inside)[-1] == "processes.nomination.updated"


def test_a_stale_version_is_409_with_the_case_as_it_is(world):
    client = world.client("head_a")
    url = f"/api/v1/nominations/{world.inside.pk}/"
    first = client.patch(url, {"version": world.inside.version, "mentor": "A"}, format="json")
    assert first.status_code == 200

    stale = client.patch(url, {"version": world.inside.version, "mentor": "B"}, format="json")

    assert stale.status_code == 409
    body = stale.json()
    assert body["code"] == "conflict"
    assert body["current"]["version"] == world.inside.version + 1
    assert body["current"]["mentor"] == "A"
    world.inside.refresh_from_db()
    assert world.inside.mentor == "A"


def test_editing_without_a_version_is_400(world):
    response = world.client("head_a").patch(f"/api/v1/nominations/{world.inside.pk}/", {"mentor": "A"}, format="json")

    assert response.status_code == 400
    assert "version" in response.json()["errors"]


def test_submitting_starts_the_chain_and_is_audited(world):
    nomination = make_nomination(world.org, nominee=NomineeFactory(unit=world.org.hospital), procedure=Procedure.AD_HOC)
    attach_file(nomination, world.org.report_type, user=world.org.hospital_secretary)

    response = world.client("secretary").post(
        f"/api/v1/nominations/{nomination.pk}/submit/", {"version": nomination.version}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["stage"] == Stage.SUMMARISE
    assert response.json()["open_steps"]
    assert actions_of(nomination)[-1] == "processes.nomination.submitted_simplified"


def test_a_transition_not_open_is_409_with_the_current_state(world):
    # A regular case in discover is cultivated first: submitting it now is not open.
    response = world.client("head_a").post(
        f"/api/v1/nominations/{world.inside.pk}/submit/", {"version": world.inside.version}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["current"]["stage"] == Stage.DISCOVER


def test_withdrawing_needs_a_reason_and_is_audited(world):
    client = world.client("head_a")
    url = f"/api/v1/nominations/{world.inside.pk}/withdraw/"

    missing = client.post(url, {"version": world.inside.version}, format="json")
    assert missing.status_code == 400
    assert "reason" in missing.json()["errors"]

    done = client.post(url, {"version": world.inside.version, "reason": "Đơn vị rút hồ sơ"}, format="json")

    assert done.status_code == 200, done.content
    assert done.json()["stage"] == Stage.WITHDRAWN
    last = list(audit_entries_for(world.inside))[-1]
    assert (last.action, last.comment) == ("processes.nomination.withdrawn", "Đơn vị rút hồ sơ")


def test_a_permitted_viewer_who_may_not_act_gets_403_and_nothing_changes(world):
    response = world.client("secretary").post(
        f"/api/v1/nominations/{world.inside.pk}/withdraw/",
        {"version": world.inside.version, "reason": "Không"},
        format="json",
    )

    assert response.status_code == 403
    world.inside.refresh_from_db()
    assert world.inside.stage == Stage.DISCOVER


# --- timeline and route ---------------------------------------------------------------------------------


def test_the_timeline_is_the_case_pages(world):
    nomination = submitted(world.org)

    body = world.client("head_a").get(f"/api/v1/nominations/{nomination.pk}/timeline/").json()

    page = nomination_timeline(nomination)
    assert [entry["action"] for entry in body["entries"]] == [entry.action for entry in page]
    assert [entry["label"] for entry in body["entries"]] == [str(entry.label) for entry in page]


def test_the_route_gives_the_steps_and_the_position(world):
    nomination = submitted(world.org)
    route = case_route(nomination=nomination)

    body = world.client("head_a").get(f"/api/v1/nominations/{nomination.pk}/route/").json()

    assert (body["submitted"], body["position"], body["total"]) == (True, route.position, route.total)
    assert [step["state"] for step in body["steps"]].count("current") == 1
    assert len(body["steps"]) == len(route.steps)


def test_a_case_not_yet_submitted_has_no_route(world):
    body = world.client("head_a").get(f"/api/v1/nominations/{world.inside.pk}/route/").json()

    assert (body["submitted"], body["position"], body["steps"]) == (False, None, [])


# --- nominees -------------------------------------------------------------------------------------------


def test_id_numbers_are_masked_unless_the_user_may_see_them(world):
    url = f"/api/v1/nominees/{world.inside.nominee_id}/"
    whole = world.inside.nominee.id_number

    assert world.client("head_a").get(url).json()["id_number"] == world.inside.nominee.masked_id_number
    assert world.client("board").get(url).json()["id_number"] == whole


def test_registering_a_nominee_goes_through_the_service(world):
    client = world.client("secretary")

    response = client.post(
        "/api/v1/nominees/",
        {"unit": world.org.hospital.pk, "kind": "individual", "name": "Trần Thị Mai", "id_number": "123"},
        format="json",
    )
    assert response.status_code == 400
    assert "id_number" in response.json()["errors"]

    response = client.post(
        "/api/v1/nominees/",
        {"unit": world.org.hospital.pk, "kind": "individual", "name": "Trần Thị Mai", "id_number": "031234567890"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["id_number"] == "••••••••7890"
    listed = token_client(world.org.hospital_secretary).get("/api/v1/nominees/").json()["results"]
    assert response.json()["id"] in {row["id"] for row in listed}


def test_a_regular_case_is_cultivated_then_submitted_through_the_api(world):
    attach_file(world.inside, world.org.report_type, user=world.org.hospital_secretary)
    head = world.client("head_a")

    started = head.post(
        f"/api/v1/nominations/{world.inside.pk}/start-cultivation/", {"version": world.inside.version}, format="json"
    )
    assert started.status_code == 200, started.content
    assert started.json()["stage"] == Stage.CULTIVATE
    assert actions_of(world.inside)[-1] == "processes.nomination.cultivation_started"

    submitted_now = head.post(
        f"/api/v1/nominations/{world.inside.pk}/submit/", {"version": started.json()["version"]}, format="json"
    )
    assert submitted_now.status_code == 200, submitted_now.content
    assert submitted_now.json()["stage"] == Stage.SUMMARISE


def test_a_returned_case_is_resubmitted_through_the_api_and_resumes(world):
    nomination = submitted(world.org)
    step = open_step(nomination)
    services.nomination_decide(task_id=step.pk, by=world.org.hospital_head, action="return", comment="Bổ sung")
    nomination.refresh_from_db()
    assert nomination.stage == Stage.RETURNED

    response = world.client("secretary").post(
        f"/api/v1/nominations/{nomination.pk}/resubmit/", {"version": nomination.version}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["stage"] == Stage.SUMMARISE
    assert actions_of(nomination)[-1] == "processes.nomination.resubmitted"
