"""The route on every case: "Bước 3/6" among the steps that apply to it, and its template version drawn
as an inline SVG (no script) with each step decided, current or ahead, in a constant number of queries."""

import xml.etree.ElementTree as ET
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from processes.selectors import case_route
from tests.factories import NomineeFactory, approve_until, holders, make_nomination, open_step, submitted
from workflow.diagram import StepProgress, template_svg
from workflow.models import ProcessTemplate, StepKind, TemplateVersion

SVG = "{http://www.w3.org/2000/svg}"


def _steps(svg: str) -> dict[str, ET.Element]:
    """The step boxes of a drawn route, by their id (``step-<position>``)."""
    root = ET.fromstring(svg)
    return {group.get("id"): group for group in root.iter(f"{SVG}g") if "step" in group.get("class", "").split()}


def _texts(group: ET.Element) -> str:
    return " ".join(text.text or "" for text in group.iter(f"{SVG}text"))


@pytest.fixture
def voted_form(org):
    """The city form with the council's vote and no public posting: six steps of the chain's seven apply."""
    org.city_form.council_vote = True
    org.city_form.public_posting_working_days = 0
    org.city_form.save()
    return org.city_form


def test_the_case_page_says_step_3_of_6_at_the_third_step(org, voted_form, settings):
    nomination = approve_until(submitted(org), "board_intake")
    client = Client()  # in Vietnamese, the default language
    client.force_login(org.hospital_secretary)
    page = client.get(reverse("processes:nomination-detail", args=[nomination.pk])).text
    assert "Bước 3/6" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="route-diagram"' in page


def test_a_skipped_step_is_not_counted_and_is_drawn_as_not_taken(org, voted_form):
    nomination = approve_until(submitted(org), "board_appraisal")
    route = case_route(nomination=nomination)
    assert (route.position, route.total) == (4, 6)  # the posting step (position 45) does not apply
    steps = _steps(route.svg)
    assert "skipped" in steps["step-45"].get("class").split()
    assert "Not taken for this case" in _texts(steps["step-45"])
    # Without the council's vote, the vote step is skipped too: five steps, still at the fourth.
    voted_form.council_vote = False
    voted_form.save()
    route = case_route(nomination=nomination)
    assert (route.position, route.total) == (4, 5)
    assert "skipped" in _steps(route.svg)["step-50"].get("class").split()


def test_decided_steps_say_who_and_when_the_current_one_its_holder_and_due_time(org, voted_form):
    nomination = approve_until(submitted(org), "board_intake")
    task = open_step(nomination)
    steps = _steps(case_route(nomination=nomination).svg)
    states = {key: group.get("class").split()[2] for key, group in steps.items()}
    assert states == {
        "step-10": "decided",
        "step-20": "decided",
        "step-30": "current",
        "step-40": "ahead",
        "step-45": "skipped",
        "step-50": "ahead",
        "step-60": "ahead",
    }
    first = _texts(steps["step-10"])
    assert "hospital_head" in first or org.hospital_head.get_full_name() in first
    assert "Approve" in first
    current = steps["step-30"]
    assert current.get("aria-current") == "step"
    due = timezone.localtime(task.due_at).strftime("%d/%m/%Y %H:%M")
    assert due in _texts(current)
    holder = holders(task)[0]
    assert (holder.get_full_name() or holder.get_username()) in _texts(current)
    # The current step stands out: a thicker outline than the others.
    widths = {key: group.find(f"{SVG}rect").get("stroke-width") for key, group in steps.items()}
    assert widths["step-30"] == "3"
    assert all(width != "3" for key, width in widths.items() if key != "step-30")


def test_vote_posting_consultation_and_return_are_drawn_distinctly(org):
    org.city_form.council_vote = True
    org.city_form.public_posting_working_days = 5
    org.city_form.save()
    route = case_route(nomination=submitted(org))
    assert route.total == 7
    root = ET.fromstring(route.svg)
    classes = {key: group.get("class").split() for key, group in _steps(route.svg).items()}
    assert "vote" in classes["step-50"]
    assert "posting" in classes["step-45"]
    assert "decision" in classes["step-40"]
    # The Board's appraisal, held by a group, may consult other agencies; the return loops and the
    # vote's send-back edge (to the Board's last group step before it) are drawn.
    groups = [group.get("class") for group in root.iter(f"{SVG}g")]
    assert "consultation" in groups
    assert groups.count("return-edge") == 5  # each step allowing "return" (not the vote, not the posting)
    assert groups.count("send-back-edge") == 1
    assert root.find(f"{SVG}title").text.startswith("Route of the case of")


