"""My work: one list of everything waiting for a user, its badges, the count in the menu, and
approving several steps at once, each case in its own transaction."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from processes import services
from processes.choices import Stage
from processes.models import ChainAssignment, Consultation, Nomination, Role
from processes.selectors.my_work import Badge, Kind, WorkItem, badge_of, my_work, my_work_count
from tests.factories import (
    AwardFormFactory,
    approve_until,
    attach_file,
    holders,
    make_nomination,
    member,
    open_step,
    submitted,
)
from workflow.audit import audit_entries_for
from workflow.calendar import WorkingCalendar
from workflow.models import ApprovalCandidate, ApprovalTask, ProcessTemplate, TemplateStep

pytestmark = pytest.mark.django_db


def rows_of(user) -> set[tuple[str, str]]:
    return {(row.kind, row.case) for row in my_work(user).rows}


def ward_case(org, **fields):
    """A case of the ward, submitted by the ward's own head and secretary."""
    nomination = make_nomination(org, unit=org.ward, **fields)
    attach_file(nomination, org.report_type, user=org.ward_secretary)
    nomination = services.nomination_start_cultivation(nomination=nomination, by=org.ward_head)
    return services.nomination_submit(nomination=nomination, by=org.ward_secretary)


def unheld(nomination) -> ApprovalTask:
    """Its open step, left with nobody to hold it (its holder left, say)."""
    task = open_step(nomination)
    ApprovalCandidate.objects.filter(approval_task=task).delete()
    return task


def returned(org):
    nomination = submitted(org)
    services.nomination_decide(
        task_id=open_step(nomination).pk, by=org.hospital_head, action="return", comment="Thiếu minh chứng"
    )
    return Nomination.objects.get(pk=nomination.pk)


def consultation(org, *, agency, on):
    """An opinion asked of ``agency`` about the case ``on`` (written directly: asking is tested elsewhere)."""
    return Consultation.objects.create(
        nomination=on,
        approval_task=ApprovalTask.objects.filter(process__subject_id=on.pk).first(),
        agency=agency,
        agency_name=agency.name,
        question="Có vi phạm không?",
        requested_by=org.board_officer,
        requested_at=timezone.now(),
        due_at=timezone.now() + timedelta(days=5),
    )


def ballot_for(org, *, voter):
    """A council session with a ballot for ``voter``, a member of the city council."""
    member(voter, org.council, Role.MEMBER)
    form = AwardFormFactory(code="CSTD_TP", council_vote=True)
    ChainAssignment.objects.create(
        award_form=form, procedure="", template=ProcessTemplate.objects.get(code="city_regular")
    )
    nomination = approve_until(ward_case(org, award_form=form), "council_review")
    return services.council_session_open(
        by=org.board_officer,
        title="Phiên họp tháng 12",
        tasks=[open_step(nomination)],
        closes_at=timezone.now() + timedelta(days=3),
    )


# --- every kind of row, for the right person only ---------------------------------------------------


def test_every_kind_of_row_reaches_its_person_and_nobody_else(org):
    held = submitted(org)
    discover = make_nomination(org)
    cultivating = services.nomination_start_cultivation(nomination=make_nomination(org), by=org.hospital_head)
    replicating = make_nomination(org)
    Nomination.objects.filter(pk=replicating.pk).update(stage=Stage.REPLICATE)
    back = returned(org)
    nobody = ward_case(org)
    unheld(nobody)
    asked = consultation(org, agency=org.department, on=held)
    session = ballot_for(org, voter=org.council_member)

    name = lambda nomination: nomination.nominee.name  # noqa: E731
    assert rows_of(org.hospital_head) == {
        (Kind.STEP, name(held)),
        (Kind.MOVE, name(discover)),  # start cultivation
        (Kind.MOVE, name(cultivating)),  # submit
        (Kind.MOVE, name(replicating)),  # close
        (Kind.RETURNED, name(back)),
    }
    # The secretary spreads an awarded exemplar too (records its activities, closes it with a reason).
    assert rows_of(org.hospital_secretary) == {
        (Kind.MOVE, name(cultivating)),
        (Kind.MOVE, name(replicating)),
        (Kind.RETURNED, name(back)),
    }
    assert rows_of(org.ward_secretary) == {(Kind.UNHELD, name(nobody))}
    assert rows_of(org.director) == {(Kind.CONSULTATION, name(asked.nomination))}
    assert (Kind.CONSULTATION, name(held)) in rows_of(org.department_secretary)
    assert rows_of(org.council_member) == {(Kind.BALLOT, session.title)}
    # The Board closes city-level cases after replication.
    assert (Kind.MOVE, name(replicating)) in rows_of(org.board_officer)
    # A head of another unit sees nothing of it, nor does someone with no role.
    assert rows_of(org.ward_head) == set()
    assert rows_of(org.outsider) == set()
    assert rows_of(org.hospital_member) == set()


