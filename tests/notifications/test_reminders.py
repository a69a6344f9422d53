"""The reminder scan, with ``now`` given: the right day and hour, once per slot, escalation upward."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from notifications.models import Event, Outbox
from notifications.reminders import scan
from tests.factories import attach_file, make_nomination, open_step, submitted

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
#: The end of Friday 4 December 2026, local time: the step's due time in these tests.
DUE = datetime(2026, 12, 4, 23, 59, 59, 999999, tzinfo=HCM)


def at(day, hour=9):
    return datetime(2026, 12, day, hour, 0, tzinfo=HCM)


@pytest.fixture
def case(org):
    nomination = submitted(org)
    task = open_step(nomination)
    assert task.step.reminder_offsets == [2, 1]
    type(task).objects.filter(pk=task.pk).update(due_at=DUE)
    task.candidates.update(due_at=DUE)
    Outbox.objects.all().delete()  # the assignment's own notifications are not under test here
    return nomination


def told(event):
    return sorted(Outbox.objects.filter(event=event).values_list("recipient__username", "channel"))


def test_reminders_go_two_and_one_working_days_before_the_deadline_once_each(case):
    assert scan(now=at(2)) == 2  # Wednesday: two working days before Friday; in-app and email
    assert told(Event.REMINDER) == [("hospital_head", "email"), ("hospital_head", "in_app")]
    assert scan(now=at(2, hour=15)) == 0  # the same day again: nothing twice
    assert scan(now=at(3)) == 2  # Thursday: one working day before
    assert Outbox.objects.filter(event=Event.REMINDER).count() == 4


def test_nothing_is_sent_before_the_hour_or_on_a_day_off(case):
    assert scan(now=at(2, hour=7)) == 0
    assert scan(now=at(5)) == 0  # Saturday
    assert not Outbox.objects.exists()


def test_on_the_day_the_holder_is_told_it_is_due(case):
    assert scan(now=at(4)) == 2
    assert told(Event.DUE_TODAY) == [("hospital_head", "email"), ("hospital_head", "in_app")]


def test_an_overdue_step_goes_up_to_the_parent_units_head_and_the_submitter_repeatedly(case, settings):
    settings.NOTIFICATION_ESCALATION_EVERY = 2
    scan(now=at(7))  # Monday: one working day late
    assert told(Event.OVERDUE) == [
        ("director", "email"),
        ("director", "in_app"),
        ("hospital_secretary", "email"),
        ("hospital_secretary", "in_app"),
    ]
    assert scan(now=at(7, hour=17)) == 0
    assert scan(now=at(8)) == 0  # two days late: not a day of the interval
    assert scan(now=at(9)) == 4  # three days late: told again


def test_a_closed_step_is_not_reminded(case, org):
    from processes import services
    from tests.factories import holders

    task = open_step(case)
    services.nomination_decide(task_id=task.pk, by=holders(task)[0], action="approve")
    Outbox.objects.all().delete()
    assert scan(now=at(2)) == 0  # the next step is due later; the decided one is closed


def test_an_overdue_step_nobody_could_be_given_is_escalated_all_the_same(case):
    task = open_step(case)
    task.candidates.all().delete()  # nobody held the unit that day: the step waits for an assignment
    assert scan(now=at(2)) == 0  # nobody to remind
    scan(now=at(7))
    assert {user for user, _channel in told(Event.OVERDUE)} == {"director", "hospital_secretary"}


def test_an_inactive_holder_is_not_written_to_but_their_late_step_goes_up(case, org):
    org.hospital_head.is_active = False
    org.hospital_head.save()
    assert scan(now=at(2)) == 0
    scan(now=at(7))
    assert {user for user, _channel in told(Event.OVERDUE)} == {"director", "hospital_secretary"}
    (row, *_rest) = Outbox.objects.filter(event=Event.OVERDUE)
    assert "hospital_head" in row.body or org.hospital_head.get_full_name() in row.body  # who held it


def test_every_holder_of_a_group_step_is_reminded(case, org):
    task = open_step(case)
    task.candidates.create(user=org.hospital_secretary, due_at=DUE)
    assert scan(now=at(2)) == 4
    assert {user for user, _channel in told(Event.REMINDER)} == {"hospital_head", "hospital_secretary"}


def test_reminders_carry_the_step_the_case_and_the_due_time(case):
    scan(now=at(2))
    row = Outbox.objects.filter(event=Event.REMINDER).first()
    task = open_step(case)
    assert task.step.name in row.subject
    assert "23:59 04/12/2026" in row.subject
    assert case.nominee.name in row.body
    assert row.link == f"/nominations/{case.pk}/"


# --- campaign submission deadlines ----------------------------------------------------------------


@pytest.fixture
def campaign_due_15_december(org):
    """The city's campaign closes on Tuesday 15 December; the hospital (under the department) has sent
    a case up; the ward (under the district) has only a draft."""
    org.campaign.submission_deadline = date(2026, 12, 15)
    org.campaign.save()
    submitted(org)
    make_nomination(org, unit=org.ward)
    Outbox.objects.all().delete()
    return org.campaign


def campaign_notices():
    return sorted(
        Outbox.objects.filter(event=Event.CAMPAIGN_DEADLINE, channel="in_app").values_list(
            "recipient__username", "slot"
        )
    )


def test_units_that_sent_nothing_up_are_told_before_the_campaign_deadline(campaign_due_15_december, org):
    scan(now=at(1))  # 10 working days before
    scan(now=at(8))  # 5 working days before: Dec 9, 10, 11, 14, 15
    # The district (its draft is not a submission) is told through its head; the department, whose
    # hospital sent a case up, is not; nor is the Council; Home Affairs has nobody to tell.
    assert campaign_notices() == [
        ("district_chairman", f"2026-12-15-10-u{org.district.pk}"),
        ("district_chairman", f"2026-12-15-5-u{org.district.pk}"),
    ]
    row = Outbox.objects.filter(event=Event.CAMPAIGN_DEADLINE, channel="in_app").last()
    assert org.campaign.name in row.subject
    assert "15/12/2026" in row.subject
    assert org.district.name in row.body
    assert row.link == f"{reverse('processes:nomination-list')}?campaign={org.campaign.pk}"
    scan(now=at(9))  # 4 working days before: not a reminder day
    scan(now=at(8, hour=16))  # the same day again: nothing twice
    assert len(campaign_notices()) == 2


def test_the_last_working_day_is_announced(campaign_due_15_december, org):
    scan(now=at(15))
    assert campaign_notices() == [("district_chairman", f"2026-12-15-0-u{org.district.pk}")]
    with translation.override("vi"):
        expected = gettext("%(campaign)s: submissions due %(date)s, today is the last working day") % {
            "campaign": org.campaign.name,
            "date": "15/12/2026",
        }
    assert Outbox.objects.filter(event=Event.CAMPAIGN_DEADLINE).first().subject == expected


def test_a_unit_whose_sub_unit_sent_a_case_up_is_left_alone(campaign_due_15_december, org):
    from processes import services

    ward_case = org.campaign.nominations.get(unit=org.ward)
    attach_file(ward_case, org.report_type, user=org.ward_secretary)
    ward_case = services.nomination_start_cultivation(nomination=ward_case, by=org.ward_head)
    services.nomination_submit(nomination=ward_case, by=org.ward_secretary)
    Outbox.objects.all().delete()
    scan(now=at(8))
    assert campaign_notices() == []


def test_a_campaign_deadline_on_a_day_off_counts_from_the_working_days_before_it(campaign_due_15_december, org):
    org.campaign.submission_deadline = date(2026, 12, 13)  # a Sunday
    org.campaign.save()
    scan(now=at(11))  # Friday: the last working day before it
    assert campaign_notices() == [("district_chairman", f"2026-12-13-0-u{org.district.pk}")]
