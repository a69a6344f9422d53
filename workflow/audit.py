"""The append-only audit log: one hash-chained sequence of entries per subject.

Every entry's hash is an HMAC-SHA256, keyed with ``settings.AUDIT_KEY`` (which is not in the
database), over a canonical encoding of the entry and the hash before it. An edited, removed or
reordered row breaks the chain from that point, and whoever can write the database but lacks the key
cannot recompute the hashes after an edit. The chain head (``AuditChain``) keeps the last sequence
number and hash, so removing the newest row is caught too.

What the rows cannot show by themselves, ``audit_verify`` checks against two witnesses from outside:
the latest signed checkpoint of every head (``workflow.checkpoints``: a chain deleted whole, the newest
entries removed with the head rolled back, history rewritten before the checkpoint), and the subjects'
current states, which the domain supplies (``AuditedSubjects``: a state changed without an entry).
"""

from __future__ import annotations

import hmac
import itertools
import json
import math
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from workflow.models import AuditChain, AuditEntry

if TYPE_CHECKING:
    from workflow.checkpoints import Checkpoint

GENESIS_HASH = "0" * 64
#: Shorter keys are refused: the HMACs are only as strong as the key is hard to guess.
MIN_KEY_LENGTH = 32


def audit_key() -> bytes:
    """The key of the entries' HMACs and of the checkpoints' signatures."""
    key = getattr(settings, "AUDIT_KEY", "") or ""
    if len(key) < MIN_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"settings.AUDIT_KEY (THIDUA_AUDIT_KEY) must be at least {MIN_KEY_LENGTH} characters long."
        )
    return key.encode()


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


def canonical_entry(entry: AuditEntry, *, subject: str) -> bytes:
    """The bytes an entry's hash covers: every field, its subject and the hash before it."""
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


def entry_hash(entry: AuditEntry, *, subject: str, key: bytes | None = None) -> str:
    return hmac.digest(key or audit_key(), canonical_entry(entry, subject=subject), "sha256").hex()


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
    context: dict | None = None,
) -> AuditEntry:
    """Append one entry to ``subject``'s chain, serialised on the chain's head row.

    Runs inside the caller's transaction, without a savepoint of its own: the entry commits or
    rolls back with the change it records. Three statements: the head read under its lock, the
    entry, the head moved on. ``context``: objects the writer already holds (the subject, the steps
    it opened), handed to the entry's listeners (``entry.context``) so they need not read them again;
    never stored.
    """
    content_type = ContentType.objects.get_for_model(subject, for_concrete_model=True)
    with transaction.atomic(savepoint=False):
        chain = (
            AuditChain.objects.select_for_update().filter(content_type=content_type, object_id=subject.pk).first()
        ) or _new_chain(content_type, subject.pk)
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
        entry.context = {"subject": subject, **(context or {})}
        entry.save(force_insert=True)
        AuditChain.objects.filter(pk=chain.pk).update(last_seq=entry.seq, last_hash=entry.hash)
    return entry


def _new_chain(content_type: ContentType, object_id: int) -> AuditChain:
    """The head of a subject's first entry; made once (a concurrent first append waits, then reads it)."""
    try:
        with transaction.atomic():
            return AuditChain.objects.create(content_type=content_type, object_id=object_id)
    except IntegrityError:
        return AuditChain.objects.select_for_update().get(content_type=content_type, object_id=object_id)


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
    #: Found against a checkpoint rather than in the database alone (a replaced database shows so too).
    by_checkpoint: bool = False

    def __str__(self) -> str:
        return f"{self.chain} at #{self.seq}: {self.reason}"


class AuditedSubjects(Protocol):
    """What ``audit_verify`` asks the domain: the adapter named by ``settings.WORKFLOW_SUBJECT``."""

    def audit_states(self, *, ids: Collection[int] | None = None) -> tuple[type[models.Model], dict[int, str]]:
        """The subject model, and each subject's current state by id (of those ``ids``, or of all): what
        the ``to_state`` of the newest entry of its chain that has one must say."""


def _verify_chain(
    chain: AuditChain,
    entries: list[AuditEntry] | tuple[()],
    *,
    subject: str,
    key: bytes,
    pinned: tuple[int, str] | None = None,
    checkpoint: Checkpoint | None = None,
) -> BrokenLink | None:
    expected_seq = 1
    prev_hash = GENESIS_HASH
    for entry in entries:
        if entry.seq != expected_seq:
            return BrokenLink(
                subject, expected_seq, f"entry #{expected_seq} is missing or out of order (found #{entry.seq})"
            )
        if entry.prev_hash != prev_hash:
            return BrokenLink(subject, entry.seq, "does not link to the entry before it (removed or reordered)")
        if entry_hash(entry, subject=subject, key=key) != entry.hash:
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
    if pinned is not None:
        pinned_seq, pinned_hash = pinned
        if last_seq < pinned_seq:
            return BrokenLink(
                subject,
                last_seq + 1,
                f"{checkpoint} recorded {pinned_seq} entries, {last_seq} remain "
                "(newest removed and the head rolled back)",
                by_checkpoint=True,
            )
        if entries[pinned_seq - 1].hash != pinned_hash:
            return BrokenLink(
                subject,
                pinned_seq,
                f"is not the entry {checkpoint} recorded (history rewritten)",
                by_checkpoint=True,
            )
    return None


def _subject_of(chain: AuditChain) -> str:
    return _subject_label(ContentType.objects.get_for_id(chain.content_type_id), chain.object_id)


