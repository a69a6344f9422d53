"""Notifications delivered for real: a redis-server started by the test, a Celery worker process (prefork,
acks_late) on the test database, an aiosmtpd SMTP sink; nothing eager, nothing mocked.

The test process plays the web process: it decides steps through the services and publishes to Redis
after commit. The worker claims each outbox row, sends it (SMTP, or the notification centre) and marks it
sent. Each test fails without its feature: delivery through the broker, the working-day reminder scan,
recovery of a send cut off by SIGKILL, decisions that neither fail nor stall while Redis is down.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timedelta
from datetime import time as clock

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from notifications import outbox
from notifications.models import Channel, Event, InAppNotification, Outbox
from notifications.reminders import scan
from processes import services
from processes.models import Role
from tests.factories import UserFactory, build_org, holders, member, open_step, submitted
from tests.notifications.conftest import WAIT_SECONDS, wait_until
from workflow import calendar
from workflow.models import ApprovalCandidate, ApprovalTask

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

#: Reconnecting after a Redis restart, a worker waits 2, 4, 6… s between tries: more than WAIT_SECONDS.
RECONNECT_SECONDS = 60
#: "No long stall": a decision made while Redis is down returns within this.
DECISION_SECONDS = 5


def _pending_summary() -> str:
    rows = Outbox.objects.exclude(status=Outbox.Status.SENT).order_by("pk")
    fields = ("pk", "event", "channel", "status", "attempts", "last_error")
    return f"rows not sent: {list(rows.values_list(*fields))}"


def wait_all_sent(worker, sink, *, timeout: float = WAIT_SECONDS) -> list[Outbox]:
    """Every outbox row sent, and every email row's Message-ID in the sink; the rows."""

    def done():
        rows = list(Outbox.objects.order_by("pk"))
        if any(row.status != Outbox.Status.SENT for row in rows):
            return None
        seen = set(sink.message_ids())
        if any(row.message_id not in seen for row in rows if row.channel == Channel.EMAIL):
            return None
        return rows

    return wait_until(
        done,
        timeout=timeout,
        message=lambda: f"{_pending_summary()}\nsink: {sink.message_ids()}\n{worker.logs()[-4000:]}",
    )


def assert_each_delivered_once(rows: list[Outbox], sink, *, cut_off: set[str] = frozenset()) -> None:
    """The sink holds exactly the email rows' Message-IDs; a Message-ID twice only if in ``cut_off``;
    one notification-centre entry per in-app row."""
    emails = {row.message_id for row in rows if row.channel == Channel.EMAIL}
    counts = sink.counts()
    assert set(counts) == emails
    repeated = {message_id: count for message_id, count in counts.items() if count > 1}
    assert set(repeated) <= cut_off, repeated
    assert all(count == 2 for count in repeated.values()), repeated
    in_app = {row.pk for row in rows if row.channel == Channel.IN_APP}
    assert sorted(InAppNotification.objects.values_list("outbox_id", flat=True)) == sorted(in_app)


def approve_open_step(nomination):
    task = open_step(nomination)
    services.nomination_decide(task_id=task.pk, by=holders(task)[0], action="approve")
    return task


# --- 1. an approval, end to end ------------------------------------------------------------------------


def test_an_approval_reaches_the_smtp_sink_and_the_notification_centre_through_redis_and_a_worker(
    publisher, worker, smtp_sink
):
    worker.start()
    org = build_org()
    nomination = submitted(org)
    wait_all_sent(worker, smtp_sink)  # the submission's own notifications (the unit head's step)
    before = set(Outbox.objects.values_list("pk", flat=True))

    decided = approve_open_step(nomination)
    assert decided.step.code == "unit_confirm"
    step = open_step(nomination)
    (holder,) = holders(step)
    new = Outbox.objects.exclude(pk__in=before)
    assert sorted(new.values_list("recipient", "event", "channel")) == [
        (holder.pk, Event.TASK_ASSIGNED, Channel.EMAIL),
        (holder.pk, Event.TASK_ASSIGNED, Channel.IN_APP),
    ]
    rows = wait_all_sent(worker, smtp_sink)

    row = new.get(channel=Channel.EMAIL)
    host = re.escape(settings.NOTIFICATION_MESSAGE_ID_HOST)
    assert re.fullmatch(rf"<outbox-{row.pk}@{host}>", row.message_id)
    (received,) = smtp_sink.by_message_id(row.message_id)
    message = received.message
    assert received.envelope_to == [holder.email]
    assert message["To"] == holder.email
    assert message["Subject"].strip() == row.subject  # Django folds it after "Subject:"
    assert step.step.name in row.subject
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert step.step.name in plain.get_content()
    assert "<html" in html.get_content()
    assert step.step.name in html.get_content()
    assert f"/{nomination.pk}/" in html.get_content()  # the link to the case

    notice = InAppNotification.objects.get(outbox=new.get(channel=Channel.IN_APP))
    assert (notice.recipient_id, notice.title, notice.read_at) == (holder.pk, row.subject, None)
    assert_each_delivered_once(rows, smtp_sink)
    # Delivered by the worker through Redis, not in this process: nothing was sent from here.
    assert mail.outbox == []
    assert re.search(r"Task notifications\.deliver\[[^\]]+\] succeeded", worker.log())


