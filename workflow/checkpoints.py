"""Signed checkpoints of every audit chain's head, written outside the database.

The entries' HMACs stop whoever lacks the key from forging an entry, not from removing some: a chain
deleted whole, or its newest entries deleted with the head rolled back to the last one kept, still
verifies. A checkpoint remembers every head (sequence number and hash) in a file outside the
database, signed with the audit key and linked to the checkpoint before it; ``audit_verify`` then
reports a chain that is gone, a head behind its checkpoint, and an entry at a checkpointed sequence
that is not the one recorded (which also catches someone holding the key who rewrote history from
before the checkpoint).

Size, measured for 200,000 chains: a full checkpoint is one line per chain, gzipped, about 8 MB and a
second to write. So a full is written at most every ``AUDIT_CHECKPOINT_FULL_HOURS`` (a day); the
checkpoints in between are deltas holding only the heads that moved since the one before (a few
hundred lines in a busy hour), and nothing is written when no head moved. The heads in force are
the latest full plus every delta after it. Files older than ``AUDIT_CHECKPOINT_RETENTION_DAYS`` are
deleted, except the latest full and what follows it.

A file (``checkpoint-000000042-delta.gz``) is gzipped UTF-8 text::

    thidua-audit-checkpoint 1
    number 42
    kind delta
    written 2026-05-04T08:15:00.123456Z
    previous <signature of checkpoint 41, or ->
    chains 2
    processes.nomination:17 12 <hash of entry #12>
    processes.nomination:18 3 <hash of entry #3>
    signature <HMAC-SHA256 of everything above, with the audit key>

The writer refuses to record a head that went backwards, that vanished, or whose checkpointed entry
changed: the checkpoint keeps what it had, so a tampered chain is never laundered into a newer one.
"""

from __future__ import annotations

import gzip
import hmac
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from workflow.audit import audit_key
from workflow.models import AuditChain, AuditEntry

logger = logging.getLogger(__name__)

MAGIC = b"thidua-audit-checkpoint 1\n"
FULL, DELTA = "full", "delta"
_FILE_NAME = re.compile(r"^checkpoint-(\d{9})-(full|delta)\.gz$")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_HEADER = ("number", "kind", "written", "previous", "chains")


class CheckpointError(Exception):
    """The checkpoints on disk do not verify: a new one is not built on them."""


class _Vanished(Exception):
    """A file listed a moment ago was deleted since (by the writer's retention)."""


@dataclass(frozen=True)
class CheckpointProblem:
    file: str
    reason: str

    def __str__(self) -> str:
        return f"audit checkpoint {self.file}: {self.reason}"


@dataclass(frozen=True)
class CheckpointFile:
    number: int
    kind: str
    path: Path


@dataclass
class Checkpoint:
    """Every head as of the latest checkpoint (the latest full and the deltas after it)."""

    number: int
    written_at: datetime
    signature: str
    full_number: int
    full_written_at: datetime
    heads: dict[str, tuple[int, str]] = field(repr=False)

    def __str__(self) -> str:
        return f"checkpoint #{self.number} ({self.written_at:%Y-%m-%d %H:%M} UTC)"


@dataclass(frozen=True)
class _Read:
    number: int
    kind: str
    written_at: datetime
    previous: str
    signature: str
    chains: dict[str, tuple[int, str]]


def _directory() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def _sign(body: bytes) -> str:
    return hmac.digest(audit_key(), body, "sha256").hex()


def checkpoint_files(directory: Path | None = None) -> list[CheckpointFile]:
    directory = directory or _directory()
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _FILE_NAME.match(path.name)
        if match:
            found.append(CheckpointFile(number=int(match[1]), kind=match[2], path=path))
    return sorted(found, key=lambda file: file.number)