def test_the_page_names_what_which_case_the_unit_the_due_time_and_links_the_case(client, org):
    held = submitted(org)
    client.force_login(org.hospital_head)
    page = client.get(reverse("processes:my-work")).text
    task = open_step(held)
    assert task.step.name in page
    assert reverse("processes:nomination-detail", args=[held.pk]) in page
    assert org.hospital.name in page
    assert timezone.localtime(task.due_at).strftime("%d/%m/%Y") in page
    client.force_login(org.ward_head)
    page = client.get(reverse("processes:my-work")).text
    assert held.nominee.name not in page
    assert "Nothing is waiting for you." in page


def test_a_step_nobody_holds_in_a_department_s_subtree_reaches_its_secretary_not_a_ward_s(org):
    nomination = submitted(org)
    unheld(nomination)
    assert (Kind.UNHELD, nomination.nominee.name) in rows_of(org.hospital_secretary)
    assert (Kind.UNHELD, nomination.nominee.name) in rows_of(org.department_secretary)
    assert rows_of(org.ward_secretary) == set()


def test_nobody_is_asked_to_move_their_own_nomination(org):
    nomination = make_nomination(org)
    nomination.nominee.user = org.hospital_head
    nomination.nominee.save(update_fields=["user"])
    assert rows_of(org.hospital_head) == set()


# --- order and badges ---------------------------------------------------------------------------------


def _due(nomination, moment):
    task = open_step(nomination)
    ApprovalTask.objects.filter(pk=task.pk).update(due_at=moment)
    ApprovalCandidate.objects.filter(approval_task=task).update(due_at=moment)


def test_rows_are_sorted_by_due_time_soonest_first_and_rows_without_one_last(org):
    late, early = submitted(org), submitted(org)
    _due(late, timezone.now() + timedelta(days=90))
    _due(early, timezone.now() + timedelta(hours=1))
    closing = make_nomination(org)
    Nomination.objects.filter(pk=closing.pk).update(stage=Stage.REPLICATE)
    make_nomination(org)  # due at its campaign's deadline for submissions
    rows = my_work(org.hospital_head).rows
    assert len(rows) == 4
    dues = [row.due_at for row in rows if row.due_at is not None]
    assert dues == sorted(dues)
    assert len(dues) == 3
    assert rows[0].case == early.nominee.name
    assert rows[-1].case == closing.nominee.name
    assert rows[-1].due_at is None


TZ = timezone.get_default_timezone()


def _row(due, offsets=None):
    task = ApprovalTask(step=TemplateStep(reminder_offsets=offsets)) if offsets is not None else None
    return WorkItem(kind=Kind.STEP, what="", case="", url="", unit="", due_at=due, key=1, task=task)


def test_badges_count_working_days_and_the_step_s_first_reminder():
    calendar = WorkingCalendar()
    # Friday 4 December 2026, noon; a due time is the end of a day.
    now = datetime(2026, 12, 4, 12, tzinfo=TZ)
    today = now.date()

    def end(day):
        return datetime(2026, 12, day, 23, 59, 59, tzinfo=TZ)

    def check(row):
        return badge_of(row, now=now, today=today, calendar=calendar)

    assert check(_row(now - timedelta(minutes=1))) == Badge.OVERDUE
    assert check(_row(None)) is None
    # Two working days by default: due Tuesday 8th (Monday, Tuesday after this Friday) is due soon...
    assert check(_row(end(8))) == Badge.DUE_SOON
    # ...Wednesday 9th not yet: the weekend does not count.
    assert check(_row(end(9))) == Badge.ON_TIME
    # A step first reminded 4 working days before: Thursday 10th is due soon from today.
    assert check(_row(end(10), offsets=[4, 1])) == Badge.DUE_SOON
    assert check(_row(end(11), offsets=[4, 1])) == Badge.ON_TIME
    # A make-up working day or a holiday moves it: 1 January 2027 is a day off.
    assert check(_row(datetime(2027, 1, 4, 23, 59, tzinfo=TZ))) == Badge.ON_TIME


