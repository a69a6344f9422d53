"""The working-day calendar: national days from the ``holidays`` package, local overrides, due times.

The dates asserted below are what ``holidays`` 0.109 says for Vietnam (checked by hand against it):
Tết 2026 is off Mon 16/2 to Fri 20/2; Tết 2027 Thu 4/2 to Wed 10/2; Sat 22/8/2026 is a make-up
working day paid back by Mon 31/8/2026 off; 30/4 and 1/5/2026 fall on Thu and Fri; National Day
2026 is Tue 1/9 and Wed 2/9.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from tests.factories import UserFactory
from workflow import calendar
from workflow.calendar import (
    WorkingCalendar,
    add_working_days,
    due_at,
    is_working_day,
    working_calendar,
    working_days_before,
    working_days_between,
)
from workflow.models import CalendarOverride

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
ADD_URL = reverse("admin:workflow_calendaroverride_add")
CHANGELIST_URL = reverse("admin:workflow_calendaroverride_changelist")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HCM)


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=HCM)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The snapshot is process-wide: no test sees another's."""
    calendar.clear_cache()
    yield
    calendar.clear_cache()


# --- the national calendar ------------------------------------------------------------------------


def test_without_overrides_every_day_is_what_the_holidays_package_says():
    national = holidays.country_holidays("VN")
    ours = WorkingCalendar()

    differing = [
        day
        for day in days(date(2024, 1, 1), date(2027, 12, 31))
        if ours.is_working_day(day) != national.is_working_day(day)
    ]

    assert differing == []


@pytest.mark.django_db
def test_tet_2026_is_off_from_monday_16_to_friday_20_february():
    assert [is_working_day(day) for day in days(date(2026, 2, 13), date(2026, 2, 23))] == [
        True,  # Fri 13
        False,  # Sat 14
        False,  # Sun 15
        False,  # Mon 16, Lunar New Year's Eve
        False,  # Tue 17, Tết
        False,  # Wed 18
        False,  # Thu 19
        False,  # Fri 20
        False,  # Sat 21
        False,  # Sun 22
        True,  # Mon 23
    ]


@pytest.mark.django_db
def test_deadline_across_tet_2026_skips_the_whole_holiday():
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    # A ten-working-day appraisal started on Mon 9/2: four days before Tết, six after.
    assert due_at(local(2026, 2, 9, 10, 0), 10) == end_of(date(2026, 3, 2))


@pytest.mark.django_db
def test_deadline_across_tet_2027_skips_thursday_4_to_wednesday_10_february():
    off = [day for day in days(date(2027, 2, 1), date(2027, 2, 14)) if not is_working_day(day)]

    assert off == [*days(date(2027, 2, 4), date(2027, 2, 10)), date(2027, 2, 13), date(2027, 2, 14)]
    assert add_working_days(date(2027, 2, 3), 1) == date(2027, 2, 11)
    assert due_at(local(2027, 2, 1, 9, 0), 10) == end_of(date(2027, 2, 22))


@pytest.mark.django_db
def test_the_make_up_saturday_22_august_2026_counts_and_monday_31_august_is_off():
    assert is_working_day(date(2026, 8, 22))
    assert not is_working_day(date(2026, 8, 23))
    assert not is_working_day(date(2026, 8, 31))
    assert add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)
    assert due_at(local(2026, 8, 20, 15, 0), 2) == end_of(date(2026, 8, 22))


@pytest.mark.django_db
def test_deadline_across_30_april_and_1_may_2026():
    assert add_working_days(date(2026, 4, 29), 1) == date(2026, 5, 4)
    # Hùng Kings' day is Sunday 26/4/2026, observed on Monday 27/4.
    assert add_working_days(date(2026, 4, 24), 3) == date(2026, 5, 4)


@pytest.mark.django_db
def test_deadline_across_national_day_2026_and_its_substituted_monday():
    # Mon 31/8 (substituted for the make-up Saturday), Tue 1/9 and Wed 2/9 are off.
    assert add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)


