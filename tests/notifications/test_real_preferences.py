"""What a user chose, honoured by the real delivery: a redis-server started by the test, a Celery worker
process on the test database, an aiosmtpd SMTP sink; nothing eager, nothing mocked (conftest.py).

The test process decides steps through the services and publishes after commit; the worker delivers.
Each test reads what reached the sink and the notification centre: channels switched off stay silent,
a digest reader's email waits for the digest hour and comes as one message, and a nominee's name
that is a script reaches the HTML part as text.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from django.utils.html import escape

from notifications import outbox
from notifications.models import Channel, Event, InAppNotification, Outbox, Preference
from processes import services
from processes.models import Role
from tests.factories import (
    NomineeFactory,
    UserFactory,
    build_org,
    holders,
    member,
    open_step,
    submitted,
)
from tests.notifications.conftest import wait_until
from tests.notifications.test_real_delivery import assert_each_delivered_once, wait_all_sent

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


DELIVERED = re.compile(r"Task notifications\.deliver\[[^\]]+\] succeeded in [0-9.e-]+s: '(\w+)'")


def deliveries(worker) -> list[str]:
    """What each ``notifications.deliver`` the worker ran returned, in order: sent, skipped, retry."""
    return DELIVERED.findall(worker.logs())


def wait_deliveries(worker, count: int) -> list[str]:
    return wait_until(
        lambda: len(found := deliveries(worker)) >= count and found,
        message=lambda: f"{count} deliveries run by the worker, not {len(deliveries(worker))}\n{worker.log()[-3000:]}",
    )


def wait_settled(worker) -> None:
    """Every row not held for a digest delivered, before the test's next event. Events are not made
    while deliveries run: on PostgreSQL ``outbox.claim`` also locks the recipient's user row (its
    ``select_related``), so a claim that meets a transaction holding a key-share lock on that row (the
    foreign-key checks of a decision by that user) skips its row, which then waits a lease for the
    sweeper. That is a bug of its own, not what these tests are about."""
    pending = Outbox.objects.filter(digest=False).exclude(status=Outbox.Status.SENT)
    wait_until(
        lambda: not pending.exists(),
        message=lambda: f"{list(pending.values_list('pk', 'event', 'channel', 'status'))}\n{worker.log()[-3000:]}",
    )


def sent_to(sink, address: str) -> list:
    return [item for item in sink.received if address in item.envelope_to]


def parts(received) -> tuple[str, str]:
    """The text/plain and the text/html part of a message from the sink, decoded, with the wire's CRLF
    line ends back to the templates' LF."""
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    return plain.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


# --- 1. channels switched off ---------------------------------------------------------------------------


#: The Board's officers: every one holds the Board's steps. Their preferences for a step assigned to them:
#: both channels (no preference), in-app only, email only, and no email address at all.
BOARD = ("board_officer", "board_officer_no_email", "board_officer_no_in_app", "board_officer_no_address")


def build_board_org():
    org = build_org()
    for username in BOARD[1:]:
        extra = {"email": ""} if username == "board_officer_no_address" else {}
        org.users[username] = member(UserFactory(username=username, **extra), org.board, Role.MEMBER).user
    return org


