"""The dashboard: its figures equal counts taken by hand over seeded cases, it shows each user only what
they may count, it keeps a constant number of queries, and the below-target warning on a forwarding step."""

from collections import Counter, defaultdict
from datetime import datetime
from statistics import median
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from processes import services
from processes.choices import Gender, IndividualCategory, NomineeKind, Stage
from processes.models import ActivityKind, DisseminationActivity, Nomination
from processes.permissions import dashboard_nominations, may_see_dashboard
from processes.selectors.dashboard import dashboard, sent_up_by
from tests.factories import (
    CampaignFactory,
    NomineeFactory,
    UnitFactory,
    approve_until,
    attach_file,
    link,
    make_nomination,
    open_step,
    submitted,
)
from workflow.calendar import working_calendar
from workflow.models import ApprovalCandidate, ApprovalTask

pytestmark = pytest.mark.django_db

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
DASHBOARD = reverse("processes:dashboard")
AWARDED = (Stage.REPLICATE, Stage.CLOSED)


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=HANOI)


def person(unit, *, gender=Gender.MALE, category=IndividualCategory.MANAGER, remote=False):
    return NomineeFactory(unit=unit, gender=gender, category=category, remote_or_island=remote)


def collective(unit, *, remote=False):
    return NomineeFactory(
        unit=unit,
        kind=NomineeKind.COLLECTIVE,
        gender="",
        category="",
        id_number="",
        collective_type="enterprise",
        remote_or_island=remote,
    )


def case(org, *, unit=None, stage=Stage.DISCOVER, nominee=None, campaign=None, award_form=None):
    """A case put straight into ``stage``: the figures count stages, they do not move them."""
    unit = unit or org.hospital
    nomination = make_nomination(org, unit=unit, nominee=nominee or person(unit), award_form=award_form)
    fields = {"stage": stage}
    if campaign is not None:
        fields["campaign"] = campaign
    Nomination.objects.filter(pk=nomination.pk).update(**fields)
    return Nomination.objects.get(pk=nomination.pk)


def adopted(nomination, unit, *, by, kind=ActivityKind.ADOPTION):
    return DisseminationActivity.objects.create(
        nomination=nomination,
        kind=kind,
        held_on=at(2026, 3, 2).date(),
        title="Nhân rộng mô hình",
        adopting_unit=unit if kind == ActivityKind.ADOPTION else None,
        recorded_by=by,
    )


def ward_submitted(org, **fields):
    """A case of the ward, submitted by the ward's own head and secretary."""
    nomination = make_nomination(org, unit=org.ward, nominee=person(org.ward), **fields)
    attach_file(nomination, org.report_type, user=org.ward_secretary)
    nomination = services.nomination_start_cultivation(nomination=nomination, by=org.ward_head)
    return services.nomination_submit(nomination=nomination, by=org.ward_secretary)


def timed(task, *, opened, due, closed=None):
    ApprovalTask.objects.filter(pk=task.pk).update(opened_at=opened, due_at=due, closed_at=closed)


