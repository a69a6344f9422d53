"""The working-day calendar that deadlines and reminders count in.

A day is a working day by these rules, first match wins:

1. an admin's ``CalendarOverride`` for that date (an extra local day off, or an extra working day);
2. a weekend day is off, unless the government made it a make-up working Saturday;
3. a Vietnamese public holiday is off (New Year, Tết, Hùng Kings, 30/4, 1/5, National Day, Vietnamese
   Culture Day from 2026, the days observed when one falls on a weekend, and the government's
   substituted days off);
4. every other day is a working day.

Rules 2 to 4 are the ``holidays`` package's own ``is_working_day`` for ``country_holidays("VN")``; no
holiday is written down here. Days are local days in ``settings.TIME_ZONE`` (Asia/Ho_Chi_Minh).

Counting. ``add_working_days(start, n)`` is the n-th working day *after* ``start``, as in the
``holidays`` package's ``get_nth_working_day``: ``start`` itself never counts, and ``n=0`` means
``start`` if it is a working day, else the next working day. ``due_at(start, n)`` is the *end* of
that day, its last instant in local time (23:59:59.999999): the law counts days, not office hours,
so a dossier filed late on the last day is on time, and "due today" means the local date of the due
time. ``working_days_between(a, b)`` counts the working days in ``(a, b]``, so it undoes
``add_working_days``; ``working_days_before(due, n)`` is the working day on which a reminder "n
working days before" the due time is sent.

Cost. The national calendar is built once per year and process. Overrides come from one query,
kept in a process-wide snapshot (``working_calendar()``) that a save or delete of an override
clears in this process (at once and again on commit); other processes (worker, beat, other web
workers) reload after ``WORKING_CALENDAR_CACHE_SECONDS`` (default 60). Inside a transaction that
wrote overrides the snapshot is loaded but not kept, so rows a rolled-back transaction wrote never
stay cached. A loop
over many tasks takes one ``working_calendar()`` and calls its methods: no query per task.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic

import holidays
from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils import timezone

from workflow.models import CalendarOverride

COUNTRY = "VN"
#: A due time is the last instant of its local day.
END_OF_DAY = time.max
DEFAULT_CACHE_SECONDS = 60
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class _NationalYear:
    weekend: frozenset[int]
    days_off: frozenset[date]
    weekend_workdays: frozenset[date]


@functools.lru_cache(maxsize=64)
def _national_year(year: int) -> _NationalYear:
    """One year of the national calendar as plain sets: ``holidays`` objects are slow to build and
    grow as they are asked about new years, so one is built per year and then dropped."""
    national = holidays.country_holidays(COUNTRY, years=year)
    return _NationalYear(
        weekend=frozenset(national.weekend),
        days_off=frozenset(day for day in national if day.year == year),
        # The package lists some make-up Saturdays under the year of the day off they pay for
        # (27/12/2014 for 2/1/2015): each is kept with the year it falls in.
        weekend_workdays=frozenset(day for day in national.weekend_workdays if day.year == year),
    )


def _check_date(day) -> None:
    # A datetime is a date too, but never equal to one: it would miss every holiday silently.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected a date, got {type(day).__name__}; use timezone.localdate() for a datetime")


def _check_count(n: int) -> None:
    if n < 0:
        raise ValueError(f"a number of working days cannot be negative: {n}")


def _local_date(moment: datetime) -> date:
    # Raises ValueError for a naive datetime: a due time without a zone is a bug, not a guess.
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def _start_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


class WorkingCalendar:
    """The calendar with one fixed set of overrides: take one per batch, then no more queries."""

    def __init__(self, overrides: Mapping[date, bool] | None = None):
        #: date → True for an extra working day, False for an extra day off.
        self.overrides: Mapping[date, bool] = dict(overrides or {})

    def __repr__(self):
        return f"<WorkingCalendar {len(self.overrides)} override(s)>"

    def is_working_day(self, day: date) -> bool:
        _check_date(day)
        override = self.overrides.get(day)
        if override is not None:
            return override
        national = _national_year(day.year)
        if day.weekday() in national.weekend:
            return day in national.weekend_workdays
        return day not in national.days_off

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first working day after it."""
        _check_date(day)
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` never counts); for ``n=0``, ``start`` if it
        is a working day, else the next working day."""
        _check_date(start)
        _check_count(n)
        day = start
        for _ in range(n):
            day = self.next_working_day(day + _ONE_DAY)
        return self.next_working_day(day)

    def due_at(self, start: datetime, working_days: int) -> datetime:
        """The end (23:59:59.999999 local) of the ``working_days``-th working day after the local day
        of ``start``; aware, in ``settings.TIME_ZONE``. ``start`` must be aware."""
        day = self.add_working_days(_local_date(start), working_days)
        return datetime.combine(day, END_OF_DAY, tzinfo=timezone.get_default_timezone())

    def working_days_between(self, start: date, end: date) -> int:
        """The working days in ``(start, end]``; negative (minus those in ``(end, start]``) when
        ``end`` is earlier, e.g. how many working days a task is overdue."""
        _check_date(start)
        _check_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += _ONE_DAY
            count += self.is_working_day(day)
        return count

    def working_days_before(self, due: datetime, n: int) -> date:
        """The working day on which a reminder ``n`` working days before ``due`` is sent: the latest
        working day with exactly ``n`` working days after it up to the local day of ``due``.

        For ``n=0`` that is the due day itself, or the last working day before it if the due day is
        off. When the due day is a working day, ``add_working_days(result, n)`` is the due day.
        """
        _check_count(n)
        day = _local_date(due)
        counted = 0
        while True:
            if self.is_working_day(day):
                if counted == n:
                    return day
                counted += 1
            day -= _ONE_DAY

    def reminder_due_range(self, day: date, n: int) -> tuple[datetime, datetime] | None:
        """The due times whose ``n``-working-days-before reminder falls on ``day``, as a half-open
        range ``[start, end)`` of aware datetimes for one indexed query; ``None`` when ``day`` is not
        a working day (no reminder is sent then)."""
        _check_count(n)
        if not self.is_working_day(day):
            return None
        first = self.add_working_days(day, n)
        after = self.add_working_days(day, n + 1)
        return _start_of_local_day(first), _start_of_local_day(after)


# --- the process-wide snapshot ----------------------------------------------------------------------

_lock = threading.Lock()
_snapshot: tuple[WorkingCalendar, float] | None = None  # (calendar, expiry on the monotonic clock)
_generation = 0  # bumped by every invalidation, so a load that raced with one is not kept


def _load() -> WorkingCalendar:
    rows = CalendarOverride.objects.values_list("date", "kind")
    return WorkingCalendar({day: kind == CalendarOverride.Kind.WORKING_DAY for day, kind in rows})


def working_calendar() -> WorkingCalendar:
    """The calendar with the current overrides: from the process cache, or one query."""
    global _snapshot
    snapshot = _snapshot
    if snapshot is not None and snapshot[1] > monotonic():
        return snapshot[0]
    generation = _generation
    calendar = _load()
    # A transaction that wrote overrides reads its own uncommitted rows, which a rollback would leave
    # cached with no signal to clear them: those are not kept. (Every decision runs in a transaction,
    # so one that wrote nothing must be able to keep what it read.)
    if not _changed_in_this_transaction():
        ttl = getattr(settings, "WORKING_CALENDAR_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
        with _lock:
            if generation == _generation:
                _snapshot = (calendar, monotonic() + ttl)
    return calendar


def clear_cache() -> None:
    """Forget the cached overrides. Saves and deletes call this; call it after ``bulk_create`` or
    ``update()`` on ``CalendarOverride``, which send no signals."""
    global _snapshot, _generation
    with _lock:
        _generation += 1
        _snapshot = None


def _changed_in_this_transaction() -> bool:
    blocks = connection.atomic_blocks
    return bool(blocks) and getattr(connection, "_calendar_changed_in", None) == id(blocks[0])


def _overrides_changed(sender, using, **kwargs):
    clear_cache()
    if connection.atomic_blocks:
        connection._calendar_changed_in = id(connection.atomic_blocks[0])
    # Again after commit: another thread may have reloaded the old rows in between.
    transaction.on_commit(clear_cache, using=using)


post_save.connect(_overrides_changed, sender=CalendarOverride, dispatch_uid="workflow.calendar.saved")
post_delete.connect(_overrides_changed, sender=CalendarOverride, dispatch_uid="workflow.calendar.deleted")


def _database_reset(**kwargs):
    # ``flush`` (and a test run's teardown of a transactional test) empties the table without a
    # delete signal, then sends ``post_migrate``.
    clear_cache()


post_migrate.connect(_database_reset, dispatch_uid="workflow.calendar.database_reset")


# --- one-off questions ------------------------------------------------------------------------------
# Each loads the calendar (at most one query); in a loop, take ``working_calendar()`` once instead.


def is_working_day(day: date) -> bool:
    return working_calendar().is_working_day(day)


def next_working_day(day: date) -> date:
    return working_calendar().next_working_day(day)


def add_working_days(start: date, n: int) -> date:
    return working_calendar().add_working_days(start, n)


def due_at(start: datetime, working_days: int) -> datetime:
    return working_calendar().due_at(start, working_days)


def working_days_between(start: date, end: date) -> int:
    return working_calendar().working_days_between(start, end)


def working_days_before(due: datetime, n: int) -> date:
    return working_calendar().working_days_before(due, n)


def reminder_due_range(day: date, n: int) -> tuple[datetime, datetime] | None:
    return working_calendar().reminder_due_range(day, n)
