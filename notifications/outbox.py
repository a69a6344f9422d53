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

import psycopg
from celery import current_app
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Model, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications.models import Channel, Event, InAppNotification, Outbox, Preference

logger = logging.getLogger(__name__)

#: How long a claimed row stays with its worker before the sweeper gives it to another (and how long a
#: published row may wait unclaimed before the sweeper publishes it again): what a worker killed mid-send
#: delays its rows by. Longer than any send can take (EMAIL_TIMEOUT), or a slow send goes out twice.
LEASE = timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)
#: Retries: 1, 2, 4, … minutes, capped at an hour; after this many attempts the row fails.
MAX_ATTEMPTS = 8
BACKOFF_CAP = timedelta(hours=1)


def one_line(text: str) -> str:
    """A subject is one line: an email header cannot carry a line break (a name typed with one would
    make every send of the row fail)."""
    return " ".join(text.split())


def _channels(preference: Preference | None, *, has_email: bool) -> list[str]:
    """In-app and email unless the user said otherwise; email only to an address."""
    channels = []
    if preference is None or preference.in_app:
        channels.append(Channel.IN_APP)
    if (preference is None or preference.email) and has_email:
        channels.append(Channel.EMAIL)
    return channels


def notify(*, recipient, event: Event, about: Model, slot: str, subject: str, body: str, link: str = "") -> list[int]:
    """One outbox row per channel the recipient wants; a row already there (same key) is left alone.
    Runs in the caller's transaction; delivery is asked for once it commits. The rows are written as
    ``notify_many`` writes them, in one statement (not a savepoint and an INSERT per channel: every
    step of every case comes here)."""
    if not recipient.is_active:
        return []
    notice = Notice(
        recipient_id=recipient.pk,
        has_email=bool(recipient.email),
        event=event,
        object_type_id=ContentType.objects.get_for_model(about).pk,
        object_id=about.pk,
        slot=slot,
        subject=subject,
        body=body,
        link=link,
    )
    preference = Preference.objects.filter(user=recipient, event=event).first()  # read once
    created = _insert_new(_outbox_rows(notice, preference, now=timezone.now()))
    to_publish = [pk for pk, published in created if published is not None]  # a digest row waits
    if to_publish:
        _enqueue_on_commit(to_publish)
    return [pk for pk, _published in created]


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


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification for ``notify_many``, as plain values (the scan writes tens of thousands)."""

    recipient_id: int
    has_email: bool
    event: str
    object_type_id: int
    object_id: int
    slot: str
    subject: str
    body: str
    link: str = ""


#: The columns ``notify_many`` writes; the others keep their database defaults (none) or stay empty.
_COLUMNS = (
    "recipient",
    "event",
    "channel",
    "object_type",
    "object_id",
    "slot",
    "subject",
    "body",
    "link",
    "digest",
    "status",
    "attempts",
    "next_attempt_at",
    "published_at",
    "last_error",
    "created_at",
)


def notify_many(notices: list[Notice]) -> int:
    """``notify`` for a batch (the reminder scan), for active recipients only: preferences read in one
    query, rows written by multi-row ``INSERT … ON CONFLICT DO NOTHING`` (the unique key skips those
    already there). Django's ``bulk_create`` spends seconds preparing 30,000 rows field by field; these
    are plain values. The new rows are published after commit. Returns how many rows were new."""
    if not notices:
        return 0
    users = {notice.recipient_id for notice in notices}
    preferences = {(row.user_id, row.event): row for row in Preference.objects.filter(user_id__in=users)}
    now = timezone.now()
    rows = []
    for notice in notices:
        rows += _outbox_rows(notice, preferences.get((notice.recipient_id, notice.event)), now=now)
    created = _insert_new(rows)
    to_publish = [pk for pk, published in created if published is not None]
    if to_publish:
        transaction.on_commit(lambda: enqueue(to_publish), robust=True)
    return len(created)


def _outbox_rows(notice: Notice, preference: Preference | None, *, now: datetime) -> list[tuple]:
    """The values of ``notice``'s rows, one per channel the recipient wants, in ``_COLUMNS`` order."""
    adapt = connection.ops.adapt_datetimefield_value
    at_once = adapt(now)
    by_digest = bool(preference and preference.digest)
    head = (notice.recipient_id, Event(notice.event).value)
    tail = (
        notice.object_type_id,
        notice.object_id,
        notice.slot,
        one_line(notice.subject)[:255],
        notice.body,
        notice.link,
    )
    rows = []
    for channel in _channels(preference, has_email=notice.has_email):
        digest = by_digest and channel == Channel.EMAIL  # a digest row waits for its hour, unpublished
        timing = (adapt(_digest_time(now)), None) if digest else (at_once, at_once)
        rows.append((*head, channel.value, *tail, digest, "pending", 0, *timing, "", at_once))
    return rows