# --- 2. reminders at working-day times ------------------------------------------------------------------


def _at(day, hour: int) -> datetime:
    return datetime.combine(day, clock(hour), tzinfo=timezone.get_default_timezone())


def _new_rows(before: set[int], **filters) -> list[tuple]:
    rows = Outbox.objects.exclude(pk__in=before).filter(**filters).order_by("recipient__username", "channel")
    return list(rows.values_list("event", "recipient__username", "channel", "slot"))


def test_reminders_go_out_on_working_days_at_the_hour_once_each_through_the_worker(
    publisher, worker, smtp_sink, settings
):
    worker.start()
    org = build_org()
    nomination = submitted(org)
    task = open_step(nomination)
    assert task.step.code == "unit_confirm"
    assert task.step.reminder_offsets == [2, 1]
    head = org.hospital_head.username
    hour = settings.NOTIFICATION_HOUR
    due_day = timezone.localdate(task.due_at)

    for n in (2, 1):
        day = calendar.working_days_before(task.due_at, n)
        assert calendar.is_working_day(day)
        assert calendar.add_working_days(day, n) == due_day
        before = set(Outbox.objects.values_list("pk", flat=True))
        assert scan(now=_at(day, hour) - timedelta(minutes=1)) == 0  # not before the hour
        assert scan(now=_at(day, hour)) == 2
        assert scan(now=_at(day, 23)) == 0  # the same day again: nothing twice
        assert _new_rows(before) == [
            (Event.REMINDER, head, Channel.EMAIL, f"{day.isoformat()}-{n}-t{task.pk}"),
            (Event.REMINDER, head, Channel.IN_APP, f"{day.isoformat()}-{n}-t{task.pk}"),
        ]

    before = set(Outbox.objects.values_list("pk", flat=True))
    assert scan(now=_at(due_day, hour)) == 2
    assert scan(now=_at(due_day, hour)) == 0
    assert {row[:2] for row in _new_rows(before)} == {(Event.DUE_TODAY, head)}

    # The first working day late: escalated to the head of the parent unit and the submitter, here by
    # the Celery task (as beat sends it) with its explicit now, run twice by the worker.
    from notifications.tasks import scan_reminders

    late_day = calendar.add_working_days(due_day, 1)
    before = set(Outbox.objects.values_list("pk", flat=True))
    for _run in range(2):
        scan_reminders.apply_async(args=[_at(late_day, hour).isoformat()], retry=False)
    scanned = r"Task notifications\.scan_reminders\[[^\]]+\] succeeded in [0-9.]+s: (\d+)"
    wait_until(lambda: len(re.findall(scanned, worker.log())) == 2, message=lambda: worker.log()[-3000:])
    assert re.findall(scanned, worker.log()) == ["4", "0"]
    assert {(row[0], row[1]) for row in _new_rows(before)} == {
        (Event.OVERDUE, org.director.username),
        (Event.OVERDUE, org.hospital_secretary.username),
    }

    rows = wait_all_sent(worker, smtp_sink)
    assert_each_delivered_once(rows, smtp_sink)
    reminders = [row for row in rows if row.event == Event.REMINDER and row.channel == Channel.EMAIL]
    assert len(reminders) == 2
    for row in reminders:
        (received,) = smtp_sink.by_message_id(row.message_id)
        assert received.message["Subject"].strip() == row.subject
        assert task.step.name in row.subject

    # A day off sends nothing, even where a working day would: escalation every working day late,
    # the case one working day late on the first day off after it was due…
    settings.NOTIFICATION_ESCALATION_EVERY = 1
    day_off = late_day + timedelta(days=1)
    while calendar.is_working_day(day_off):
        day_off += timedelta(days=1)
    assert calendar.working_days_between(due_day, day_off) >= 1
    before = set(Outbox.objects.values_list("pk", flat=True))
    assert scan(now=_at(day_off, 23)) == 0
    assert _new_rows(before) == []
    assert scan(now=_at(calendar.next_working_day(day_off), 23)) > 0  # …as the next working day shows
    # …and Tết: the step made due so that on the Lunar New Year it is one working day late.
    tet = datetime(2026, 2, 17).date()
    assert not calendar.is_working_day(tet)
    due_before_tet = calendar.working_days_before(_at(tet, 12), 1)
    assert calendar.working_days_between(due_before_tet, tet) == 1
    moved = datetime.combine(due_before_tet, clock.max, tzinfo=timezone.get_default_timezone())
    ApprovalTask.objects.filter(pk=task.pk).update(due_at=moved)
    ApprovalCandidate.objects.filter(approval_task=task).update(due_at=moved)
    after_off = set(Outbox.objects.values_list("pk", flat=True))
    assert scan(now=_at(tet, 23)) == 0
    assert _new_rows(after_off) == []
    assert scan(now=_at(calendar.next_working_day(tet), 23)) > 0  # a working day after Tết would