def test_the_badges_are_words_and_the_page_is_in_vietnamese(client, org, settings):
    overdue, soon, later = submitted(org), submitted(org), submitted(org)
    _due(overdue, timezone.now() - timedelta(days=1))
    _due(soon, timezone.now() + timedelta(hours=1))
    _due(later, timezone.now() + timedelta(days=60))
    client.force_login(org.hospital_head)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    with translation.override("vi"):
        page = client.get(reverse("processes:my-work")).text
    assert "<h1>Việc của tôi</h1>" in page
    for word in ("Quá hạn", "Sắp đến hạn", "Đúng hạn"):
        assert f">{word}</span>" in page


# --- the count in the menu ------------------------------------------------------------------------


def test_the_menu_counts_the_rows_of_my_work_on_every_page(client, org):
    submitted(org)
    make_nomination(org)
    back = returned(org)
    consultation(org, agency=org.hospital, on=back)
    expected = len(my_work(org.hospital_head).rows)
    assert expected == 4
    assert my_work_count(org.hospital_head) == expected
    client.force_login(org.hospital_head)
    for url in (reverse("processes:nomination-list"), reverse("processes:my-work")):
        page = client.get(url).text
        badge = f'<span class="badge work-count" title="items waiting for you">{expected}</span>'
        assert f'class="my-work-link">My work {badge}' in page
    client.force_login(org.ward_head)
    assert 'class="my-work-link">My work</a>' in client.get(reverse("processes:nomination-list")).text


def test_the_menu_count_costs_the_same_few_queries_whatever_the_rows(org, django_assert_max_num_queries):
    def counted():
        with CaptureQueriesContext(connection) as captured:
            count = my_work_count(org.hospital_secretary)
        return count, len(captured)

    unheld(submitted(org))
    few, queries = counted()
    for _ in range(5):
        unheld(submitted(org))
        services.nomination_start_cultivation(nomination=make_nomination(org), by=org.hospital_head)
    many, more_queries = counted()
    assert (few, many) == (1, 11)
    assert more_queries == queries <= 10


# --- approving several steps at once --------------------------------------------------------------


def _choices(*nominations):
    return [
        f"{open_step(nomination).pk}:{Nomination.objects.get(pk=nomination.pk).version}" for nomination in nominations
    ]


def test_the_confirmation_lists_the_chosen_cases_and_decides_nothing_yet(client, org):
    first, second = submitted(org), submitted(org)
    client.force_login(org.hospital_head)
    page = client.get(reverse("processes:my-work")).text
    for value in _choices(first, second):
        assert f'name="tasks" value="{value}"' in page
    response = client.get(reverse("processes:my-work-approve"), {"tasks": _choices(first, second)})
    assert response.status_code == 200
    for nomination in (first, second):
        assert nomination.nominee.name in response.text
    assert open_step(first).step.name in response.text
    assert org.hospital.name in response.text
    assert 'name="comment"' in response.text
    assert open_step(first).step.code == open_step(second).step.code == "unit_confirm"


def test_bulk_approval_of_three_with_one_stale_decides_two_and_names_the_third(client, org):
    cases = [submitted(org) for _ in range(3)]
    chosen = _choices(*cases)
    tasks = [open_step(nomination) for nomination in cases]
    # Someone edits the second case after the page was shown: its version moves on.
    stale = cases[1]
    Nomination.objects.filter(pk=stale.pk).update(version=F("version") + 1)
    client.force_login(org.hospital_head)
    response = client.post(reverse("processes:my-work-approve"), {"tasks": chosen, "comment": "Đồng ý"})
    assert response.status_code == 200
    decided = {task.pk: ApprovalTask.objects.get(pk=task.pk) for task in tasks}
    assert decided[tasks[0].pk].action == decided[tasks[2].pk].action == "approve"
    assert decided[tasks[0].pk].comment == "Đồng ý"
    assert decided[tasks[1].pk].closed_at is None
    refused = response.text[response.text.index("Not approved</h2>") :]
    assert stale.nominee.name in refused
    assert cases[0].nominee.name not in refused
    # Nothing undone: the two approved cases moved on to their next step.
    assert open_step(cases[0]).step.code == open_step(cases[2]).step.code == "proposer_submit"