# --- local overrides ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_local_day_off_pushes_the_deadline():
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)

    CalendarOverride.objects.create(date=date(2026, 3, 9), kind=CalendarOverride.Kind.DAY_OFF, reason="Bão số 3")

    assert not is_working_day(date(2026, 3, 9))
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 10)
    assert due_at(local(2026, 3, 6, 9, 0), 1) == end_of(date(2026, 3, 10))


@pytest.mark.django_db
def test_an_extra_working_sunday_pulls_the_deadline_in():
    assert due_at(local(2026, 3, 6, 9, 0), 1) == end_of(date(2026, 3, 9))

    CalendarOverride.objects.create(
        date=date(2026, 3, 8), kind=CalendarOverride.Kind.WORKING_DAY, reason="Làm bù theo quyết định của UBND"
    )

    assert is_working_day(date(2026, 3, 8))
    assert due_at(local(2026, 3, 6, 9, 0), 1) == end_of(date(2026, 3, 8))


@pytest.mark.django_db
def test_an_override_beats_a_public_holiday_and_a_make_up_saturday():
    CalendarOverride.objects.create(date=date(2026, 2, 20), kind=CalendarOverride.Kind.WORKING_DAY, reason="trực")
    CalendarOverride.objects.create(date=date(2026, 8, 22), kind=CalendarOverride.Kind.DAY_OFF, reason="bão")

    assert is_working_day(date(2026, 2, 20))
    assert not is_working_day(date(2026, 8, 22))


# --- due times ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_due_time_is_the_end_of_the_local_day_in_ho_chi_minh_city():
    due = due_at(local(2026, 3, 4, 10, 0), 1)

    assert due == end_of(date(2026, 3, 5))
    assert due.utcoffset() == timedelta(hours=7)
    assert due.astimezone(UTC) == datetime(2026, 3, 5, 16, 59, 59, 999999, tzinfo=UTC)
    assert due_at(local(2026, 3, 4, 10, 0), 1) < local(2026, 3, 6, 0, 0)


@pytest.mark.django_db
def test_a_start_late_on_friday_counts_from_the_next_day():
    assert due_at(local(2026, 3, 6, 23, 30), 1) == end_of(date(2026, 3, 9))


@pytest.mark.django_db
def test_the_start_day_is_the_local_day_not_the_utc_one():
    # 06:00 on Tuesday in Hanoi is still Monday in UTC: the count starts after Tuesday.
    start = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)
    assert start.astimezone(HCM).date() == date(2026, 3, 10)

    assert due_at(start, 1) == end_of(date(2026, 3, 11))


@pytest.mark.django_db
def test_zero_working_days_means_the_start_day_if_working_else_the_next_working_day():
    assert add_working_days(date(2026, 3, 4), 0) == date(2026, 3, 4)
    assert add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 9)
    assert due_at(local(2026, 2, 17, 8, 0), 0) == end_of(date(2026, 2, 23))


@pytest.mark.django_db
def test_naive_datetimes_dates_for_datetimes_and_negative_counts_are_refused():
    with pytest.raises(ValueError, match="naive"):
        due_at(datetime(2026, 3, 6, 9, 0), 1)
    with pytest.raises(TypeError, match="expected a date"):
        is_working_day(local(2026, 2, 17, 8, 0))
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 3, 6), -1)


# --- counting back and between --------------------------------------------------------------------


@pytest.fixture
def busy_calendar():
    """Every case in two winters and the summer between, with one override of each kind."""
    return WorkingCalendar({date(2026, 3, 9): False, date(2026, 3, 8): True})


SPAN = days(date(2026, 1, 20), date(2027, 3, 10))


def test_working_days_between_undoes_add_working_days(busy_calendar):
    for start in SPAN:
        for n in range(1, 26):
            end = busy_calendar.add_working_days(start, n)
            assert busy_calendar.working_days_between(start, end) == n, (start, n)
            assert busy_calendar.working_days_between(end, start) == -n, (start, n)
        assert busy_calendar.working_days_between(start, start) == 0