#: From how many rows PostgreSQL gets one statement over arrays (the scan's tens of thousands); fewer
#: (a decision's few) go as a plain VALUES list through Django's cursor, like every other statement.
UNNEST_FROM_ROWS = 200


def _insert_new(rows: list[tuple]) -> list[tuple[int, object]]:
    """Insert the rows the unique key lets in; returns (id, published_at) of each new one."""
    if not rows:
        return []
    fields = [Outbox._meta.get_field(name) for name in _COLUMNS]
    quote = connection.ops.quote_name
    insert = f"INSERT INTO {quote(Outbox._meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"
    returning = f"ON CONFLICT DO NOTHING RETURNING {quote('id')}, {quote('published_at')}"
    columns = list(zip(*rows, strict=True))
    if (
        connection.vendor == "postgresql"
        and len(rows) > UNNEST_FROM_ROWS
        and any(len(set(column)) > 1 for column in columns)
    ):
        return _insert_unnest(insert, returning, fields, columns)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    size = min(1000, max(1, (connection.features.max_query_params or 16_000) // len(fields)))
    created = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            cursor.execute(
                f"{insert} VALUES {', '.join([one] * len(chunk))} {returning}",
                [value for row in chunk for value in row],
            )
            created += cursor.fetchall()
    return created


def _insert_unnest(insert: str, returning: str, fields, columns: list[tuple]) -> list[tuple[int, object]]:
    """PostgreSQL: one statement over arrays, 30,000 rows in a few hundred milliseconds. A VALUES
    list of 16,000 placeholders costs the driver more to parse than the server to run, and Django's
    cursors bind on the client, quoting every array into the text: this cursor binds on the server.
    A column holding one value throughout is sent once, not as an array of copies."""
    select, arrays, names, params = [], [], [], []
    for index, (field, column) in enumerate(zip(fields, columns, strict=True)):
        cast = field.db_type(connection)
        if len(set(column)) == 1:
            select.append(f"%s::{cast}")
            params.append(column[0])
        else:
            select.append(f"c{index}")
            arrays.append(f"%b::{cast}[]")  # sent in binary: no quoting of 30,000 strings
            names.append(f"c{index}")
    with connection.cursor() as cursor, psycopg.Cursor(cursor.connection) as raw:
        raw.execute(
            f"{insert} SELECT {', '.join(select)} FROM unnest({', '.join(arrays)}) "  # noqa: S608
            f"AS new ({', '.join(names)}) {returning}",
            [*params, *(list(column) for column in columns if len(set(column)) > 1)],
        )
        return raw.fetchall()


def _digest_time(now: datetime) -> datetime:
    """Email for a digest reader waits for the next digest hour, when one email carries them all."""
    local = timezone.localtime(now)
    at = local.replace(hour=settings.NOTIFICATION_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return at if at > local else at + timedelta(days=1)


#: After a failed publish, publishing is skipped for this long: the rows wait for the sweeper.
BROKER_PAUSE = timedelta(seconds=30)
_broker_down_until: datetime | None = None


#: The Celery task that delivers one row (``notifications.tasks.deliver``), asked for by name.
DELIVER = "notifications.deliver"


def publish(pk: int) -> None:
    """One message asking the worker to deliver row ``pk``."""
    current_app.send_task(DELIVER, args=[pk], retry=False)


def enqueue(ids: list[int]) -> bool:
    """Ask the worker to deliver; with the broker down the rows simply wait for the sweeper, and the
    next publishes in this process are skipped for a while instead of each waiting for a timeout.
    Returns whether every row was published."""
    global _broker_down_until
    if not ids:
        return True
    if _broker_down_until is not None and timezone.now() < _broker_down_until:
        _unpublished(ids)
        return False
    for index, pk in enumerate(ids):
        try:
            publish(pk)
        except Exception:  # a broker outage must not fail the request that made the row
            _broker_down_until = timezone.now() + BROKER_PAUSE
            logger.warning("outbox %s: broker unavailable, left for the sweeper", pk, exc_info=True)
            _unpublished(ids[index:])
            return False
    _broker_down_until = None
    return True


def _unpublished(ids: list[int]) -> None:
    """No message is out for these rows: the next sweep publishes them, not one a lease later."""
    try:
        Outbox.objects.filter(pk__in=ids, status=Outbox.Status.PENDING).update(published_at=None)
    except DatabaseError:  # the database is down too: the sweeper republishes after the lease time
        logger.warning("outbox: could not mark %s rows unpublished", len(ids), exc_info=True)


def claim(pk: int, *, now: datetime | None = None) -> list[Outbox]:
    """pending → sending with a lease, committed before anything is sent; empty if not ours to send.
    A digest row brings every due digest row of its recipient along: one email carries them all."""
    now = now or timezone.now()
    with transaction.atomic():
        # Only the outbox rows are locked (``of``): a join would lock the recipient's user row too,
        # and any transaction holding a key lock on it (a decision of theirs committing) would make
        # the claim skip the row.
        due = Outbox.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status=Outbox.Status.PENDING, next_attempt_at__lte=now
        )
        row = due.filter(pk=pk).select_related("recipient").first()
        if row is None:
            return []
        rows = [row]
        if row.digest:  # oldest first, whichever row's job came first: the Message-ID is the oldest's
            rows = sorted([row, *due.filter(recipient=row.recipient, digest=True).exclude(pk=pk)], key=lambda r: r.pk)
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
        changes = {
            "status": Outbox.Status.PENDING,
            "lease_until": None,
            "next_attempt_at": now + delay,
            "published_at": None,
        }
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
        subject=one_line(subject),
        body=text,
        to=[row.recipient.email],
        headers={"Message-ID": row.message_id},
    )
    message.attach_alternative(html, "text/html")
    message.send()


def sweep(*, now: datetime | None = None, batch: int = 1000, limit: int = 20_000) -> int:
    """Give expired leases back, then publish every due row with no message out: never published,
    or published longer than a lease ago and still not claimed (the message was lost: the filesystem
    broker deletes a message when it is fetched, a killed worker's Redis message waits an hour).
    Rows are marked before publishing, so a backlog is published once, not at every sweep.
    Returns how many rows it published."""
    now = now or timezone.now()
    Outbox.objects.filter(status=Outbox.Status.SENDING, lease_until__lt=now).update(
        status=Outbox.Status.PENDING, lease_until=None, next_attempt_at=F("lease_until"), published_at=None
    )
    published = 0
    while published < limit:
        with transaction.atomic():
            due = list(
                Outbox.objects.select_for_update(skip_locked=True)
                .filter(status=Outbox.Status.PENDING, next_attempt_at__lte=now)
                .filter(Q(published_at__isnull=True) | Q(published_at__lt=now - LEASE))
                .order_by("next_attempt_at", "pk")
                .values_list("pk", flat=True)[:batch]
            )
            Outbox.objects.filter(pk__in=due).update(published_at=now)
        if not due:
            break
        if not enqueue(due):
            break  # the broker is down: the rows wait for the next sweep
        published += len(due)
    return published


def retry_failed(ids) -> int:
    """An admin's retry: failed rows go back to pending with a fresh count."""
    return Outbox.objects.filter(pk__in=ids, status=Outbox.Status.FAILED).update(
        status=Outbox.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), published_at=None, last_error=""
    )
