"""The append-only audit log: one hash-chained sequence of entries per subject.

Every entry's hash covers a canonical encoding of the entry and the hash before it, so an edited,
removed or reordered row breaks the chain from that point; the chain head (``AuditChain``) keeps
the last sequence number and hash, so removing the newest row is caught too.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from workflow.models import AuditChain, AuditEntry

GENESIS_HASH = "0" * 64


def _json_normalised(value):
    """``value`` as PostgreSQL's jsonb gives it back, so the hash recomputes after a round trip.

    jsonb keeps numbers as decimals: ``1e16`` comes back as the integer ``10000000000000000`` and
    ``-0.0`` as ``0.0``, which would make an untouched row look edited. Integral floats become the
    integer their shortest repr names; everything else is left as it is.
    """
    if isinstance(value, dict):
        return {key: _json_normalised(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_normalised(item) for item in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(Decimal(repr(value)))
    return value


def _canonical(entry: AuditEntry, *, subject: str) -> bytes:
    created = entry.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    payload = {
        "subject": subject,
        "seq": entry.seq,
        "actor": entry.actor_id,
        "action": entry.action,
        "from": entry.from_state,
        "to": entry.to_state,
        "comment": entry.comment,
        "data": _json_normalised(entry.data),
        "at": created,
        "prev": entry.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(entry: AuditEntry, *, subject: str) -> str:
    return hashlib.sha256(_canonical(entry, subject=subject)).hexdigest()


def _subject_label(content_type: ContentType, object_id: int) -> str:
    return f"{content_type.app_label}.{content_type.model}:{object_id}"


def audit_append(
    *,
    subject: models.Model,
    actor,
    action: str,
    from_state: str = "",
    to_state: str = "",
    comment: str = "",
    data: dict | None = None,
) -> AuditEntry:
    """Append one entry to ``subject``'s chain, serialised on the chain's head row.

    Runs inside the caller's transaction (a savepoint at most): the entry commits or rolls back
    with the change it records.
    """
    content_type = ContentType.objects.get_for_model(subject, for_concrete_model=True)
    with transaction.atomic():
        chain, _created = AuditChain.objects.select_for_update().get_or_create(
            content_type=content_type, object_id=subject.pk
        )
        entry = AuditEntry(
            chain=chain,
            seq=chain.last_seq + 1,
            actor=actor if getattr(actor, "pk", None) else None,
            action=action,
            from_state=from_state or "",
            to_state=to_state or "",
            comment=comment or "",
            # Stored as the database will give it back: string keys, lists, jsonb's numbers.
            data=_json_normalised(json.loads(json.dumps(data or {}))),
            # Microsecond precision survives every backend, so the hash recomputes exactly.
            created_at=timezone.now(),
            prev_hash=chain.last_hash or GENESIS_HASH,
        )
        entry.hash = entry_hash(entry, subject=_subject_label(content_type, subject.pk))
        entry.save(force_insert=True)
        AuditChain.objects.filter(pk=chain.pk).update(last_seq=entry.seq, last_hash=entry.hash)
    return entry


def audit_entries_for(subject: models.Model):
    content_type = ContentType.objects.get_for_model(subject, for_concrete_model=True)
    return (
        AuditEntry.objects.filter(chain__content_type=content_type, chain__object_id=subject.pk)
        .select_related("actor")
        .order_by("seq")
    )


@dataclass(frozen=True)
class BrokenLink:
    chain: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.chain} at #{self.seq}: {self.reason}"


def _verify_chain(chain: AuditChain, entries: Iterable[AuditEntry]) -> BrokenLink | None:
    subject = _subject_label(ContentType.objects.get_for_id(chain.content_type_id), chain.object_id)
    expected_seq = 1
    prev_hash = GENESIS_HASH
    for entry in entries:
        if entry.seq != expected_seq:
            return BrokenLink(
                subject, expected_seq, f"entry #{expected_seq} is missing or out of order (found #{entry.seq})"
            )
        if entry.prev_hash != prev_hash:
            return BrokenLink(subject, entry.seq, "does not link to the entry before it (removed or reordered)")
        if entry_hash(entry, subject=subject) != entry.hash:
            return BrokenLink(subject, entry.seq, "content does not match its hash (edited)")
        prev_hash = entry.hash
        expected_seq += 1
    last_seq = expected_seq - 1
    if last_seq < chain.last_seq:
        return BrokenLink(
            subject,
            last_seq + 1,
            f"the chain head records {chain.last_seq} entries, {last_seq} remain (newest removed)",
        )
    if last_seq > chain.last_seq:
        return BrokenLink(
            subject,
            chain.last_seq + 1,
            f"the chain head records {chain.last_seq} entries, {last_seq} exist (added past the head)",
        )
    if last_seq and prev_hash != chain.last_hash:
        return BrokenLink(subject, last_seq, "the newest entry is not the one the chain head records (replaced)")
    return None


def audit_verify(*, batch_size: int = 2000) -> Iterator[BrokenLink]:
    """Yield the first broken link of every broken chain, in chain order.

    Each entry is read together with its chain head in one statement, so both come from one
    snapshot: an append that commits while the check runs is either wholly seen or not at all,
    and is never mistaken for a removed newest entry. (Reading heads and entries in two queries
    did exactly that on PostgreSQL, where each statement has its own snapshot.)
    """
    # Heads whose entries are all gone have no row to ride on in the stream below. A head and its
    # first entry are created in one transaction, so this query cannot catch a chain half-made.
    emptied = list(AuditChain.objects.filter(entries__isnull=True, last_seq__gt=0).order_by("pk"))
    entries = AuditEntry.objects.select_related("chain").order_by("chain_id", "seq").iterator(chunk_size=batch_size)
    for chain_id, group in itertools.groupby(entries, key=lambda entry: entry.chain_id):
        while emptied and emptied[0].pk < chain_id:
            yield _verify_chain(emptied.pop(0), ())
        chain_entries = list(group)  # one subject's entries: a few dozen
        broken = _verify_chain(chain_entries[0].chain, chain_entries)
        if broken:
            yield broken
    for chain in emptied:
        yield _verify_chain(chain, ())