def test_each_holder_gets_only_the_channels_they_chose_through_the_worker(publisher, worker, smtp_sink):
    worker.start()
    org = build_board_org()
    both, no_email, no_in_app, no_address = (org.users[name] for name in BOARD)
    Preference.objects.create(user=no_email, event=Event.TASK_ASSIGNED, in_app=True, email=False)
    Preference.objects.create(user=no_in_app, event=Event.TASK_ASSIGNED, in_app=False, email=True)
    nomination = submitted(org)
    wait_settled(worker)
    services.nomination_decide(task_id=open_step(nomination).pk, by=org.hospital_head, action="approve")
    assert open_step(nomination).step.code == "proposer_submit"
    wait_all_sent(worker, smtp_sink)
    before = set(Outbox.objects.values_list("pk", flat=True))

    services.nomination_decide(task_id=open_step(nomination).pk, by=org.director, action="approve")
    step = open_step(nomination)
    assert step.step.code == "board_intake"
    assert {user.username for user in holders(step)} == set(BOARD)
    new = Outbox.objects.exclude(pk__in=before)
    assert sorted(new.values_list("recipient__username", "event", "channel")) == [
        (both.username, Event.TASK_ASSIGNED, Channel.EMAIL),
        (both.username, Event.TASK_ASSIGNED, Channel.IN_APP),
        (no_address.username, Event.TASK_ASSIGNED, Channel.IN_APP),
        (no_email.username, Event.TASK_ASSIGNED, Channel.IN_APP),
        (no_in_app.username, Event.TASK_ASSIGNED, Channel.EMAIL),
    ]
    rows = wait_all_sent(worker, smtp_sink)

    # The sink: one email each to the two who want email, none to the one who switched it off.
    for user in (both, no_in_app):
        (received,) = sent_to(smtp_sink, user.email)
        row = new.get(recipient=user, channel=Channel.EMAIL)
        assert received.message_id == row.message_id
        assert received.message["Subject"].strip() == row.subject
        assert step.step.name in parts(received)[0]
    assert sent_to(smtp_sink, no_email.email) == []
    assert no_address.email == ""
    assert all(item.envelope_to and "" not in item.envelope_to for item in smtp_sink.received)
    # The notification centre: everyone but the one who switched it off.
    told = InAppNotification.objects.filter(outbox__in=new)
    assert sorted(told.values_list("recipient__username", "title")) == sorted(
        (user.username, new.get(recipient=user, channel=Channel.IN_APP).subject)
        for user in (both, no_email, no_address)
    )
    assert not InAppNotification.objects.filter(recipient=no_in_app).exists()
    assert_each_delivered_once(rows, smtp_sink)
    assert mail.outbox == []  # the worker sent them, not this process


# --- 2. the daily digest --------------------------------------------------------------------------------


def test_a_digest_reader_gets_no_single_email_then_one_email_with_every_row_at_the_digest_hour(
    publisher, worker, smtp_sink
):
    worker.start()
    org = build_org()
    head = org.hospital_head
    for event in (Event.TASK_ASSIGNED, Event.RETURNED):
        Preference.objects.create(user=head, event=event, digest=True)
    first = submitted(org)  # a step for the head
    wait_settled(worker)
    second = submitted(org)  # another, which the head returns: told of the return too
    wait_settled(worker)
    services.nomination_decide(task_id=open_step(second).pk, by=head, action="return", comment="Thiếu biên bản")

    digest = Outbox.objects.filter(recipient=head, channel=Channel.EMAIL).order_by("pk")
    assert list(digest.values_list("event", "object_id", "digest")) == [
        (Event.TASK_ASSIGNED, first.pk, True),
        (Event.TASK_ASSIGNED, second.pk, True),
        (Event.RETURNED, second.pk, True),
    ]
    now = timezone.now()
    for row in digest:
        due = timezone.localtime(row.next_attempt_at)
        assert (due.hour, due.minute, due.second) == (settings.NOTIFICATION_DIGEST_HOUR, 0, 0)
        assert now < row.next_attempt_at <= now + timedelta(days=1)
    # Before the hour: every other row delivered; the digest rows wait, and the sweeper leaves them.
    wait_settled(worker)
    others = Outbox.objects.filter(digest=False)
    assert deliveries(worker) == ["sent"] * others.count()
    assert outbox.sweep() == 0
    # Even a message out for a digest row early (a stray, a replay) sends nothing before the hour.
    outbox.enqueue(list(digest.values_list("pk", flat=True)))
    assert wait_deliveries(worker, others.count() + 3)[-3:] == ["skipped"] * 3
    assert set(digest.values_list("status", "attempts")) == {(Outbox.Status.PENDING, 0)}
    assert sent_to(smtp_sink, head.email) == []
    assert sent_to(smtp_sink, org.hospital_secretary.email)  # the return's email to the secretary went
    assert InAppNotification.objects.filter(recipient=head).count() == 3  # in-app is never held back

    # The digest hour has come; the sweeper (beat, every few minutes) enqueues what is due.
    delivered_before = len(deliveries(worker))
    digest.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbox.sweep() == 3
    # Every digest row's delivery runs: one sends them all, two find their row taken. One email.
    assert sorted(wait_deliveries(worker, delivered_before + 3)[delivered_before:]) == ["sent", "skipped", "skipped"]
    rows = list(Outbox.objects.order_by("pk"))
    assert {row.status for row in rows} == {Outbox.Status.SENT}

    (received,) = sent_to(smtp_sink, head.email)
    ids = list(digest.values_list("pk", flat=True))
    assert received.message_id == f"<outbox-{ids[0]}@{settings.NOTIFICATION_MESSAGE_ID_HOST}>"
    assert received.envelope_to == [head.email]
    assert "3" in received.message["Subject"]
    plain, html = parts(received)
    for row in digest:
        assert row.subject in plain
        assert escape(row.subject) in html
        assert row.body in plain
    for nomination in (first, second):
        assert nomination.nominee.name in plain
        assert escape(nomination.nominee.name) in html
        assert f"/{nomination.pk}/" in html  # each row's link to its case
    assert set(digest.values_list("status", "attempts")) == {(Outbox.Status.SENT, 1)}
    assert all(row.sent_at is not None for row in digest)
    # Nothing else to the head, and every other email once: the digest's other rows never had one of their own.
    singles = {row.message_id for row in rows if row.channel == Channel.EMAIL and row.recipient_id != head.pk}
    assert smtp_sink.counts() == dict.fromkeys(singles | {received.message_id}, 1)


