"""Signed checkpoints of the audit chains' heads, written outside the database."""

import gzip
import hmac
import importlib
import os
import stat
import time
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from tests.factories import UserFactory
from tests.workflow.test_audit import chain_of, label, verify
from workflow.checkpoints import MAGIC, _write, audit_checkpoint_write, checkpoint_files, checkpoint_load
from workflow.models import AuditChain
from workflow.tasks import audit_checkpoint


@pytest.fixture
def folder(settings) -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def content(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode()


def rewrite(path: Path, edit, *, key: bytes | None = None) -> None:
    """Change a checkpoint's text with ``edit``; re-sign it with ``key``, or keep its old signature."""
    body, signature_line = content(path).rstrip("\n").rsplit("\n", 1)
    body = edit(body + "\n").encode()
    if key is not None:
        signature_line = "signature " + hmac.digest(key, body, "sha256").hex()
    path.write_bytes(gzip.compress(body + signature_line.encode() + b"\n"))


# --- what is written -------------------------------------------------------------------------------


def test_the_first_checkpoint_is_full_then_only_moved_heads_and_nothing_when_nothing_moved(db, folder):
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    chain_of(first, length=2)
    chain_of(second, length=1)

    written, chains = audit_checkpoint_write()
    assert (written.number, written.kind, chains) == (1, "full", 2)
    assert audit_checkpoint_write() is None  # nothing moved: nothing written
    assert names(folder) == ["checkpoint-000000001-full.gz"]

    chain_of(second, length=2)
    chain_of(third, length=1)
    written, chains = audit_checkpoint_write()

    assert (written.number, written.kind, chains) == (2, "delta", 2)
    lines = content(written.path).splitlines()
    assert lines[:2] == ["thidua-audit-checkpoint 1", "number 2"]
    assert lines[2] == "kind delta"
    assert lines[4] == f"previous {content(folder / 'checkpoint-000000001-full.gz').splitlines()[-1].split()[1]}"
    assert [line.rsplit(" ", 1)[0] for line in lines[6:-1]] == [f"{label(second)} 3", f"{label(third)} 1"]
    checkpoint, problems = checkpoint_load()
    assert problems == []
    assert {subject: seq for subject, (seq, _hash) in checkpoint.heads.items()} == {
        label(first): 2,
        label(second): 3,
        label(third): 1,
    }
    assert checkpoint.heads[label(second)][1] == AuditChain.objects.get(object_id=second.pk).last_hash


def test_a_full_checkpoint_follows_once_the_last_full_is_older_than_the_setting(db, settings):
    subject = UserFactory()
    chain_of(subject, length=1)
    audit_checkpoint_write()
    chain_of(subject, length=1)
    assert audit_checkpoint_write()[0].kind == "delta"

    settings.AUDIT_CHECKPOINT_FULL_HOURS = 0
    chain_of(subject, length=1)
    written, chains = audit_checkpoint_write()

    assert (written.number, written.kind, chains) == (3, "full", 1)
    assert checkpoint_load()[0].full_number == 3


def test_checkpoint_files_are_private_and_written_whole(db, folder):
    chain_of(UserFactory(), length=1)
    written, _chains = audit_checkpoint_write()

    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(written.path.stat().st_mode) == 0o600
    assert names(folder) == [written.path.name]  # no temporary file left behind
    assert not _write(folder, written.path.name, b"another writer")  # a number is taken once
    assert content(written.path).startswith(MAGIC.decode())


def test_a_full_checkpoint_is_compact_and_a_delta_holds_only_what_moved(db):
    # The heads alone matter to the writer: 20,000 chains made in bulk stand for 200,000.
    count = 20_000
    users = UserFactory()
    content_type_id = AuditChain._meta.get_field("content_type").related_model.objects.get_for_model(users).pk
    AuditChain.objects.bulk_create(
        AuditChain(content_type_id=content_type_id, object_id=n, last_seq=30, last_hash=os.urandom(32).hex())
        for n in range(10_000_000, 10_000_000 + count)
    )
    began = time.monotonic()
    full, chains = audit_checkpoint_write()
    elapsed = time.monotonic() - began

    assert chains == count
    assert full.path.stat().st_size / count < 45  # bytes per chain, gzipped: ~9 MB at 200,000
    assert elapsed < 5
    chain_of(users, length=1)
    delta, chains = audit_checkpoint_write()
    assert (delta.kind, chains) == ("delta", 1)
    assert delta.path.stat().st_size < 400


def test_old_checkpoints_are_deleted_but_the_latest_full_and_those_after_it_are_kept(db, settings, folder):
    subject = UserFactory()
    for kind in ["full", "delta", "full", "delta", "delta"]:
        settings.AUDIT_CHECKPOINT_FULL_HOURS = 0 if kind == "full" else 24
        chain_of(subject, length=1)
        assert audit_checkpoint_write()[0].kind == kind
    long_ago = time.time() - 40 * 86400
    for path in folder.iterdir():
        os.utime(path, (long_ago, long_ago))  # all older than the 30 days kept

    chain_of(subject, length=1)
    audit_checkpoint_write()

    assert names(folder) == [
        "checkpoint-000000003-full.gz",
        "checkpoint-000000004-delta.gz",
        "checkpoint-000000005-delta.gz",
        "checkpoint-000000006-delta.gz",
    ]
    checkpoint, problems = checkpoint_load()
    assert problems == []
    assert checkpoint.heads[label(subject)][0] == 6


def test_a_reader_lists_again_when_the_writer_prunes_what_it_had_listed(db, settings, folder, monkeypatch):
    from workflow import checkpoints

    subject = UserFactory()
    for _ in range(2):
        chain_of(subject, length=1)
        audit_checkpoint_write()
    listed = checkpoints.checkpoint_files()  # the reader lists #1 and #2 ...
    settings.AUDIT_CHECKPOINT_RETENTION_DAYS = 0
    settings.AUDIT_CHECKPOINT_FULL_HOURS = 0
    chain_of(subject, length=1)
    audit_checkpoint_write()  # ... then a writer adds the full #3 and prunes #1 and #2
    assert names(folder) == ["checkpoint-000000003-full.gz"]
    original, stale = checkpoints.checkpoint_files, [listed]
    monkeypatch.setattr(
        checkpoints, "checkpoint_files", lambda directory=None: stale.pop() if stale else original(directory)
    )

    checkpoint, problems = checkpoint_load()

    assert problems == []
    assert (checkpoint.number, checkpoint.heads[label(subject)][0]) == (3, 3)


def test_recent_checkpoints_are_kept_whatever_their_number(db, settings, folder):
    subject = UserFactory()
    settings.AUDIT_CHECKPOINT_FULL_HOURS = 0
    for _ in range(3):
        chain_of(subject, length=1)
        audit_checkpoint_write()

    assert len(names(folder)) == 3


# --- what verify_audit checks ---------------------------------------------------------------------


def test_verify_says_which_checkpoint_it_compared_with_or_that_there_is_none_yet(db, folder):
    chain_of(UserFactory(), length=2)

    code, output = verify()
    assert code == 0
    assert f"No audit checkpoint in {folder} yet" in output

    audit_checkpoint_write()
    code, output = verify()
    assert code == 0
    assert "Compared with audit checkpoint #1 (" in output
    assert "All audit chains verify." in output


@pytest.mark.parametrize("key", [None, b"the insider's own key, not the audit key"], ids=["kept", "own-key"])
def test_a_checkpoint_altered_without_the_key_is_reported_and_not_built_upon(db, folder, key):
    subject = UserFactory()
    chain_of(subject, length=3)
    audit_checkpoint_write()
    stored = AuditChain.objects.get()
    # The insider who rolled the chain back to #2 edits the checkpoint to match, keeping its signature
    # or signing with a key of their own.
    rewrite(
        folder / "checkpoint-000000001-full.gz",
        lambda text: text.replace(f"{label(subject)} 3 {stored.last_hash}", f"{label(subject)} 2 {stored.last_hash}"),
        key=key,
    )

    code, output = verify()

    assert code == 1
    assert "audit checkpoint checkpoint-000000001-full.gz: its signature does not match" in output
    assert "The audit checkpoints do not verify." in output
    chain_of(subject, length=1)
    with pytest.raises(CommandError, match=r"No audit checkpoint written: .*signature does not match"):
        call_command("audit_checkpoint")
    assert names(folder) == ["checkpoint-000000001-full.gz"]


def test_a_checkpoint_removed_between_two_is_reported(db, folder):
    subject = UserFactory()
    for _ in range(3):
        chain_of(subject, length=1)
        audit_checkpoint_write()
    (folder / "checkpoint-000000002-delta.gz").unlink()

    code, output = verify()

    assert code == 1
    assert "checkpoint-000000003-delta.gz: checkpoint #2 before it is missing" in output


def test_a_checkpoint_replaced_by_another_signed_one_breaks_the_link_from_the_next(db, folder, settings):
    # Even with the key, replacing one checkpoint shows in the next, which names the one it followed.
    subject = UserFactory()
    for _ in range(3):
        chain_of(subject, length=1)
        audit_checkpoint_write()
    rewrite(
        folder / "checkpoint-000000002-delta.gz",
        lambda text: text.replace(f"{label(subject)} 2 ", f"{label(subject)} 1 "),
        key=settings.AUDIT_KEY.encode(),
    )

    code, output = verify()

    assert code == 1
    assert "checkpoint-000000003-delta.gz: does not link to checkpoint #2 (replaced)" in output


def test_a_renamed_checkpoint_is_reported(db, folder):
    subject = UserFactory()
    chain_of(subject, length=1)
    audit_checkpoint_write()
    chain_of(subject, length=1)
    audit_checkpoint_write()
    (folder / "checkpoint-000000002-delta.gz").rename(folder / "checkpoint-000000002-full.gz")

    code, output = verify()

    assert code == 1
    assert "checkpoint-000000002-full.gz: its name or count does not match its signed content" in output


def test_files_before_the_latest_full_are_checked_on_request(db, settings, folder):
    subject = UserFactory()
    settings.AUDIT_CHECKPOINT_FULL_HOURS = 0
    for _ in range(3):
        chain_of(subject, length=1)
        audit_checkpoint_write()
    (folder / "checkpoint-000000001-full.gz").write_bytes(b"damaged")

    assert verify()[0] == 0  # the heads in force come from #3; #2 is read for #3's link
    code, output = verify_every_checkpoint()
    assert code == 1
    assert "checkpoint-000000001-full.gz: cannot be read" in output


def verify_every_checkpoint() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_audit", "--every-checkpoint", stdout=out, stderr=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


# --- beat, the task and the command -----------------------------------------------------------------


def test_the_data_migration_makes_one_beat_row_running_the_checkpoint_every_five_minutes(db, settings):
    # Postgres tests empty the tables between tests, so the migration's function is run again here.
    migration = importlib.import_module("workflow.migrations.0011_beat_audit_checkpoint")
    PeriodicTask.objects.filter(task="workflow.audit_checkpoint").delete()
    migration.create(apps, None)
    migration.create(apps, None)
    row = PeriodicTask.objects.get(task="workflow.audit_checkpoint")
    assert (row.enabled, row.interval.every, row.interval.period) == (True, 5, "minutes")
    assert settings.CELERY_BEAT_SCHEDULE == {}


def test_the_task_writes_a_checkpoint_when_a_head_moved_and_is_safe_to_run_twice(db):
    subject = UserFactory()
    chain_of(subject, length=2)

    assert audit_checkpoint.apply().get() == 1
    assert audit_checkpoint.apply().get() is None
    chain_of(subject, length=1)
    assert audit_checkpoint.apply().get() == 2
    assert [file.kind for file in checkpoint_files()] == ["full", "delta"]


def test_the_command_writes_a_checkpoint_and_says_so(db, folder):
    chain_of(UserFactory(), length=1)
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    assert f"Wrote audit checkpoint #1 (full, 1 chains) to {folder / 'checkpoint-000000001-full.gz'}." in (
        out.getvalue()
    )

    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    assert "No audit chain moved since checkpoint #1: nothing written." in out.getvalue()

    out = StringIO()
    call_command("audit_checkpoint", "--full", stdout=out)
    assert "Wrote audit checkpoint #2 (full, 1 chains)" in out.getvalue()