def test_working_days_before_the_due_time_is_the_day_the_count_started(busy_calendar):
    for start in SPAN:
        if not busy_calendar.is_working_day(start):
            continue
        for n in range(26):
            due = busy_calendar.due_at(local(start.year, start.month, start.day, 9, 0), n)
            assert busy_calendar.working_days_before(due, n) == start, (start, n)


def test_working_days_before_a_due_day_that_is_off_is_counted_from_the_day_before(busy_calendar):
    # Due on Sunday 15/2/2026 (set by hand): "due today" goes out on Friday 13/2.
    assert busy_calendar.working_days_before(end_of(date(2026, 2, 15)), 0) == date(2026, 2, 13)
    assert busy_calendar.working_days_before(end_of(date(2026, 2, 23)), 1) == date(2026, 2, 13)


def test_reminder_due_range_holds_exactly_the_due_times_reminded_that_day(busy_calendar):
    dues = [end_of(day) for day in days(date(2026, 1, 20), date(2026, 4, 30))]
    for day in days(date(2026, 2, 1), date(2026, 3, 31)):
        for n in range(4):
            window = busy_calendar.reminder_due_range(day, n)
            reminded = [due for due in dues if busy_calendar.working_days_before(due, n) == day]
            if window is None:
                assert reminded == [], (day, n)
            else:
                assert reminded == [due for due in dues if window[0] <= due < window[1]], (day, n)
                assert reminded, (day, n)


@pytest.mark.django_db
def test_module_functions_agree_with_the_snapshot():
    CalendarOverride.objects.create(date=date(2026, 3, 9), kind=CalendarOverride.Kind.DAY_OFF, reason="bão")
    snapshot = working_calendar()
    start = date(2026, 2, 12)
    end = add_working_days(start, 7)

    assert end == snapshot.add_working_days(start, 7)
    assert working_days_between(start, end) == 7
    assert working_days_before(end_of(end), 7) == start


# --- cost -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_of_due_times_costs_one_query(django_assert_num_queries):
    CalendarOverride.objects.create(date=date(2026, 3, 9), kind=CalendarOverride.Kind.DAY_OFF, reason="bão")
    starts = [local(2026, 2, 1, 9, 0) + timedelta(hours=7 * n) for n in range(300)]

    with django_assert_num_queries(1):
        snapshot = working_calendar()
        dues = [snapshot.due_at(start, 10) for start in starts]

    assert dues[0] == end_of(date(2026, 2, 13))
    assert dues[-1] == end_of(date(2026, 5, 15))  # from Wed 29/4, across 30/4 and 1/5


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_overrides_are_cached(django_assert_num_queries):
    with django_assert_num_queries(1):
        assert is_working_day(date(2026, 3, 9))
    with django_assert_num_queries(0):
        assert is_working_day(date(2026, 3, 9))
        assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)


@pytest.mark.django_db(transaction=True)
def test_saving_or_deleting_an_override_clears_the_cache():
    monday, saturday = date(2026, 3, 9), date(2026, 3, 7)
    assert is_working_day(monday)  # each answer below is cached until the next change

    override = CalendarOverride.objects.create(date=monday, kind=CalendarOverride.Kind.DAY_OFF, reason="bão")
    assert not is_working_day(monday)

    override.date = saturday
    override.kind = CalendarOverride.Kind.WORKING_DAY
    override.save()
    assert (is_working_day(monday), is_working_day(saturday)) == (True, True)

    override.delete()
    assert not is_working_day(saturday)

    # The admin's "delete selected" deletes a queryset.
    CalendarOverride.objects.create(date=monday, kind=CalendarOverride.Kind.DAY_OFF, reason="bão")
    assert not is_working_day(monday)
    CalendarOverride.objects.filter(date=monday).delete()
    assert is_working_day(monday)


@pytest.mark.django_db(transaction=True)
def test_an_override_rolled_back_does_not_stay_cached():
    with transaction.atomic():
        CalendarOverride.objects.create(date=date(2026, 3, 9), kind=CalendarOverride.Kind.DAY_OFF, reason="nhầm")
        assert not is_working_day(date(2026, 3, 9))  # its own write, inside the transaction
        transaction.set_rollback(True)

    assert is_working_day(date(2026, 3, 9))


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_leaves_no_override_cached():
    """A transactional test's teardown flushes the tables without a delete signal."""
    CalendarOverride.objects.create(date=date(2026, 3, 9), kind=CalendarOverride.Kind.DAY_OFF, reason="bão")
    assert not is_working_day(date(2026, 3, 9))

    call_command("flush", interactive=False, verbosity=0)

    assert is_working_day(date(2026, 3, 9))