def seed(org):
    """Several units, two campaigns, every stage, both genders, direct workers and others, collectives,
    remote cases, adoptions, steps decided on time and late, and overdue open steps."""
    org.campaign.target_women_percent = 50
    org.campaign.target_direct_workers_percent = 40
    org.campaign.target_remote_percent = 10
    org.campaign.save()
    other = CampaignFactory(code="HP-2025", launching_unit=org.city, target_women_percent=20)
    island = UnitFactory(code="HP.CH.TT", name="Thị trấn Cát Bà", remote_or_island=True)
    link(island, org.district, valid_from=at(2020, 1, 1).date())
    women_worker = {"gender": Gender.FEMALE, "category": IndividualCategory.WORKER}
    awarded = [
        case(org, stage=Stage.REPLICATE, nominee=person(org.hospital, **women_worker)),
        case(org, stage=Stage.CLOSED, nominee=person(org.hospital)),
        case(org, stage=Stage.REPLICATE, nominee=collective(org.hospital)),
        case(org, unit=org.ward, stage=Stage.CLOSED, nominee=person(org.ward, category=IndividualCategory.FARMER)),
        case(org, unit=island, stage=Stage.REPLICATE, nominee=person(island, gender=Gender.FEMALE)),
        case(org, unit=org.ward, stage=Stage.REPLICATE, nominee=person(org.ward, remote=True), campaign=other),
        case(org, unit=org.ward, stage=Stage.CLOSED, nominee=person(org.ward, **women_worker), campaign=other),
    ]
    for stage in (Stage.DISCOVER, Stage.CULTIVATE, Stage.RETURNED, Stage.REJECTED, Stage.WITHDRAWN):
        case(org, stage=stage)
    case(org, unit=org.ward, stage=Stage.CULTIVATE, award_form=org.unit_form)
    case(org, unit=island, stage=Stage.DISCOVER, campaign=other)
    # Adoptions: the first exemplar by two units (one of them twice), the fourth by one; a talk is no adoption.
    for unit in (org.ward, org.district, org.ward):
        adopted(awarded[0], unit, by=org.hospital_secretary)
    adopted(awarded[0], None, by=org.hospital_secretary, kind=ActivityKind.TALK)
    adopted(awarded[3], org.hospital, by=org.ward_secretary)

    # Steps: the hospital's confirmation decided on time in 2 working days, the director's submission
    # late after 13; the Board's intake left open and overdue; another hospital case overdue at its head.
    forwarded = submitted(org)
    approve_until(forwarded, "board_intake")
    confirm, submit = ApprovalTask.objects.filter(process__subject_id=forwarded.pk).order_by("opened_at", "pk")[:2]
    timed(confirm, opened=at(2025, 3, 3, 9), closed=at(2025, 3, 5, 15), due=at(2025, 3, 10, 23, 59))
    timed(submit, opened=at(2025, 3, 5, 15), closed=at(2025, 3, 24, 10), due=at(2025, 3, 19, 23, 59))
    timed(open_step(forwarded), opened=at(2025, 3, 24, 10), due=at(2025, 3, 27, 23, 59))
    late = submitted(org)
    timed(open_step(late), opened=at(2025, 4, 1, 9), due=at(2025, 4, 8, 23, 59))
    ward_submitted(org)  # open at the ward's head, not yet due
    return {"other": other, "island": island, "awarded": awarded}


# --- independent counts, in Python over every row -------------------------------------------------


def expected(nominations):
    rows = list(nominations.select_related("nominee", "unit", "campaign", "award_form"))
    pks = {row.pk for row in rows}
    tasks = [task for task in ApprovalTask.objects.select_related("step", "process") if task.process.subject_id in pks]
    decided = [task for task in tasks if task.closed_at is not None and task.action]
    calendar = working_calendar()
    days = defaultdict(list)
    for task in decided:
        days[task.step.name].append(
            calendar.working_days_between(timezone.localdate(task.opened_at), timezone.localdate(task.closed_at))
        )
    overdue = [task for task in tasks if task.closed_at is None and task.due_at < timezone.now()]
    holders = Counter()
    for candidate in ApprovalCandidate.objects.filter(is_open=True, approval_task__in=overdue).select_related("user"):
        holders[candidate.user.get_full_name() or candidate.user.username] += 1
    shares = {}
    for row in rows:
        if row.stage not in AWARDED:
            continue
        counts = shares.setdefault(row.campaign.name, Counter())
        counts["awards"] += 1
        if row.nominee.kind == NomineeKind.INDIVIDUAL:
            counts["individuals"] += 1
            counts["women"] += row.nominee.gender == Gender.FEMALE
            counts["direct"] += row.nominee.is_direct_worker
        counts["remote"] += row.nominee.remote_or_island or row.unit.remote_or_island
    adoptions = {}
    for row in rows:
        if row.stage in AWARDED:
            units = {
                activity.adopting_unit_id
                for activity in DisseminationActivity.objects.filter(nomination=row, kind=ActivityKind.ADOPTION)
            }
            if units:
                adoptions[row.nominee.name] = len(units)
    return {
        "total": len(rows),
        "stages": Counter(str(Stage(row.stage).label) for row in rows),
        "forms": Counter(row.award_form.name for row in rows),
        "campaigns": Counter(row.campaign.name for row in rows),
        "units": Counter(row.unit.name for row in rows),
        "decided": len(decided),
        "on_time": sum(task.closed_at <= task.due_at for task in decided),
        "medians": {name: median(values) for name, values in days.items()},
        "overdue_steps": Counter(task.step.name for task in overdue),
        "overdue_holders": dict(holders),
        "shares": shares,
        "adoptions": adoptions,
        "awarded": sum(row.stage in AWARDED for row in rows),
    }


def bars(chart) -> dict:
    return {bar.label: bar.value for bar in chart.bars}


def figures_of(user):
    return dashboard(dashboard_nominations(user))