def _read(file: CheckpointFile) -> _Read:
    """The file's content once its signature checks; ``CheckpointError`` with the reason otherwise."""
    try:
        raw = gzip.decompress(file.path.read_bytes())
    except FileNotFoundError as exc:
        raise _Vanished from exc
    except (OSError, EOFError) as exc:
        raise CheckpointError(f"cannot be read ({exc})") from exc
    body, _newline, last = raw.rstrip(b"\n").rpartition(b"\n")
    body += b"\n"
    if not raw.startswith(MAGIC) or not last.startswith(b"signature "):
        raise CheckpointError("is not a whole checkpoint file (truncated or damaged)")
    signature = _sign(body)
    if not hmac.compare_digest(signature.encode(), last.removeprefix(b"signature ")):
        raise CheckpointError("its signature does not match (altered, or signed with another key)")
    try:  # signed, so written by us (or by a holder of the key)
        lines = body[len(MAGIC) :].decode().splitlines()
        header = dict(line.split(" ", 1) for line in lines[: len(_HEADER)])
        chains = {}
        for line in lines[len(_HEADER) :]:
            subject, seq, hash_ = line.split(" ")
            chains[subject] = (int(seq), hash_)
        read = _Read(
            number=int(header["number"]),
            kind=header["kind"],
            written_at=datetime.strptime(header["written"], _TIME_FORMAT).replace(tzinfo=UTC),
            previous=header["previous"],
            signature=signature,
            chains=chains,
        )
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"cannot be parsed ({exc})") from exc
    if tuple(header) != _HEADER:
        raise CheckpointError("its header is not a checkpoint's")
    if (read.number, read.kind) != (file.number, file.kind) or len(chains) != int(header["chains"]):
        raise CheckpointError("its name or count does not match its signed content (renamed)")
    return read


def checkpoint_load(
    directory: Path | None = None, *, every_file: bool = False
) -> tuple[Checkpoint | None, list[CheckpointProblem]]:
    """The heads in force (the latest full and the deltas after it), and what is wrong with the files.

    Each file's signature is checked, and that it links to the one before it (the file before the
    latest full too). ``every_file`` checks every kept file, not only those. Reading stops at the
    first problem: the heads are then those of the files before it, if they include a full.
    """
    attempts = 3
    for attempt in range(1, attempts + 1):
        files = checkpoint_files(directory)
        try:
            return _load(files, every_file=every_file)
        except _Vanished as exc:  # a writer wrote a full and pruned what was listed: list again
            if attempt == attempts:
                return None, [CheckpointProblem(files[-1].path.name, f"files vanish while read ({exc.__cause__})")]
    raise AssertionError("unreachable")


def _load(files: list[CheckpointFile], *, every_file: bool) -> tuple[Checkpoint | None, list[CheckpointProblem]]:
    fulls = [index for index, file in enumerate(files) if file.kind == FULL]
    if not files:
        return None, []
    if not fulls:
        return None, [CheckpointProblem(files[-1].path.name, "no full checkpoint is kept before it")]
    latest_full = fulls[-1]
    checkpoint: Checkpoint | None = None
    previous: _Read | None = None
    start = 0 if every_file else max(latest_full - 1, 0)
    for index in range(start, len(files)):
        file = files[index]
        try:
            read = _read(file)
            if previous is not None and read.number != previous.number + 1:
                raise CheckpointError(f"checkpoint #{previous.number + 1} before it is missing")
            if previous is not None and read.previous != previous.signature:
                raise CheckpointError(f"does not link to checkpoint #{previous.number} (replaced)")
        except CheckpointError as exc:
            return checkpoint, [CheckpointProblem(file.path.name, str(exc))]
        if index == latest_full:
            checkpoint = Checkpoint(
                number=read.number,
                written_at=read.written_at,
                signature=read.signature,
                full_number=read.number,
                full_written_at=read.written_at,
                heads=read.chains,
            )
        elif index > latest_full:
            checkpoint.heads.update(read.chains)
            checkpoint.number, checkpoint.written_at, checkpoint.signature = (
                read.number,
                read.written_at,
                read.signature,
            )
        previous = read
    return checkpoint, []


def _database_heads() -> dict[str, tuple[int, str, int]]:
    """Every chain's head as (last sequence, last hash, chain id), by subject; one statement."""
    rows = AuditChain.objects.filter(last_seq__gt=0).values_list(
        "pk", "content_type_id", "object_id", "last_seq", "last_hash"
    )
    heads = {}
    for pk, content_type_id, object_id, last_seq, last_hash in rows.iterator(chunk_size=5000):
        content_type = ContentType.objects.get_for_id(content_type_id)
        heads[f"{content_type.app_label}.{content_type.model}:{object_id}"] = (last_seq, last_hash, pk)
    return heads