@pytest.mark.django_db(transaction=True)
def test_a_change_without_signals_is_seen_when_the_cache_expires(settings, monkeypatch):
    """What another process sees: it gets no signal, only the expiry."""
    settings.WORKING_CALENDAR_CACHE_SECONDS = 60
    CalendarOverride.objects.create(date=date(2026, 3, 9), kind=CalendarOverride.Kind.DAY_OFF, reason="bão")
    now = calendar.monotonic()
    monkeypatch.setattr(calendar, "monotonic", lambda: now)
    assert not is_working_day(date(2026, 3, 9))

    CalendarOverride.objects.filter(date=date(2026, 3, 9)).update(kind=CalendarOverride.Kind.WORKING_DAY)
    assert not is_working_day(date(2026, 3, 9))  # still the cached copy

    monkeypatch.setattr(calendar, "monotonic", lambda: now + 61)
    assert is_working_day(date(2026, 3, 9))


# --- the admin ------------------------------------------------------------------------------------


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.mark.django_db(transaction=True)
def test_an_override_added_in_the_admin_counts_at_once(admin_client):
    assert is_working_day(date(2026, 3, 9))  # cached before the admin's change

    response = admin_client.post(
        ADD_URL, {"date": "2026-03-09", "kind": "day_off", "reason": "Nghỉ tránh bão theo công điện của thành phố"}
    )

    assert response.status_code == 302
    assert not is_working_day(date(2026, 3, 9))
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 10)


def test_superuser_adds_an_override_through_the_admin(admin_client):
    response = admin_client.post(ADD_URL, {"date": "2026-03-08", "kind": "working_day", "reason": "Làm bù"})

    assert response.status_code == 302
    override = CalendarOverride.objects.get()
    assert (override.date, override.kind, override.reason) == (date(2026, 3, 8), "working_day", "Làm bù")


def test_two_overrides_for_one_date_are_refused(admin_client):
    CalendarOverride.objects.create(date=date(2026, 3, 9), kind=CalendarOverride.Kind.DAY_OFF, reason="bão")

    response = admin_client.post(ADD_URL, {"date": "2026-03-09", "kind": "working_day", "reason": "làm bù"})

    assert response.status_code == 200
    assert "date" in response.context["adminform"].form.errors
    assert CalendarOverride.objects.count() == 1


def test_changelist_filters_by_kind_and_searches_reasons(admin_client):
    typhoon = CalendarOverride.objects.create(date=date(2026, 9, 7), kind="day_off", reason="Bão Yagi")
    CalendarOverride.objects.create(date=date(2026, 5, 2), kind="day_off", reason="Ngày hội thành phố")
    sunday = CalendarOverride.objects.create(date=date(2026, 3, 8), kind="working_day", reason="Làm bù")

    by_kind = admin_client.get(CHANGELIST_URL, {"kind__exact": "working_day"})
    by_reason = admin_client.get(CHANGELIST_URL, {"q": "yagi"})
    everything = admin_client.get(CHANGELIST_URL)

    assert list(by_kind.context["cl"].result_list) == [sunday]
    assert list(by_reason.context["cl"].result_list) == [typhoon]
    assert [row.date for row in everything.context["cl"].result_list] == [
        date(2026, 9, 7),
        date(2026, 5, 2),
        date(2026, 3, 8),
    ]
    assert "Sunday" in everything.content.decode()


def test_a_user_without_admin_rights_cannot_add_an_override(client, db):
    client.force_login(UserFactory(username="clerk", is_staff=True))

    response = client.post(ADD_URL, {"date": "2026-03-09", "kind": "day_off", "reason": "bão"})

    assert response.status_code == 403
    assert not CalendarOverride.objects.exists()