@pytest.mark.parametrize("who", ["admin", "hospital_head", "district_chairman", "board_officer", "chairman"])
def test_every_figure_equals_a_count_by_hand_over_what_the_user_may_count(org, who):
    seed(org)
    user = org.users[who]
    figures = figures_of(user)
    want = expected(dashboard_nominations(user))
    assert want["total"] > 0
    assert figures.total == want["total"]
    assert bars(figures.by_stage) == want["stages"]
    assert bars(figures.by_award_form) == want["forms"]
    assert bars(figures.by_campaign) == want["campaigns"]
    assert bars(figures.by_unit) == want["units"]
    assert (figures.decided, figures.decided_on_time) == (want["decided"], want["on_time"])
    assert {timing.label: timing.median_working_days for timing in figures.step_timings} == want["medians"]
    assert bars(figures.overdue_by_step) == want["overdue_steps"]
    assert bars(figures.overdue_by_holder) == want["overdue_holders"]
    assert figures.awarded == want["awarded"]
    assert figures.adopted == len(want["adoptions"])
    assert {bar.label.split(" · ")[0]: bar.value for bar in figures.exemplars.bars} == want["adoptions"]
    got = {
        campaign.name: {
            "awards": campaign.awards,
            "individuals": campaign.individuals,
            **{share.group: share.count for share in campaign.shares},
        }
        for campaign in figures.shares
    }
    assert got == {
        name: {
            "awards": counts["awards"],
            "individuals": counts["individuals"],
            "woman": counts["women"],
            "direct_worker": counts["direct"],
            "remote": counts["remote"],
        }
        for name, counts in want["shares"].items()
    }


def test_the_seeded_figures_by_name(org):
    """The same figures, written out, so that the definitions are pinned, not only the code's agreement."""
    seeded = seed(org)
    figures = figures_of(org.admin)
    assert figures.total == 17
    assert (figures.decided, figures.decided_on_time, figures.on_time_percent) == (2, 1, 50.0)
    medians = {timing.label: timing.median_working_days for timing in figures.step_timings}
    assert sorted(medians.values()) == [2, 13]
    assert figures.overdue == 2
    # The Board's intake (held by its one officer) and the hospital head's confirmation.
    assert bars(figures.overdue_by_holder) == {
        org.hospital_head.get_full_name(): 1,
        org.board_officer.get_full_name(): 1,
    }
    shares = {campaign.name: campaign for campaign in figures.shares}
    this_year = {share.group: share for share in shares[org.campaign.name].shares}
    # 5 awards here, 4 of them individuals: 2 women (50%, target 50: met), 2 direct workers (50%, target 40:
    # met), 1 remote (the island's unit; 20%, target 10: met).
    assert (shares[org.campaign.name].awards, shares[org.campaign.name].individuals) == (5, 4)
    assert [
        (this_year[g].count, this_year[g].of, this_year[g].below_target) for g in ("woman", "direct_worker", "remote")
    ] == [
        (2, 4, False),
        (2, 4, False),
        (1, 5, False),
    ]
    last_year = {share.group: share for share in shares[seeded["other"].name].shares}
    assert (last_year["woman"].count, last_year["woman"].of, last_year["woman"].target) == (1, 2, 20)
    assert last_year["direct_worker"].target is None
    assert not last_year["direct_worker"].below_target
    assert bars(figures.exemplars) == {
        f"{seeded['awarded'][0].nominee.name} · {org.hospital.name}": 2,
        f"{seeded['awarded'][3].nominee.name} · {org.ward.name}": 1,
    }


def test_a_share_below_its_target_is_marked_in_words(client, org):
    seed(org)
    org.campaign.target_women_percent = 51
    org.campaign.save()
    client.force_login(org.admin)
    page = client.get(DASHBOARD, {"campaign": org.campaign.pk}).text
    assert page.count('<strong class="below-target-mark">Below target</strong>') == 1
    assert "Target met" in page


def test_the_filters_narrow_every_figure(client, org):
    seeded = seed(org)
    client.force_login(org.admin)
    response = client.get(DASHBOARD, {"campaign": seeded["other"].pk})
    assert response.status_code == 200
    assert response.context["figures"].total == 3
    response = client.get(DASHBOARD, {"unit": org.district.pk})  # the district and the units below it
    assert response.context["figures"].total == 7
    assert response.context["figures"].decided == 0
    response = client.get(DASHBOARD, {"year": timezone.localdate().year + 1})
    assert response.context["figures"].total == 0
    response = client.get(DASHBOARD, {"year": "two thousand"})
    assert response.status_code == 400
    assert response.context["figures"].total == 17  # the refused filter is left out, and named
    assert "Enter a whole number." in response.text


