"""Writing, delivering and sweeping outbox rows.

``notify`` runs in the caller's transaction (the event's) and asks for delivery after commit;
``deliver`` claims one row with a lease, commits, sends, and marks it sent; ``sweep`` re-enqueues
rows whose attempt is due or whose lease expired. Sending never happens inside the claim's
transaction, so a slow mail server holds no lock; a send cut off between the server accepting it and
the row being marked sent is the only way a message goes out twice, and it keeps its Message-ID.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications.models import Channel, Event, InAppNotification, Outbox, Preference

logger = logging.getLogger(__name__)

#: How long a claimed row stays with its worker before the sweeper gives it to another.
LEASE = timedelta(minutes=5)
#: Retries: 1, 2, 4, … minutes, capped at an hour; after this many attempts the row fails.
MAX_ATTEMPTS = 8
BACKOFF_CAP = timedelta(hours=1)


def channels_for(user, event: str) -> list[str]:
    preference = Preference.objects.filter(user=user, event=event).first()
    channels = []
    if preference is None or preference.in_app:
        channels.append(Channel.IN_APP)
    if (preference is None or preference.email) and user.email:
        channels.append(Channel.EMAIL)
    return channels


def notify(*, recipient, event: Event, about: Model, slot: str, subject: str, body: str, link: str = "") -> list[int]:
    """One outbox row per channel the recipient wants; a row already there (same key) is left alone.
    Runs in the caller's transaction; delivery is asked for once it commits."""
    if not recipient.is_active:
        return []
    now = timezone.now()
    created = []
    digest = Preference.objects.filter(user=recipient, event=event, digest=True).exists()
    for channel in channels_for(recipient, event):
        try:
            with transaction.atomic():
                row = Outbox.objects.create(
                    recipient=recipient,
                    event=event,
                    channel=channel,
                    object_type=ContentType.objects.get_for_model(about),
                    object_id=about.pk,
                    slot=slot,
                    subject=subject[:255],
                    body=body,
                    link=link,
                    digest=digest and channel == Channel.EMAIL,
                    next_attempt_at=_digest_time(now) if digest and channel == Channel.EMAIL else now,
                )
        except IntegrityError:
            continue  # told already: the unique key is the deduplication
        created.append(row.pk)
    if created:
        _enqueue_on_commit(created)
    return created