# --- 3. a script in a name ------------------------------------------------------------------------------

SCRIPTS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')


def test_a_script_in_a_nominees_name_reaches_the_html_part_escaped_and_the_text_part_as_written(
    publisher, worker, smtp_sink
):
    worker.start()
    org = build_org()
    cases = {}
    for name in SCRIPTS:
        nomination = submitted(org, nominee=NomineeFactory(unit=org.hospital, name=name))
        wait_settled(worker)
        # Returned: the secretary's email names the nominee in its subject and its text.
        services.nomination_decide(
            task_id=open_step(nomination).pk, by=org.hospital_head, action="return", comment="Thiếu biên bản"
        )
        wait_settled(worker)
        cases[name] = nomination
    rows = wait_all_sent(worker, smtp_sink)
    assert_each_delivered_once(rows, smtp_sink)

    for name, nomination in cases.items():
        emails = emails_about(rows, nomination)
        assert {(row.event, row.recipient.username) for row in emails} == {
            (Event.TASK_ASSIGNED, "hospital_head"),
            (Event.RETURNED, "hospital_head"),
            (Event.RETURNED, "hospital_secretary"),
        }
        for row in emails:
            assert name in row.body
            (received,) = smtp_sink.by_message_id(row.message_id)
            plain, html = parts(received)
            assert name not in html
            assert "<script" not in html.lower()
            assert "<img" not in html.lower()
            assert escape(name) in html
            assert name in plain
            assert escape(name) not in plain
            if row.event == Event.RETURNED:  # the name in the subject (the heading) and in the text
                assert name in received.message["Subject"]
                assert html.count(escape(name)) == 2
                assert plain.count(name) == 2
    (script,) = (row for row in emails_about(rows, cases[SCRIPTS[0]]) if row.event == Event.TASK_ASSIGNED)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in parts(smtp_sink.by_message_id(script.message_id)[0])[1]
    (img,) = (row for row in emails_about(rows, cases[SCRIPTS[1]]) if row.event == Event.TASK_ASSIGNED)
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in parts(smtp_sink.by_message_id(img.message_id)[0])[1]


def emails_about(rows: list[Outbox], nomination) -> list[Outbox]:
    return [row for row in rows if row.channel == Channel.EMAIL and row.object_id == nomination.pk]