# --- who sees what --------------------------------------------------------------------------------


def test_a_head_of_one_unit_sees_nothing_of_another(client, org):
    seeded = seed(org)
    ward_only = Nomination.objects.filter(unit=org.ward).count()
    client.force_login(org.ward_head)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures.total == ward_only
    assert set(bars(figures.by_unit)) == {org.ward.name}
    assert org.hospital.name not in response.text
    assert seeded["awarded"][0].nominee.name not in response.text
    # Nor through the unit filter: a unit outside the remit is refused, and the figures stay the ward's.
    response = client.get(DASHBOARD, {"unit": org.hospital.pk})
    assert response.status_code == 400
    assert response.context["figures"].total == ward_only
    assert org.hospital.name not in response.text.split("</form>", 1)[1]


def test_a_delegate_holding_a_step_of_another_unit_does_not_count_it(org):
    nomination = submitted(org)
    ApprovalCandidate.objects.filter(approval_task=open_step(nomination)).update(user=org.ward_head)
    assert nomination.pk not in set(dashboard_nominations(org.ward_head).values_list("pk", flat=True))


def test_who_may_open_the_dashboard(client, org):
    assert client.get(DASHBOARD).status_code == 302
    assert client.get(DASHBOARD).url.startswith(reverse("login"))
    for name in ("hospital_member", "council_member", "outsider"):
        client.force_login(org.users[name])
        assert client.get(DASHBOARD).status_code == 403
        assert 'href="/dashboard/"' not in client.get(reverse("processes:my-work")).text
    for name in ("hospital_secretary", "hospital_head", "director", "board_officer", "chairman", "admin"):
        assert may_see_dashboard(org.users[name])
        client.force_login(org.users[name])
        assert client.get(DASHBOARD).status_code == 200
        assert f'href="{DASHBOARD}"' in client.get(reverse("processes:my-work")).text


def test_every_label_is_escaped_in_the_charts(client, org):
    unit = UnitFactory(code="HP.X", name="<script>alert(1)</script>")
    link(unit, org.department, valid_from=at(2020, 1, 1).date())
    case(org, unit=unit, stage=Stage.REPLICATE, nominee=person(unit))
    client.force_login(org.admin)
    page = client.get(DASHBOARD).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- a constant number of queries -----------------------------------------------------------------


def many(org, size):
    seed(org)
    units = [org.hospital, org.ward]
    while Nomination.objects.count() < size:
        index = Nomination.objects.count()
        unit = units[index % 2]
        stage = [Stage.DISCOVER, Stage.REPLICATE, Stage.CLOSED, Stage.CULTIVATE][index % 4]
        nomination = case(
            org, unit=unit, stage=stage, nominee=person(unit, gender=[Gender.MALE, Gender.FEMALE][index % 2])
        )
        if stage == Stage.REPLICATE:
            adopted(nomination, org.district, by=org.admin)


@pytest.mark.parametrize("size", [10, 200])
def test_the_dashboard_runs_a_constant_number_of_queries(client, org, size, django_assert_num_queries):
    many(org, size)
    client.force_login(org.admin)
    query = {"campaign": org.campaign.pk, "year": timezone.localdate().year}
    client.get(DASHBOARD, query)  # the organisation tree and the calendar's years are cached per process
    with django_assert_num_queries(QUERIES):
        response = client.get(DASHBOARD, query)
    assert response.status_code == 200
    assert response.context["figures"].total >= size - 3


QUERIES = 26


# --- the below-target warning on the forwarding step ---------------------------------------------


def hospital_cases(org, genders, category=IndividualCategory.MANAGER):
    return [submitted(org, nominee=person(org.hospital, gender=gender, category=category)) for gender in genders]


def test_the_list_a_level_sends_up_is_what_it_approved_or_is_approving_in_that_campaign(org):
    approved, approving = hospital_cases(org, [Gender.MALE, Gender.FEMALE])
    approve_until(approved, "proposer_submit")
    returned = submitted(org)
    services.nomination_decide(task_id=open_step(returned).pk, by=org.hospital_head, action="return", comment="Thiếu")
    ward_submitted(org)  # another unit
    other = CampaignFactory(code="HP-2027", launching_unit=org.city)
    elsewhere = submitted(org)
    Nomination.objects.filter(pk=elsewhere.pk).update(campaign=other)
    hospital = set(sent_up_by(unit_id=org.hospital.pk, campaign_id=org.campaign.pk).values_list("pk", flat=True))
    assert hospital == {approved.pk, approving.pk}
    department = set(sent_up_by(unit_id=org.department.pk, campaign_id=org.campaign.pk).values_list("pk", flat=True))
    assert department == {approved.pk}
    # A unit-level award's last step (the director's decision) sends nothing up.
    unit_level = submitted(org, award_form=org.unit_form)
    approve_until(unit_level)
    assert unit_level.pk not in set(
        sent_up_by(unit_id=org.department.pk, campaign_id=org.campaign.pk).values_list("pk", flat=True)
    )