def test_sending_the_confirmation_twice_decides_nothing_twice(client, org):
    cases = [submitted(org) for _ in range(2)]
    chosen = _choices(*cases)
    client.force_login(org.hospital_head)
    url = reverse("processes:my-work-approve")
    assert client.post(url, {"tasks": chosen}).status_code == 200
    entries = [audit_entries_for(nomination).count() for nomination in cases]
    again = client.post(url, {"tasks": chosen})
    assert again.status_code == 409
    assert again.text.count("already decided by") == 2
    assert [audit_entries_for(nomination).count() for nomination in cases] == entries


def test_a_step_of_a_visible_case_held_by_someone_else_is_reported_by_name(client, org):
    mine, theirs = submitted(org), submitted(org)
    task = open_step(theirs)
    services.step_reassign(task_id=task.pk, to=org.hospital_deputy, by=org.admin, reason="Ủy quyền")
    client.force_login(org.hospital_head)
    response = client.post(reverse("processes:my-work-approve"), {"tasks": _choices(mine, theirs)})
    assert response.status_code == 200
    assert open_step(mine).step.code == "proposer_submit"
    assert open_step(theirs).pk == task.pk
    refused = response.text[response.text.index("Not approved</h2>") :]
    assert theirs.nominee.name in refused
    assert "is held by" in refused


@pytest.mark.parametrize("forged", ["ward", "999999999:1", "abc", "1:x", "²:1"])
def test_a_forged_or_foreign_step_refuses_the_whole_confirmation_and_names_nothing(client, org, forged):
    mine = submitted(org)
    other = ward_case(org)  # held by the ward's head; the hospital's head may not see it
    value = _choices(other)[0] if forged == "ward" else forged
    client.force_login(org.hospital_head)
    url = reverse("processes:my-work-approve")
    response = client.post(url, {"tasks": [*_choices(mine), value]})
    assert response.status_code == 400
    assert "not one of yours" in response.text
    assert other.nominee.name not in response.text
    assert open_step(mine).step.code == "unit_confirm"
    assert open_step(other).step.code == "unit_confirm"
    # The confirmation page refuses it the same way, back on My work with the message.
    response = client.get(url, {"tasks": [*_choices(mine), value]}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("processes:my-work")
    assert "not one of yours" in response.text


def test_the_signing_step_is_never_approved_in_bulk(org):
    nomination = approve_until(submitted(org, award_form=org.unit_form), "level_decision")
    rows = [row for row in my_work(holders(open_step(nomination))[0]).rows if row.kind == Kind.STEP]
    assert [row.bulk for row in rows] == [False]
    rows = [row for row in my_work(org.hospital_head).rows if row.kind == Kind.STEP]
    assert rows == []


# --- a constant number of queries ---------------------------------------------------------------


def _work_of_every_kind(org, size):
    """``size`` rows on the hospital head's My work, of every kind: the head is also the ward's
    secretary (steps nobody holds there) and a council member (a ballot)."""
    member(org.hospital_head, org.ward, Role.SECRETARY)
    ballot_for(org, voter=org.hospital_head)
    held, nobody, back, asked = size // 5, size // 10, size // 10, size // 5
    for _ in range(held):
        submitted(org)
    for _ in range(nobody):
        unheld(ward_case(org))
    for _ in range(back):
        returned(org)
    case = submitted(org, unit=org.hospital)
    held += 1
    for _ in range(asked):
        consultation(org, agency=org.hospital, on=case)
    for _ in range(size - 1 - held - nobody - back - asked):
        make_nomination(org)


@pytest.mark.parametrize("size", [10, 200])
def test_my_work_runs_a_constant_number_of_queries(client, org, size, django_assert_num_queries):
    _work_of_every_kind(org, size)
    client.force_login(org.hospital_head)
    assert len(my_work(org.hospital_head).rows) == size
    client.get(reverse("processes:my-work"))  # the organisation tree and the calendar are cached per process
    with django_assert_num_queries(QUERIES):
        response = client.get(reverse("processes:my-work"))
    assert response.status_code == 200
    assert {row.kind for row in my_work(org.hospital_head).rows} == set(Kind)


#: The session and the user (and the session saved), the user's scope (the tree, memberships, steps
#: held), one query per kind of row (held steps, their cases, the signing steps, steps nobody holds,
#: ballots, opinions, stage moves) and the unread notifications; the menu reuses the page's count.
QUERIES = 17


def test_logging_in_lands_on_my_work(client, org):
    response = client.post(reverse("login"), {"username": "hospital_head", "password": "pw"})
    assert response.status_code == 302
    assert response.url == reverse("processes:my-work") == "/"
