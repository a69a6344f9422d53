"""The outbox: written with its event, delivered once per row, retried from the row, swept back."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications import outbox
from notifications.models import Channel, Event, InAppNotification, Outbox, Preference
from processes import services
from processes.models import Role
from tests.factories import UserFactory, approve_until, holders, member, open_step, submitted


def _rows(**filters):
    return Outbox.objects.filter(**filters).order_by("pk")


def test_a_new_step_writes_its_holders_notifications_in_the_same_transaction(org):
    org.hospital_head.email = "head@example.test"
    org.hospital_head.save()
    nomination = submitted(org)
    rows = _rows(recipient=org.hospital_head, event=Event.TASK_ASSIGNED)
    assert {row.channel for row in rows} == {Channel.IN_APP, Channel.EMAIL}
    assert all(row.object_id == nomination.pk and row.status == Outbox.Status.PENDING for row in rows)
    assert open_step(nomination).step.name in rows[0].subject


def test_an_event_rolled_back_leaves_no_notification(org):
    @transaction.atomic
    def submit_then_fail():
        submitted(org)
        raise RuntimeError("the request failed after the event")

    with pytest.raises(RuntimeError):
        submit_then_fail()
    assert not Outbox.objects.exists()


def test_each_row_is_delivered_once_in_app_and_by_email_with_a_stable_message_id(org):
    submitted(org)
    for row in _rows(recipient=org.hospital_head):
        assert outbox.deliver(row.pk) == "sent"
        assert outbox.deliver(row.pk) == "skipped"  # a second delivery of the same row does nothing
    assert InAppNotification.objects.filter(recipient=org.hospital_head).count() == 1
    (email,) = mail.outbox
    row = _rows(recipient=org.hospital_head, channel=Channel.EMAIL).get()
    assert email.extra_headers["Message-ID"] == f"<outbox-{row.pk}@thidua.localhost>"
    assert email.alternatives[0][1] == "text/html"
    assert _rows(status=Outbox.Status.SENT, recipient=org.hospital_head).count() == 2


def test_a_failing_send_is_retried_with_backoff_in_the_row_then_fails_for_an_admin_to_retry(org, settings):
    settings.EMAIL_BACKEND = "tests.notifications.failing_backend.FailingBackend"
    submitted(org)
    row = _rows(recipient=org.hospital_head, channel=Channel.EMAIL).get()
    assert outbox.deliver(row.pk) == "retry"
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Outbox.Status.PENDING, 1)
    assert row.next_attempt_at > timezone.now()
    assert "SMTP is down" in row.last_error
    for _attempt in range(outbox.MAX_ATTEMPTS - 1):
        Outbox.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        outbox.deliver(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Outbox.Status.FAILED, outbox.MAX_ATTEMPTS)
    assert outbox.retry_failed([row.pk]) == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox.deliver(row.pk) == "sent"


def test_the_sweeper_gives_back_a_row_whose_worker_died_holding_it(org):
    submitted(org)
    row = _rows(recipient=org.hospital_head, channel=Channel.IN_APP).get()
    assert outbox.claim(row.pk)  # a worker claimed it, then died before sending
    assert outbox.deliver(row.pk) == "skipped"
    outbox.sweep(now=timezone.now())
    row.refresh_from_db()
    assert row.status == Outbox.Status.SENDING  # the lease is still running
    Outbox.objects.filter(pk=row.pk).update(lease_until=timezone.now() - timedelta(seconds=1))  # time passes
    outbox.sweep()
    row.refresh_from_db()
    assert row.status == Outbox.Status.PENDING
    assert outbox.deliver(row.pk) == "sent"
    assert InAppNotification.objects.filter(outbox=row).count() == 1


def test_preferences_choose_the_channels(org):
    Preference.objects.create(user=org.hospital_head, event=Event.TASK_ASSIGNED, in_app=True, email=False)
    submitted(org)
    assert [row.channel for row in _rows(recipient=org.hospital_head)] == [Channel.IN_APP]


def test_a_digest_reader_gets_one_email_at_the_digest_hour_for_all_their_steps(org, settings):
    settings.NOTIFICATION_DIGEST_HOUR = 16
    Preference.objects.create(user=org.hospital_head, event=Event.TASK_ASSIGNED, digest=True)
    first, second = submitted(org), submitted(org)
    emails = _rows(recipient=org.hospital_head, channel=Channel.EMAIL)
    assert [timezone.localtime(row.next_attempt_at).hour for row in emails] == [16, 16]
    assert all(row.next_attempt_at <= timezone.now() for row in _rows(channel=Channel.IN_APP))
    assert outbox.deliver(emails[0].pk) == "skipped"  # not before the digest hour

    emails.update(next_attempt_at=timezone.now())  # the digest hour has come
    assert outbox.deliver(emails[0].pk) == "sent"
    (digest,) = mail.outbox
    assert first.nominee.name in digest.body
    assert second.nominee.name in digest.body
    assert set(_rows(recipient=org.hospital_head, channel=Channel.EMAIL).values_list("status", flat=True)) == {"sent"}


def test_a_return_tells_the_submitting_secretary_and_the_nominees_unit_head(org):
    nomination = submitted(org)
    task = open_step(nomination)
    services.nomination_decide(task_id=task.pk, by=holders(task)[0], action="return", comment="Thiếu biên bản")
    told = {row.recipient.username for row in _rows(event=Event.RETURNED)}
    assert told == {"hospital_secretary", "hospital_head"}


def test_a_script_in_a_nominees_name_arrives_escaped_in_the_html_email(org):
    nomination = submitted(org)
    nomination.nominee.name = "<script>alert(1)</script>"
    nomination.nominee.save()
    task = open_step(nomination)
    services.nomination_decide(task_id=task.pk, by=holders(task)[0], action="approve")
    row = _rows(recipient=org.director, channel=Channel.EMAIL).get()
    assert outbox.deliver(row.pk) == "sent"
    html = mail.outbox[-1].alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_a_worker_whose_lease_was_taken_over_cannot_overwrite_the_new_claim(org):
    submitted(org)
    row = _rows(recipient=org.hospital_head, channel=Channel.IN_APP).get()
    (first,) = outbox.claim(row.pk)  # worker A, which then hangs past its lease
    Outbox.objects.filter(pk=row.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    outbox.sweep()
    (second,) = outbox.claim(row.pk)  # worker B takes the row over
    outbox._failed_attempt([first], RuntimeError("A finally gives up"))
    outbox._mark_sent([first])
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Outbox.Status.SENDING, 2, "")
    outbox._mark_sent([second])
    row.refresh_from_db()
    assert row.status == Outbox.Status.SENT


@pytest.mark.django_db(transaction=True)  # real commits: the hook runs when the decision commits
def test_a_transaction_telling_many_people_publishes_once_after_commit(monkeypatch):
    from tests.factories import build_org

    org = build_org()
    member(UserFactory(username="board_officer_2"), org.board, Role.MEMBER)  # the Board's step has two holders
    nomination = approve_until(submitted(org), "proposer_submit")
    task = open_step(nomination)
    published = []
    monkeypatch.setattr(outbox, "enqueue", lambda ids: published.append(list(ids)) if ids else None)
    services.nomination_decide(task_id=task.pk, by=holders(task)[0], action="approve")
    new_rows = Outbox.objects.filter(event=Event.TASK_ASSIGNED, recipient__username__startswith="board_officer")
    assert new_rows.count() == 4  # two officers, two channels each
    assert len(published) == 1
    assert sorted(published[0]) == sorted(new_rows.values_list("pk", flat=True))


@pytest.fixture
def published(monkeypatch):
    """What reaches the broker (its calls recorded here); the real broker is in test_real_delivery."""
    calls = []
    monkeypatch.setattr(outbox, "publish", calls.append)
    monkeypatch.setattr(outbox, "_broker_down_until", None)
    return calls


def test_the_sweeper_publishes_a_backlog_once_not_at_every_sweep(org, published):
    submitted(org)  # its rows are published when the decision commits (not in this test's transaction)
    pending = set(_rows(status=Outbox.Status.PENDING).values_list("pk", flat=True))
    assert pending
    assert outbox.sweep() == 0  # a message is out for each: the worker will come to them
    later = timezone.now() + outbox.LEASE + timedelta(seconds=1)  # none was claimed within a lease: lost
    assert outbox.sweep(now=later) == len(pending)
    assert set(published) == pending
    assert outbox.sweep(now=later) == 0  # a backlog is not published again at every sweep
    assert len(published) == len(pending)


def test_a_row_the_broker_did_not_take_goes_out_with_the_next_sweep(org, published, monkeypatch):
    submitted(org)
    row = _rows(recipient=org.hospital_head, channel=Channel.EMAIL).get()

    def broker_down(pk):
        raise ConnectionError("Redis is down")

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "publish", broker_down)
        assert outbox.enqueue([row.pk]) is False
    row.refresh_from_db()
    assert row.published_at is None  # no message is out for it
    monkeypatch.setattr(outbox, "_broker_down_until", None)  # the broker is back
    assert outbox.sweep() >= 1
    assert row.pk in published


def test_a_failed_attempt_is_published_again_once_its_backoff_is_due(org, published, settings):
    settings.EMAIL_BACKEND = "tests.notifications.failing_backend.FailingBackend"
    submitted(org)
    row = _rows(recipient=org.hospital_head, channel=Channel.EMAIL).get()
    assert outbox.deliver(row.pk) == "retry"
    row.refresh_from_db()
    assert row.published_at is None
    outbox.sweep(now=row.next_attempt_at - timedelta(seconds=1))
    assert row.pk not in published  # its backoff is not over
    assert outbox.sweep(now=row.next_attempt_at) >= 1
    assert row.pk in published


def test_a_digest_row_is_not_published_before_its_hour(org, published, settings):
    settings.NOTIFICATION_DIGEST_HOUR = 16
    Preference.objects.create(user=org.hospital_head, event=Event.TASK_ASSIGNED, digest=True)
    submitted(org)
    row = _rows(recipient=org.hospital_head, channel=Channel.EMAIL).get()
    assert row.digest
    assert row.published_at is None
    outbox.sweep(now=row.next_attempt_at - timedelta(seconds=1))
    assert row.pk not in published
    outbox.sweep(now=row.next_attempt_at)
    assert row.pk in published


def test_a_line_break_in_a_name_cannot_stop_the_email_about_its_case(org):
    from django.core.exceptions import ValidationError

    from processes.models import Nominee

    refused = Nominee(unit=org.hospital, kind="individual", name="Nguyễn Văn A\r\nBcc: x@example.test")
    with pytest.raises(ValidationError, match="cannot be seen"):
        refused.full_clean()
    nomination = submitted(org)
    Nominee.objects.filter(pk=nomination.nominee_id).update(name="Nguyễn Văn A\nB")  # from before the rule
    Outbox.objects.all().delete()
    services.nomination_return(nomination=nomination, by=org.hospital_head, reason="Thiếu số liệu")
    rows = _rows(event=Event.RETURNED, channel=Channel.EMAIL)
    assert rows
    for row in rows:
        assert "\n" not in row.subject
        assert outbox.deliver(row.pk) == "sent"
    assert all("Nguyễn Văn A B" in email.subject for email in mail.outbox)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claim_is_not_skipped_while_the_recipient_row_is_key_locked_by_another_transaction():
    """A decision by the recipient committing holds a key-share lock on their user row (foreign-key
    checks); the claim locks only the outbox row, so it is not skipped for a lease's time."""
    import threading

    from django.db import connections

    from tests.factories import build_org

    org = build_org()
    submitted(org)
    row = _rows(recipient=org.hospital_head, channel=Channel.IN_APP).get()
    locked, release = threading.Event(), threading.Event()

    def hold_key_lock():
        try:
            with transaction.atomic():
                with connections["default"].cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                Preference.objects.create(user=org.hospital_head, event=Event.REMINDER)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_key_lock)
    holder.start()
    try:
        assert locked.wait(10)
        assert outbox.deliver(row.pk) == "sent"
    finally:
        release.set()
        holder.join()


def test_the_lease_comes_from_notification_lease_seconds():
    """The cluster demo shortens it so that a killed worker's rows go out within its run."""
    code = "import django; django.setup(); from notifications import outbox; print(outbox.LEASE.total_seconds())"
    env = {**os.environ, "NOTIFICATION_LEASE_SECONDS": "20", "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split()[-1] == "20.0"
    assert outbox.LEASE.total_seconds() == 300  # the default