def _enqueue_on_commit(ids: list[int]) -> None:
    """Publish after commit, all of a transaction's rows in one go (one hook per outermost atomic
    block): a broker outage then costs one connection timeout per transaction, not one per recipient."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        enqueue(ids)  # autocommit: the rows are committed already
        return
    outer = connection.atomic_blocks[0]
    state = connection.__dict__.get("_outbox_pending")
    if state is None or state[0] is not outer:
        buffer: list[int] = []
        state = connection.__dict__["_outbox_pending"] = (outer, buffer)

        def publish():
            batch = list(buffer)
            buffer.clear()
            enqueue(batch)

        transaction.on_commit(publish, robust=True)
    state[1].extend(ids)


@dataclass(frozen=True)
class Notice:
    recipient: object
    event: str
    about: Model
    slot: str
    subject: str
    body: str
    link: str = ""


def notify_many(notices: list[Notice]) -> int:
    """``notify`` for a batch (the reminder scan): preferences read once, rows inserted in bulk with
    the unique key skipping those already there; delivery is asked of the sweeper after commit.
    Returns how many rows were new."""
    notices = [notice for notice in notices if notice.recipient.is_active]
    if not notices:
        return 0
    users = {notice.recipient.pk for notice in notices}
    preferences = {(row.user_id, row.event): row for row in Preference.objects.filter(user_id__in=users)}
    now = timezone.now()
    rows = []
    for notice in notices:
        preference = preferences.get((notice.recipient.pk, notice.event))
        channels = []
        if preference is None or preference.in_app:
            channels.append(Channel.IN_APP)
        if (preference is None or preference.email) and notice.recipient.email:
            channels.append(Channel.EMAIL)
        digest = bool(preference and preference.digest)
        for channel in channels:
            by_digest = digest and channel == Channel.EMAIL
            rows.append(
                Outbox(
                    recipient=notice.recipient,
                    event=notice.event,
                    channel=channel,
                    object_type=ContentType.objects.get_for_model(notice.about),
                    object_id=notice.about.pk,
                    slot=notice.slot,
                    subject=notice.subject[:255],
                    body=notice.body,
                    link=notice.link,
                    digest=by_digest,
                    next_attempt_at=_digest_time(now) if by_digest else now,
                )
            )
    before = Outbox.objects.filter(created_at__gte=now).count()
    Outbox.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    created = Outbox.objects.filter(created_at__gte=now).count() - before
    if created:
        transaction.on_commit(lambda: sweep(), robust=True)
    return created


def _digest_time(now: datetime) -> datetime:
    """Email for a digest reader waits for the next digest hour, when one email carries them all."""
    local = timezone.localtime(now)
    at = local.replace(hour=settings.NOTIFICATION_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return at if at > local else at + timedelta(days=1)


#: After a failed publish, publishing is skipped for this long: the rows wait for the sweeper.
BROKER_PAUSE = timedelta(seconds=30)
_broker_down_until: datetime | None = None


def enqueue(ids: list[int]) -> None:
    """Ask the worker to deliver; with the broker down the rows simply wait for the sweeper, and the
    next publishes in this process are skipped for a while instead of each waiting for a timeout."""
    global _broker_down_until
    from notifications.tasks import deliver

    if not ids or (_broker_down_until is not None and timezone.now() < _broker_down_until):
        return
    for pk in ids:
        try:
            deliver.apply_async(args=[pk], retry=False)
        except Exception:  # a broker outage must not fail the request that made the row
            _broker_down_until = timezone.now() + BROKER_PAUSE
            logger.warning("outbox %s: broker unavailable, left for the sweeper", pk, exc_info=True)
            return
    _broker_down_until = None


def claim(pk: int, *, now: datetime | None = None) -> list[Outbox]:
    """pending → sending with a lease, committed before anything is sent; empty if not ours to send.
    A digest row brings every due digest row of its recipient along: one email carries them all."""
    now = now or timezone.now()
    with transaction.atomic():
        due = Outbox.objects.select_for_update(skip_locked=True).filter(
            status=Outbox.Status.PENDING, next_attempt_at__lte=now
        )
        row = due.filter(pk=pk).select_related("recipient").first()
        if row is None:
            return []
        rows = [row]
        if row.digest:
            rows += list(due.filter(recipient=row.recipient, digest=True).exclude(pk=pk).order_by("pk"))
        for each in rows:
            each.status = Outbox.Status.SENDING
            each.lease_until = now + LEASE
            each.attempts += 1
            each.save(update_fields=["status", "lease_until", "attempts"])
    return rows


def deliver(pk: int) -> str:
    rows = claim(pk)
    if not rows:
        return "skipped"
    row = rows[0]
    try:
        if row.channel == Channel.IN_APP:
            with transaction.atomic():
                InAppNotification.objects.get_or_create(
                    outbox=row,
                    defaults={"recipient": row.recipient, "title": row.subject, "body": row.body, "link": row.link},
                )
                _mark_sent(rows)
            return "sent"
        send_email(row, rows)
    except Exception as exc:  # any failure is recorded in the row and retried
        _failed_attempt(rows, exc)
        return "retry"
    with transaction.atomic():
        _mark_sent(rows)
    return "sent"


def _ours(row: Outbox):
    """The row as this worker claimed it: a claim that expired and was taken over is left alone."""
    return Outbox.objects.filter(pk=row.pk, status=Outbox.Status.SENDING, attempts=row.attempts)


def _mark_sent(rows: list[Outbox]) -> None:
    for row in rows:
        _ours(row).update(status=Outbox.Status.SENT, sent_at=timezone.now(), lease_until=None, last_error="")


def _failed_attempt(rows: list[Outbox], exc: Exception) -> None:
    for row in rows:
        _failed_row(row, exc)


def _failed_row(row: Outbox, exc: Exception) -> None:
    now = timezone.now()
    if row.attempts >= MAX_ATTEMPTS:
        changes = {"status": Outbox.Status.FAILED, "lease_until": None}
    else:
        delay = min(timedelta(minutes=2 ** (row.attempts - 1)), BACKOFF_CAP)
        changes = {"status": Outbox.Status.PENDING, "lease_until": None, "next_attempt_at": now + delay}
    _ours(row).update(last_error=repr(exc)[:2000], **changes)


def send_email(row: Outbox, rows: list[Outbox]) -> None:
    """HTML and plain text, Vietnamese first; the Message-ID is the (first) row's, so a resend is
    recognisable. A digest lists every row it carries."""
    context = {"row": row, "rows": rows, "site": settings.NOTIFICATION_SITE_URL}
    with translation.override(settings.LANGUAGE_CODE):
        text = render_to_string("notifications/email.txt", context)
        html = render_to_string("notifications/email.html", context)
    subject = row.subject
    if len(rows) > 1:
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Daily digest: %(count)s notifications") % {"count": len(rows)}
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[row.recipient.email],
        headers={"Message-ID": row.message_id},
    )
    message.attach_alternative(html, "text/html")
    message.send()


def sweep(*, now: datetime | None = None, batch: int = 500) -> int:
    """Give expired leases back and enqueue every row whose attempt is due. Returns how many."""
    now = now or timezone.now()
    Outbox.objects.filter(status=Outbox.Status.SENDING, lease_until__lt=now).update(
        status=Outbox.Status.PENDING, lease_until=None, next_attempt_at=F("lease_until")
    )
    due = list(
        Outbox.objects.filter(Q(status=Outbox.Status.PENDING) & Q(next_attempt_at__lte=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch]
    )
    enqueue(due)
    return len(due)


def retry_failed(ids) -> int:
    """An admin's retry: failed rows go back to pending with a fresh count."""
    return Outbox.objects.filter(pk__in=ids, status=Outbox.Status.FAILED).update(
        status=Outbox.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
    )
