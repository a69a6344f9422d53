"""The council's forms on the page: opening a session and casting a ballot refuse bad input with a clear
message (400, or 409 when the state forbids it), record nothing, keep what was typed, never answer 500."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.admin.sites import site
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from processes import services
from processes.models import AwardForm, Role
from tests.factories import NomineeFactory, UserFactory, approve_until, member, open_step, submitted
from workflow.models import BallotReceipt, SealedBallot, VoteSession

HUGE = "9" * 30


@pytest.fixture
def voting(org):
    org.city_form.council_vote = True
    org.city_form.council_threshold_percent = 50
    org.city_form.save()
    member(UserFactory(username="council_two"), org.council, Role.MEMBER)
    return org


def at_council(org, **kwargs):
    nomination = approve_until(submitted(org, **kwargs), "council_review")
    return nomination, open_step(nomination)


def checked(page: str, name: str) -> list[str]:
    """The values of the inputs named ``name`` that are checked on ``page``."""
    return [
        re.search(r'value="([^"]*)"', tag).group(1)
        for tag in re.findall(r"<input[^>]*>", page)
        if f'name="{name}"' in tag and re.search(r"\bchecked\b", tag)
    ]


# --- opening a session -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "message"),
    [
        pytest.param("999999", "not awaiting a council you may convene", id="forged-id"),
        pytest.param("²", "not awaiting a council you may convene", id="superscript-digit"),
        pytest.param(HUGE, "not awaiting a council you may convene", id="beyond-any-id"),
        pytest.param("", "Choose at least one case", id="none-chosen"),
    ],
)
def test_a_session_with_a_case_the_page_did_not_offer_is_refused_and_what_was_typed_stays(
    client, voting, task, message
):
    _nomination, offered = at_council(voting)
    client.force_login(voting.board_officer)

    response = client.post(
        reverse("processes:council"),
        {"task": [str(offered.pk), task] if task else [], "title": "Phiên họp tháng 12", "closes_on": "31/12/2099"},
    )

    assert response.status_code == 400
    assert message in response.text
    assert 'value="Phiên họp tháng 12"' in response.text
    assert 'value="31/12/2099"' in response.text
    if task:
        assert checked(response.text, "task") == [str(offered.pk)]
    assert not VoteSession.objects.exists()


def test_a_case_awaiting_a_council_the_user_may_not_convene_is_refused(client, voting):
    _city_case, city_task = at_council(voting)  # the city's council: the department may not convene it
    level_case = approve_until(submitted(voting, award_form=voting.unit_form), "level_council")
    level_task = open_step(level_case)
    client.force_login(voting.department_secretary)
    assert voting.department.pk == level_task.unit_id

    response = client.post(
        reverse("processes:council"), {"task": [city_task.pk], "title": "Phiên họp", "closes_on": "31/12/2099"}
    )

    assert response.status_code == 400
    assert "not awaiting a council you may convene" in response.text
    assert not VoteSession.objects.exists()
    response = client.post(
        reverse("processes:council"), {"task": [level_task.pk], "title": "Phiên họp", "closes_on": "31/12/2099"}
    )
    assert response.status_code == 302
    assert VoteSession.objects.get().items.get().approval_task_id == level_task.pk


@pytest.mark.parametrize(
    ("typed", "closes_on"),
    [
        pytest.param("05/12/2099", (2099, 12, 5), id="day-first-ambiguous-is-5-december"),
        pytest.param("31/12/2099", (2099, 12, 31), id="day-first"),
        pytest.param("2099-12-31", (2099, 12, 31), id="iso-from-a-date-picker"),
    ],
)
def test_the_closing_date_is_read_day_first_or_as_a_date_picker_sends_it(client, voting, typed, closes_on):
    _nomination, task = at_council(voting)
    client.force_login(voting.board_officer)

    response = client.post(reverse("processes:council"), {"task": [task.pk], "title": "Phiên họp", "closes_on": typed})

    assert response.status_code == 302
    closes_at = timezone.localtime(VoteSession.objects.get().closes_at)
    assert (closes_at.year, closes_at.month, closes_at.day, closes_at.hour) == (*closes_on, 17)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        pytest.param("closes_on", "12/31/2099", "as day/month/year", id="month-first"),
        pytest.param("closes_on", "31/02/2099", "as day/month/year", id="no-such-day"),
        pytest.param("closes_on", "31/12/99999", "as day/month/year", id="year-beyond-9999"),
        pytest.param("closes_on", "²²/12/2099", "as day/month/year", id="superscript-day"),
        pytest.param("closes_on", "01/01/2020", "close in the future", id="past"),
        pytest.param("closes_on", "", "Give the closing date", id="missing-date"),
        pytest.param("title", "", "Give the session a title", id="missing-title"),
        pytest.param("title", "Phiên\x00họp", "Null characters are not allowed", id="nul-in-title"),
        pytest.param("title", "Phiên\nhọp", "one line of text", id="two-line-title"),
        pytest.param("title", "P" * 256, "at most 255 characters", id="title-too-long"),
    ],
)
def test_a_bad_title_or_closing_date_is_refused_with_a_message_and_nothing_is_opened(
    client, voting, field, value, message
):
    _nomination, task = at_council(voting)
    client.force_login(voting.board_officer)
    posted = {"task": [task.pk], "title": "Phiên họp", "closes_on": "31/12/2099", field: value}

    response = client.post(reverse("processes:council"), posted)

    assert response.status_code == 400
    assert message in response.text
    assert checked(response.text, "task") == [str(task.pk)]
    assert not VoteSession.objects.exists()


def test_the_council_page_speaks_vietnamese_to_a_bad_request(voting):
    at_council(voting)
    client = Client()
    client.force_login(voting.board_officer)

    response = client.post(
        reverse("processes:council"), {"task": ["²"], "title": "Phiên họp", "closes_on": "12/31/2099"}
    )

    assert response.status_code == 400
    assert "Có hồ sơ được chọn không chờ hội đồng mà bạn có quyền triệu tập" in response.text
    assert "Hãy nhập ngày kết thúc theo dạng ngày/tháng/năm" in response.text
    assert "Chưa mở phiên họp" in response.text


def test_a_case_nobody_may_vote_on_is_refused_by_the_council_with_409(client, org):
    org.city_form.council_vote = True
    org.city_form.save()
    _nomination, task = at_council(org, nominee=NomineeFactory(unit=org.hospital, user=org.council_member))
    client.force_login(org.board_officer)

    response = client.post(
        reverse("processes:council"), {"task": [task.pk], "title": "Phiên họp", "closes_on": "31/12/2099"}
    )

    assert response.status_code == 409
    assert "No member of the council may vote on" in response.text
    assert 'value="Phiên họp"' in response.text
    assert not VoteSession.objects.exists()


# --- the ballot ----------------------------------------------------------------------------------


def session_with(org, tasks):
    return services.council_session_open(
        by=org.board_officer, title="Phiên họp", tasks=tasks, closes_at=timezone.now() + timedelta(days=3)
    )


def nothing_recorded(session):
    return not BallotReceipt.objects.filter(session=session).exists() and not SealedBallot.objects.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param({}, "Choose for, against or abstain on this case.", id="missing-choice"),
        pytest.param({"second": "maybe"}, "Choose for, against or abstain on this case.", id="no-such-choice"),
        pytest.param({"item-999999": "yes"}, "a case that is not on this session", id="forged-case"),
        pytest.param({"item-²": "yes"}, "a case that is not on this session", id="superscript-digit"),
        pytest.param({f"item-{HUGE}": "yes"}, "a case that is not on this session", id="beyond-any-id"),
    ],
)
def test_a_ballot_with_a_missing_unknown_or_foreign_choice_is_refused_and_keeps_the_choices_made(
    client, voting, extra, message
):
    _first, first_task = at_council(voting)
    _second, second_task = at_council(voting)
    session = session_with(voting, [first_task, second_task])
    first, second = session.items.order_by("pk")
    posted = {f"item-{first.pk}": "no"}
    if "second" in extra:
        posted[f"item-{second.pk}"] = extra.pop("second")
    elif extra:
        posted[f"item-{second.pk}"] = "yes"
    posted.update(extra)
    client.force_login(voting.council_member)

    response = client.post(reverse("processes:council-session", args=[session.pk]), posted)

    assert response.status_code == 400
    assert message in response.text
    assert "Your ballot was not recorded" in response.text
    assert checked(response.text, f"item-{first.pk}") == ["no"]
    assert nothing_recorded(session)


def test_a_choice_on_a_case_of_another_session_is_refused(client, voting):
    _first, first_task = at_council(voting)
    _other, other_task = at_council(voting)
    session = session_with(voting, [first_task])
    other_session = session_with(voting, [other_task])
    client.force_login(voting.council_member)

    response = client.post(
        reverse("processes:council-session", args=[session.pk]),
        {f"item-{session.items.get().pk}": "yes", f"item-{other_session.items.get().pk}": "yes"},
    )

    assert response.status_code == 400
    assert "a case that is not on this session" in response.text
    assert nothing_recorded(session)


def test_a_member_conflicted_on_a_case_sees_why_and_a_choice_on_it_is_refused(client, voting):
    own, own_task = at_council(voting, nominee=NomineeFactory(unit=voting.hospital, user=voting.council_member))
    _other, other_task = at_council(voting)
    session = session_with(voting, [own_task, other_task])
    own_item, other_item = session.items.get(approval_task=own_task), session.items.get(approval_task=other_task)
    url = reverse("processes:council-session", args=[session.pk])
    client.force_login(voting.council_member)

    page = client.get(url).text
    assert "You do not vote on this case: the case is about them." in page
    assert f'name="item-{own_item.pk}"' not in page
    assert f'name="item-{other_item.pk}"' in page

    response = client.post(url, {f"item-{own_item.pk}": "yes", f"item-{other_item.pk}": "abstain"})

    assert response.status_code == 400
    assert f"You do not vote on “{own.nominee.name}" in response.text
    assert checked(response.text, f"item-{other_item.pk}") == ["abstain"]
    assert nothing_recorded(session)
    assert client.post(url, {f"item-{other_item.pk}": "abstain"}).status_code == 302
    assert BallotReceipt.objects.filter(session=session, user=voting.council_member).exists()


def test_a_stale_second_submit_of_a_ballot_is_told_it_was_already_cast(client, voting):
    _nomination, task = at_council(voting)
    session = session_with(voting, [task])
    item = session.items.get()
    url = reverse("processes:council-session", args=[session.pk])
    client.force_login(voting.council_member)

    assert client.post(url, {f"item-{item.pk}": "yes"}).status_code == 302
    again = client.post(url, {f"item-{item.pk}": "no"})

    assert again.status_code == 409
    assert "You have already voted in this session." in again.text
    assert SealedBallot.objects.filter(session=session).count() == 1
    assert BallotReceipt.objects.filter(session=session).count() == 1
    assert "You voted at" in client.get(url).text


def test_a_ballot_after_the_closing_time_or_from_someone_without_one_is_refused(client, voting, monkeypatch):
    _nomination, task = at_council(voting)
    session = session_with(voting, [task])
    item = session.items.get()
    url = reverse("processes:council-session", args=[session.pk])

    client.force_login(voting.board_officer)  # sees the session, holds no ballot
    response = client.post(url, {f"item-{item.pk}": "yes"})
    assert (response.status_code, "You have no ballot in this session." in response.text) == (403, True)

    later = session.closes_at + timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    client.force_login(voting.council_member)
    response = client.post(url, {f"item-{item.pk}": "yes"})
    assert (response.status_code, "Voting in this session has closed." in response.text) == (409, True)
    assert nothing_recorded(session)


def test_the_ballot_page_speaks_vietnamese_to_a_bad_ballot(voting):
    _nomination, task = at_council(voting)
    session = session_with(voting, [task])
    client = Client()
    client.force_login(voting.council_member)

    response = client.post(reverse("processes:council-session", args=[session.pk]), {"item-²": "có"})

    assert response.status_code == 400
    assert "Phiếu bầu chưa được ghi nhận" in response.text
    assert "Hãy chọn đồng ý, không đồng ý hoặc không biểu quyết cho hồ sơ này." in response.text
    assert nothing_recorded(session)


def test_the_agenda_shows_each_cases_eligible_voters_and_who_does_not_vote_on_it(client, voting):
    _own, own_task = at_council(voting, nominee=NomineeFactory(unit=voting.hospital, user=voting.council_member))
    _other, other_task = at_council(voting)
    session = session_with(voting, [own_task, other_task])
    client.force_login(voting.board_officer)

    page = client.get(reverse("processes:council-session", args=[session.pk])).text

    rows = re.findall(r"<tr><td>.*?</tr>", page, flags=re.S)
    assert len(rows) == 2
    assert "<td>1</td>" in rows[0]
    assert "(the case is about them)" in rows[0]
    assert "<td>2</td>" in rows[1]
    assert "Ballots cast</dt><dd>0 / 2" in page


def test_the_default_closing_date_is_shown_day_first(client, voting):
    at_council(voting)
    client.force_login(voting.board_officer)
    default = (timezone.localdate() + timedelta(days=7)).strftime("%d/%m/%Y")

    assert f'value="{default}"' in client.get(reverse("processes:council")).text
    assert datetime.strptime(default, "%d/%m/%Y")


def test_the_award_form_admin_edits_whether_the_proposing_units_members_vote_labelled_in_vietnamese(org, rf):
    client = Client()  # Vietnamese, the default
    client.force_login(org.admin)
    page = client.get(reverse("admin:processes_awardform_change", args=[org.city_form.pk])).text
    assert 'name="council_recuse_own_unit"' in page
    assert "thành viên hội đồng thuộc đơn vị đề nghị không bỏ phiếu cho hồ sơ của đơn vị mình" in page.lower()

    request = rf.post("/")
    request.user = org.admin
    admin_form = site._registry[AwardForm].get_form(request, org.city_form)
    data = {
        name: value
        for name, value in admin_form(instance=org.city_form).initial.items()
        if name in admin_form.base_fields and value is not None
    }
    form = admin_form({**data, "council_recuse_own_unit": "on"}, instance=org.city_form)
    assert form.is_valid(), form.errors
    form.save()
    assert AwardForm.objects.get(pk=org.city_form.pk).council_recuse_own_unit is True