WARNING = "Below target: in the list"


@pytest.mark.parametrize(
    ("genders", "warned"),
    [
        ([Gender.MALE, Gender.MALE, Gender.FEMALE], True),  # 1 of 3 women: 33.3% < 50%
        ([Gender.MALE, Gender.FEMALE], False),  # 1 of 2: 50%, the target met
        ([Gender.FEMALE, Gender.FEMALE], False),
    ],
)
def test_the_forwarding_step_warns_when_the_list_is_below_target(client, org, genders, warned):
    org.campaign.target_women_percent = 50
    org.campaign.save()
    cases = hospital_cases(org, genders)
    client.force_login(org.hospital_head)
    page = client.get(reverse("processes:nomination-detail", args=[cases[0].pk])).text
    assert (WARNING in page) is warned
    if warned:
        assert "women are 33.3% (1 of 3)" in page
        assert "target of 50%" in page
        assert page.index(WARNING) > page.index('class="decide"')  # by the decision form
    choices = [f"{open_step(nomination).pk}:{nomination.version}" for nomination in cases]
    confirmation = client.get(reverse("processes:my-work-approve"), {"tasks": choices})
    assert confirmation.status_code == 200
    assert confirmation.text.count(WARNING) == (1 if warned else 0)
    # It warns, it does not block: the approval goes through.
    response = client.post(reverse("processes:my-work-approve"), {"tasks": choices})
    assert response.status_code == 200
    assert all(open_step(nomination).step.code == "proposer_submit" for nomination in cases)


def test_the_director_is_warned_of_the_departments_list_not_only_of_one_unit(client, org):
    org.campaign.target_direct_workers_percent = 60
    org.campaign.save()
    (worker,) = hospital_cases(org, [Gender.MALE], category=IndividualCategory.WORKER)
    (manager,) = hospital_cases(org, [Gender.MALE], category=IndividualCategory.MANAGER)
    for nomination in (worker, manager):
        approve_until(nomination, "proposer_submit")
    client.force_login(org.director)
    page = client.get(reverse("processes:nomination-detail", args=[worker.pk])).text
    assert "direct workers (workers and farmers) are 50.0% (1 of 2)" in page
    assert org.department.name in page[page.index(WARNING) :]


def test_no_warning_without_targets_nor_for_someone_who_cannot_approve(client, org):
    cases = hospital_cases(org, [Gender.MALE])
    client.force_login(org.hospital_head)
    assert WARNING not in client.get(reverse("processes:nomination-detail", args=[cases[0].pk])).text
    org.campaign.target_women_percent = 50
    org.campaign.save()
    assert WARNING in client.get(reverse("processes:nomination-detail", args=[cases[0].pk])).text
    client.force_login(org.hospital_secretary)
    assert WARNING not in client.get(reverse("processes:nomination-detail", args=[cases[0].pk])).text


def test_an_administrator_sets_a_campaigns_targets_in_its_admin(client, org):
    client.force_login(org.admin)
    url = reverse("admin:processes_campaign_change", args=[org.campaign.pk])
    page = client.get(url).text
    for name in ("target_direct_workers_percent", "target_women_percent", "target_remote_percent"):
        assert f'name="{name}"' in page
    form = {
        "code": org.campaign.code,
        "name": org.campaign.name,
        "launching_unit": org.city.pk,
        "kind": org.campaign.kind,
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "submission_deadline": "2026-11-30",
        "target_direct_workers_percent": "40",
        "target_women_percent": "101",
        "target_remote_percent": "",
    }
    assert client.post(url, form).status_code == 200  # 101% refused, nothing saved
    form["target_women_percent"] = "50"
    assert client.post(url, form).status_code == 302
    org.campaign.refresh_from_db()
    assert (org.campaign.target_direct_workers_percent, org.campaign.target_women_percent) == (40, 50)
    assert org.campaign.target_remote_percent is None