# --- 3. SIGKILL during delivery --------------------------------------------------------------------------


def test_a_worker_killed_mid_send_then_restarted_delivers_every_row_and_repeats_only_the_cut_off_send(
    publisher, worker, smtp_sink
):
    org = build_org()
    nomination = submitted(org)
    approve_open_step(nomination)
    approve_open_step(nomination)
    rows = list(Outbox.objects.order_by("pk"))
    assert len(rows) >= 6
    assert {row.status for row in rows} == {Outbox.Status.PENDING}
    # Published to Redis, waiting: the worker starts on a queue of deliveries.
    first_email = next(row for row in rows if row.channel == Channel.EMAIL)

    smtp_sink.hold_after_first_accept()
    worker.start()
    wait_until(smtp_sink.holding.is_set, message=lambda: f"the first email sent\n{worker.log()[-3000:]}")
    # The server accepted the message (250 to its DATA); the worker waits for the QUIT's answer, its send
    # not returned, the row not marked sent: SIGKILL now.
    assert smtp_sink.message_ids() == [first_email.message_id]
    first_email.refresh_from_db()
    assert first_email.status == Outbox.Status.SENDING
    worker.kill()
    smtp_sink.release()

    worker.start()
    # The new worker delivers what was still queued; the row cut off keeps its lease (the sweeper gives it
    # back when it expires: moved into the past here rather than waited for), and whatever the killed
    # worker had taken from the queue is pending with no message left: the sweeper enqueues both.
    wait_until(
        lambda: not Outbox.objects.filter(status=Outbox.Status.SENDING).exclude(pk=first_email.pk).exists(),
        message=_pending_summary,
    )
    first_email.refresh_from_db()
    assert first_email.status == Outbox.Status.SENDING
    Outbox.objects.filter(pk=first_email.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert outbox.sweep() >= 1

    rows = wait_all_sent(worker, smtp_sink)
    first_email.refresh_from_db()
    assert first_email.attempts == 2
    assert smtp_sink.counts()[first_email.message_id] == 2  # sent before the kill and again after
    assert_each_delivered_once(rows, smtp_sink, cut_off={first_email.message_id})


# --- 4. Redis down during decisions ---------------------------------------------------------------------


def _decide_timed(nomination) -> tuple[str, float]:
    task = open_step(nomination)
    started = time.monotonic()
    approve_open_step(nomination)
    return task.step.code, round(time.monotonic() - started, 2)


def test_decisions_while_redis_is_down_succeed_at_once_and_everything_is_delivered_when_it_returns(
    publisher, worker, smtp_sink, redis_server, caplog
):
    worker.start()
    org = build_org()
    nomination = submitted(org)
    wait_all_sent(worker, smtp_sink)
    before = set(Outbox.objects.values_list("pk", flat=True))

    redis_server.stop()
    caplog.set_level(logging.WARNING, logger="notifications.outbox")
    # unit_confirm, proposer_submit, board_intake: each opens a step for one holder.
    timings = dict(_decide_timed(nomination) for _step in range(3))
    assert open_step(nomination).step.code == "board_appraisal"
    assert max(timings.values()) < DECISION_SECONDS, timings
    new = Outbox.objects.exclude(pk__in=before)
    assert new.count() == 2 * 3
    assert set(new.values_list("status", flat=True)) == {Outbox.Status.PENDING}
    assert "left for the sweeper" in caplog.text
    time.sleep(1)  # nothing moves while Redis is down
    assert set(new.values_list("status", flat=True)) == {Outbox.Status.PENDING}

    redis_server.start()

    # The sweeper (beat, every few minutes) enqueues the waiting rows; the worker reconnects by itself.
    def all_sent():
        return not Outbox.objects.exclude(status=Outbox.Status.SENT).exists()

    deadline = time.monotonic() + RECONNECT_SECONDS
    sweeps = []
    while not all_sent() and time.monotonic() < deadline:
        sweeps.append(outbox.sweep())
        round_ends = min(deadline, time.monotonic() + 10)
        while not all_sent() and time.monotonic() < round_ends:
            time.sleep(0.2)
    rows = wait_all_sent(worker, smtp_sink, timeout=RECONNECT_SECONDS)
    assert_each_delivered_once(rows, smtp_sink)
    print(f"decision timings with Redis down: {timings}; rows enqueued by each sweep after it returned: {sweeps}")


def test_a_decision_that_tells_several_people_does_not_stall_while_redis_is_down(publisher, redis_server):
    org = build_org()
    for n in range(4):  # the Board: five officers hold its steps
        member(UserFactory(username=f"board_officer_{n}"), org.board, Role.MEMBER)
    nomination = submitted(org)
    approve_open_step(nomination)  # unit_confirm: the proposer's step is open
    redis_server.stop()
    step, seconds = _decide_timed(nomination)  # proposer_submit: opens board_intake for five officers
    assert step == "proposer_submit"
    assert len(holders(open_step(nomination))) == 5
    assert Outbox.objects.filter(event=Event.TASK_ASSIGNED, status=Outbox.Status.PENDING).count() >= 10
    assert seconds < DECISION_SECONDS