def audit_verify(
    *,
    batch_size: int = 2000,
    checkpoint: Checkpoint | None = None,
    subjects: AuditedSubjects | None = None,
) -> Iterator[BrokenLink]:
    """Yield the first broken link of every broken chain, in chain order; then the chains the
    ``checkpoint`` recorded that are gone; then the subjects whose state their chain does not explain.

    Each entry is read together with its chain head in one statement, so both come from one
    snapshot: an append that commits while the check runs is either wholly seen or not at all,
    and is never mistaken for a removed newest entry. (Reading heads and entries in two queries
    did exactly that on PostgreSQL, where each statement has its own snapshot.) The checkpoint is
    older than that snapshot, so a live database is only ever ahead of it.
    """
    key = audit_key()
    pinned = dict(checkpoint.heads) if checkpoint is not None else {}
    states = _StateCheck(subjects) if subjects is not None else None  # read before the entries

    def check(chain: AuditChain, chain_entries) -> BrokenLink | None:
        subject = _subject_of(chain)
        broken = _verify_chain(
            chain, chain_entries, subject=subject, key=key, pinned=pinned.pop(subject, None), checkpoint=checkpoint
        )
        if states is not None:
            states.saw(chain, chain_entries, intact=broken is None)
        return broken

    # Heads whose entries are all gone have no row to ride on in the stream below. A head and its
    # first entry are created in one transaction, so this query cannot catch a chain half-made.
    emptied = list(AuditChain.objects.filter(entries__isnull=True, last_seq__gt=0).order_by("pk"))
    entries = AuditEntry.objects.select_related("chain").order_by("chain_id", "seq").iterator(chunk_size=batch_size)
    for chain_id, group in itertools.groupby(entries, key=lambda entry: entry.chain_id):
        while emptied and emptied[0].pk < chain_id:
            yield check(emptied.pop(0), ())
        chain_entries = list(group)  # one subject's entries: a few dozen
        broken = check(chain_entries[0].chain, chain_entries)
        if broken:
            yield broken
    for chain in emptied:
        yield check(chain, ())
    for subject, (seq, _hash) in sorted(pinned.items()):
        yield BrokenLink(subject, 1, f"the chain is gone; {checkpoint} recorded {seq} entries", by_checkpoint=True)
    if states is not None:
        yield from states.confirmed()


_MISSING = object()


class _StateCheck:
    """Each subject's current state against the newest ``to_state`` of its chain.

    The states are read in bulk before the entries, in another snapshot: a transition committing in
    between shows as a mismatch. So a mismatch is only a suspect until confirmed: its chain head is
    read, then its state, then the head again; an unchanged head means no legitimate write (which
    changes the state and appends in one transaction) came between, and the mismatch is real.
    """

    ATTEMPTS = 3
    BATCH = 500

    def __init__(self, subjects: AuditedSubjects):
        self.subjects = subjects
        model, self.states = subjects.audit_states()
        self.content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
        self.suspects: set[int] = set()

    def saw(self, chain: AuditChain, entries, *, intact: bool) -> None:
        if chain.content_type_id != self.content_type.pk:
            return
        state = self.states.pop(chain.object_id, _MISSING)
        if not intact:
            return  # reported already
        claimed = next((entry.to_state for entry in reversed(entries) if entry.to_state), None)
        if state is _MISSING or (claimed is not None and claimed != state):
            self.suspects.add(chain.object_id)

    def confirmed(self) -> Iterator[BrokenLink]:
        self.suspects.update(self.states)  # subjects whose chain the stream never met
        self.states = {}
        suspects = sorted(self.suspects)
        for start in range(0, len(suspects), self.BATCH):
            yield from self._confirm(suspects[start : start + self.BATCH])

    def _confirm(self, ids: list[int]) -> Iterator[BrokenLink]:
        chains = AuditChain.objects.filter(content_type=self.content_type)
        for _attempt in range(self.ATTEMPTS):
            before: dict[int, tuple[int, int, str | None]] = {}
            rows = chains.filter(object_id__in=ids).values_list(
                "object_id", "last_seq", "entries__seq", "entries__to_state"
            )
            for object_id, last_seq, seq, to_state in rows:  # one statement: heads and entries agree
                _last, claimed_seq, claimed = before.get(object_id, (last_seq, 0, None))
                if to_state and seq > claimed_seq:
                    claimed_seq, claimed = seq, to_state
                before[object_id] = (last_seq, claimed_seq, claimed)
            _model, states = self.subjects.audit_states(ids=ids)
            after = dict(chains.filter(object_id__in=ids).values_list("object_id", "last_seq"))
            moving = []
            for object_id in ids:
                head = before.get(object_id)
                if (head[0] if head else None) != after.get(object_id):
                    moving.append(object_id)  # written meanwhile: look again
                    continue
                broken = self._judge(object_id, head, states.get(object_id, _MISSING))
                if broken:
                    yield broken
            if not moving:
                return
            ids = moving

    def _judge(self, object_id: int, head, state) -> BrokenLink | None:
        subject = _subject_label(self.content_type, object_id)
        if head is None:
            if state is _MISSING:
                return None
            return BrokenLink(subject, 1, f"the subject is in state “{state}” but has no audit chain (deleted)")
        last_seq, claimed_seq, claimed = head
        if state is _MISSING:
            return BrokenLink(subject, last_seq, "the chain's subject no longer exists (deleted)")
        if claimed is not None and claimed != state:
            return BrokenLink(
                subject,
                claimed_seq,
                f"the subject is in state “{state}”, its chain's last state is “{claimed}” (changed without an entry)",
            )
        return None