def test_every_name_is_escaped_in_the_svg(org):
    nominee = NomineeFactory(unit=org.hospital, name="<script>alert('nominee')</script>")
    route = case_route(nomination=submitted(org, nominee=nominee))
    assert "<script" not in route.svg
    assert "&lt;script&gt;" in route.svg
    template = ProcessTemplate.objects.create(code="xss", name='<img src=x onerror="alert(1)">')
    version = TemplateVersion.objects.create(template=template, number=1)
    version.steps.create(
        position=1,
        code="evil",
        name="<script>alert('step')</script>",
        kind=StepKind.DECISION,
        approver_rule="subject_unit_head",
        actions=["approve"],
        deadline_working_days=3,
    )
    svg = template_svg(version, {1: StepProgress(state="current", holder="</text><script>x</script>")})
    root = ET.fromstring(svg)  # well-formed
    assert not list(root.iter(f"{SVG}script"))
    assert not list(root.iter("script"))
    assert "<script" not in svg
    assert "<img" not in svg
    assert "<script>alert('step')</script>" in _texts(root)


def test_the_page_escapes_a_nominee_called_script(client, org):
    nominee = NomineeFactory(unit=org.hospital, name="<script>alert(1)</script>")
    nomination = submitted(org, nominee=nominee)
    client.force_login(org.hospital_secretary)
    page = client.get(reverse("processes:nomination-detail", args=[nomination.pk])).text
    assert "<script>alert(1)" not in page


def test_the_route_adds_a_fixed_small_number_of_queries_to_the_case_page(client, org, voted_form, monkeypatch):
    from processes import views

    client.force_login(org.admin)

    def page_queries(nomination) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("processes:nomination-detail", args=[nomination.pk]))
        assert response.status_code == 200
        return len(captured)

    def route_queries(nomination) -> int:
        with CaptureQueriesContext(connection) as captured:
            case_route(nomination=nomination)
        return len(captured)

    cases = [approve_until(submitted(org), code) for code in ("unit_confirm", "board_intake", "chairman_decision")]
    # The route alone: the same few queries at the first step, the third and the last.
    costs = {route_queries(nomination) for nomination in cases}
    assert len(costs) == 1
    assert costs.pop() <= 6
    with_route = [page_queries(nomination) for nomination in cases]
    monkeypatch.setattr(views, "case_route", lambda **kwargs: None)
    without_route = [page_queries(nomination) for nomination in cases]
    added = {had - hadnt for had, hadnt in zip(with_route, without_route, strict=True)}
    assert len(added) == 1
    assert 0 < added.pop() <= 6


def test_before_submission_a_case_has_no_route_yet(client, org):
    nomination = make_nomination(org)
    assert case_route(nomination=nomination) is None
    client.force_login(org.hospital_secretary)
    assert client.get(reverse("processes:nomination-detail", args=[nomination.pk])).status_code == 200


def test_a_finished_route_says_so(org):
    nomination = approve_until(submitted(org))  # at the last step
    from processes.services import nomination_decide

    task = open_step(nomination)
    nomination_decide(task_id=task.pk, by=holders(task)[0], action="approve", decision_number="12/QĐ-UBND")
    route = case_route(nomination=nomination)
    assert route.finished
    assert route.position is None
    assert all(
        "decided" in group.get("class").split() or "skipped" in group.get("class").split()
        for group in _steps(route.svg).values()
    )


def test_the_diagram_scales_with_its_viewbox(org):
    version = TemplateVersion.objects.filter(template__code="city_regular", effective_from__lte=date.today()).first()
    root = ET.fromstring(template_svg(version))
    _x, _y, width, _height = root.get("viewBox").split()
    assert width == "400"
    steps = _steps(ET.tostring(root, encoding="unicode"))
    assert len(steps) == version.steps.count()
    assert all("plain" in group.get("class").split() for group in steps.values())