def _rewritten(candidates: dict[str, tuple[int, int, str]]) -> set[str]:
    """Of ``{subject: (chain id, checkpointed seq, checkpointed hash)}``, those whose entry changed."""
    rewritten = set()
    items = list(candidates.items())
    for start in range(0, len(items), 300):
        batch = dict(items[start : start + 300])
        query = Q()
        for chain_id, seq, _hash in batch.values():
            query |= Q(chain_id=chain_id, seq=seq)
        stored = {
            (chain_id, seq): hash_
            for chain_id, seq, hash_ in AuditEntry.objects.filter(query).values_list("chain_id", "seq", "hash")
        }
        rewritten.update(
            subject for subject, (chain_id, seq, hash_) in batch.items() if stored.get((chain_id, seq)) != hash_
        )
    return rewritten


def _write(directory: Path, name: str, content: bytes) -> bool:
    """Create ``name`` whole or not at all; False if another writer made it first."""
    final = directory / name
    temporary = directory / f".{name}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, final)  # fails if the name exists: one checkpoint per number
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def _prune(directory: Path, *, keep_from: int, now: datetime) -> None:
    cutoff = (now - timedelta(days=settings.AUDIT_CHECKPOINT_RETENTION_DAYS)).timestamp()
    for file in checkpoint_files(directory):
        if file.number < keep_from and file.path.stat().st_mtime < cutoff:
            file.path.unlink(missing_ok=True)


def audit_checkpoint_write(*, full: bool = False) -> tuple[CheckpointFile, int] | None:
    """Write the next checkpoint if a head moved (or ``full``); return it and its number of chains.

    Raises ``CheckpointError`` when the checkpoints already written do not verify.
    """
    directory = _directory()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    latest, problems = checkpoint_load(directory)
    if problems:
        raise CheckpointError(f"{problems[0]}; run verify_audit, then move the bad checkpoints away")
    pinned = latest.heads if latest is not None else {}
    heads = _database_heads()

    moved: dict[str, tuple[int, str]] = {}
    advanced: dict[str, tuple[int, int, str]] = {}
    for subject, (seq, hash_, chain_id) in heads.items():
        kept = pinned.get(subject)
        if kept is None:
            moved[subject] = (seq, hash_)
        elif seq > kept[0]:
            moved[subject] = (seq, hash_)
            advanced[subject] = (chain_id, *kept)
        elif (seq, hash_) != kept:
            logger.error("Audit chain %s: its head is #%d, the checkpoint keeps #%d", subject, seq, kept[0])
    for subject in _rewritten(advanced):
        logger.error("Audit chain %s: entry #%d changed since the checkpoint", subject, advanced[subject][1])
        del moved[subject]
    for subject in pinned.keys() - heads.keys():
        logger.error("Audit chain %s is gone from the database: the checkpoint keeps it", subject)

    if not moved and not full:
        return None
    now = timezone.now()
    due = latest is None or now - latest.full_written_at >= timedelta(hours=settings.AUDIT_CHECKPOINT_FULL_HOURS)
    kind = FULL if full or due else DELTA
    chains = {**pinned, **moved} if kind == FULL else moved
    number = latest.number + 1 if latest is not None else 1
    previous = latest.signature if latest is not None else "-"

    def order(item):
        label, object_id = item[0].rsplit(":", 1)
        return label, int(object_id)

    lines = [f"{subject} {seq} {hash_}\n" for subject, (seq, hash_) in sorted(chains.items(), key=order)]
    header = (
        f"number {number}\nkind {kind}\nwritten {now.astimezone(UTC).strftime(_TIME_FORMAT)}\n"
        f"previous {previous}\nchains {len(lines)}\n"
    )
    body = MAGIC + header.encode() + "".join(lines).encode()
    content = gzip.compress(body + f"signature {_sign(body)}\n".encode(), compresslevel=6, mtime=0)
    file = CheckpointFile(number=number, kind=kind, path=directory / f"checkpoint-{number:09d}-{kind}.gz")
    if not _write(directory, file.path.name, content):
        logger.info("Audit checkpoint #%d was written by another process meanwhile", number)
        return None
    _prune(directory, keep_from=number if kind == FULL else latest.full_number, now=now)
    return file, len(lines)
