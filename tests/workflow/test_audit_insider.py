"""The audit log against an insider who can write the database (but holds neither the audit key nor
the checkpoint folder): each forgery below is done as that insider would, in SQL, and must be
reported by ``verify_audit``."""

import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction

from processes import services
from processes.chains import NominationSubject
from processes.models import Nomination, Stage
from tests.factories import NomineeFactory, UserFactory
from tests.workflow.test_audit import _run_threads, as_table_owner, chain_of, entry_at, label, verify
from workflow.audit import GENESIS_HASH, audit_append, audit_entries_for, audit_verify, canonical_entry
from workflow.checkpoints import audit_checkpoint_write, checkpoint_load
from workflow.models import AuditChain

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def subject(db):
    return UserFactory()


def plain_sha256(message: bytes) -> str:
    return hashlib.sha256(message).hexdigest()


def hmac_with(key: bytes):
    return lambda message: hmac.digest(key, message, "sha256").hex()


def rewrite_from(subject, seq: int, *, digest, **changes) -> None:
    """Edit entry ``seq`` with ``changes``, recompute it and every later entry with ``digest``, move
    the head to the new last hash: all in SQL, as someone with write access to the database would."""
    entries = list(audit_entries_for(subject))
    prev = entries[seq - 2].hash if seq > 1 else GENESIS_HASH
    with as_table_owner(), connection.cursor() as cursor:
        for entry in entries[seq - 1 :]:
            if entry.seq == seq:
                for name, value in changes.items():
                    setattr(entry, name, value)
            entry.prev_hash = prev
            entry.hash = digest(canonical_entry(entry, subject=label(subject)))
            cursor.execute(
                "UPDATE workflow_auditentry SET comment = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [entry.comment, entry.prev_hash, entry.hash, entry.pk],
            )
            prev = entry.hash
        cursor.execute("UPDATE workflow_auditchain SET last_hash = %s WHERE id = %s", [prev, entries[0].chain_id])


def roll_back_to(subject, seq: int) -> None:
    """Delete the entries after ``seq`` and move the head back to ``seq``: a chain that verifies."""
    kept = entry_at(subject, seq) if seq else None
    chain_id = AuditChain.objects.get(object_id=subject.pk, content_type__model=subject._meta.model_name).pk
    with as_table_owner(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM workflow_auditentry WHERE chain_id = %s AND seq > %s", [chain_id, seq])
        cursor.execute(
            "UPDATE workflow_auditchain SET last_seq = %s, last_hash = %s WHERE id = %s",
            [seq, kept.hash if kept else "", chain_id],
        )


def delete_chain(subject) -> None:
    chain_id = AuditChain.objects.get(object_id=subject.pk, content_type__model=subject._meta.model_name).pk
    with as_table_owner(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM workflow_auditentry WHERE chain_id = %s", [chain_id])
        cursor.execute("DELETE FROM workflow_auditchain WHERE id = %s", [chain_id])


@pytest.fixture
def cultivated(org):
    """A nomination made through the services: #1 created (discover), #2 cultivation started."""
    nomination = services.nomination_create(
        by=org.hospital_secretary,
        campaign=org.campaign,
        award_form=org.city_form,
        nominee=NomineeFactory(unit=org.hospital),
    )
    return services.nomination_start_cultivation(nomination=nomination, by=org.hospital_head)


# --- 1. an edited entry, every later hash and the head recomputed -----------------------------------


@pytest.mark.parametrize(
    "digest",
    [plain_sha256, hmac_with(b"a guess at the key, which is not in the database")],
    ids=["plain-sha256", "wrong-key"],
)
def test_an_edit_with_every_later_hash_and_the_head_recomputed_is_caught(subject, digest):
    chain_of(subject, length=5)
    rewrite_from(subject, 2, digest=digest, comment="đã duyệt đúng hạn")

    code, output = verify()

    assert code == 1
    assert f"{label(subject)} at #2: content does not match its hash (edited)" in output


def test_the_forged_chain_links_perfectly_so_only_the_key_tells(subject):
    # The control for the test above: the forged rows form a sound chain and the head agrees, as the
    # unkeyed log of before accepted them; only recomputing with the key shows the edit.
    chain_of(subject, length=3)
    rewrite_from(subject, 2, digest=plain_sha256, comment="sửa")

    entries = list(audit_entries_for(subject))
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash
    assert AuditChain.objects.get().last_hash == entries[2].hash
    assert entries[1].hash == plain_sha256(canonical_entry(entries[1], subject=label(subject)))
    assert [str(link) for link in audit_verify()] == [
        f"{label(subject)} at #2: content does not match its hash (edited)"
    ]


def test_a_key_holder_rewriting_history_before_the_last_checkpoint_is_caught(subject, settings):
    # Whoever holds both the database and the key can re-sign anything; the checkpoint written
    # outside the database still remembers which entry #5 was.
    chain_of(subject, length=5)
    audit_checkpoint_write()
    rewrite_from(subject, 2, digest=hmac_with(settings.AUDIT_KEY.encode()), comment="sửa")

    code, output = verify()

    assert code == 1
    assert f"{label(subject)} at #5: is not the entry checkpoint #1" in output
    assert "(history rewritten)" in output


# --- 2. the newest entries deleted and the head rolled back ---------------------------------------


def test_newest_entries_deleted_with_the_head_rolled_back_are_caught_by_the_checkpoint(subject):
    chain_of(subject, length=5)
    written, _chains = audit_checkpoint_write()
    roll_back_to(subject, 3)
    assert list(audit_verify()) == []  # the database alone cannot tell: what is left is a sound chain

    code, output = verify()

    assert code == 1
    assert f"{label(subject)} at #4: checkpoint #{written.number} (" in output
    assert "recorded 5 entries, 3 remain (newest removed and the head rolled back)" in output


def test_a_nomination_rolled_back_before_any_checkpoint_is_caught_by_its_stage(cultivated):
    roll_back_to(cultivated, 1)  # "cultivation started" gone: the chain now ends in discover

    code, output = verify()

    assert code == 1
    assert (
        f"processes.nomination:{cultivated.pk} at #1: the subject is in state “cultivate”, "
        "its chain's last state is “discover” (changed without an entry)"
    ) in output


def test_a_head_rolled_back_is_not_recorded_by_the_next_checkpoint(subject):
    chain_of(subject, length=4)
    audit_checkpoint_write()
    roll_back_to(subject, 2)
    chain_of(UserFactory(), length=1)  # something else moves, so a new checkpoint is written

    written, _chains = audit_checkpoint_write(full=True)

    checkpoint, problems = checkpoint_load()
    assert (problems, checkpoint.number, written.kind) == ([], 2, "full")
    assert checkpoint.heads[label(subject)][0] == 4  # the rollback was not laundered
    assert f"{label(subject)} at #3" in verify()[1]


def test_history_rewritten_then_extended_is_not_recorded_by_the_next_checkpoint(subject, settings):
    chain_of(subject, length=3)
    audit_checkpoint_write()
    pinned = entry_at(subject, 3).hash
    rewrite_from(subject, 1, digest=hmac_with(settings.AUDIT_KEY.encode()), comment="sửa")
    chain_of(subject, length=1)  # a genuine append on top of the rewritten chain

    assert audit_checkpoint_write() is None  # the only head that moved is refused

    checkpoint, _problems = checkpoint_load()
    assert checkpoint.heads[label(subject)] == (3, pinned)
    assert f"{label(subject)} at #3: is not the entry checkpoint #1" in verify()[1]


# --- 3. a whole chain deleted ----------------------------------------------------------------------


def test_a_chain_deleted_whole_is_caught_by_the_checkpoint(subject):
    chain_of(subject, length=3)
    other = UserFactory()
    chain_of(other, length=2)
    audit_checkpoint_write()
    delete_chain(subject)
    assert list(audit_verify()) == []  # the database alone cannot tell

    code, output = verify()

    assert code == 1
    assert f"{label(subject)} at #1: the chain is gone; checkpoint #1 (" in output
    assert "recorded 3 entries" in output
    assert label(other) not in output
    assert "move the checkpoints in" in output  # the hint for a database replaced on purpose


def test_a_nomination_whose_chain_is_deleted_whole_is_caught_by_its_stage(cultivated):
    delete_chain(cultivated)

    code, output = verify()

    assert code == 1
    assert (
        f"processes.nomination:{cultivated.pk} at #1: the subject is in state “cultivate” but has no audit chain"
    ) in output


def test_a_chain_whose_nomination_is_deleted_is_reported(cultivated):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM processes_nomination WHERE id = %s", [cultivated.pk])

    code, output = verify()

    assert code == 1
    assert f"processes.nomination:{cultivated.pk} at #2: the chain's subject no longer exists" in output


# --- 4. a stage changed without an entry ------------------------------------------------------------


def test_a_stage_changed_without_an_entry_is_caught(cultivated, org):
    untouched = services.nomination_create(
        by=org.hospital_secretary,
        campaign=org.campaign,
        award_form=org.city_form,
        nominee=NomineeFactory(unit=org.hospital),
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE processes_nomination SET stage = %s WHERE id = %s", [Stage.REPLICATE, cultivated.pk])

    code, output = verify()

    assert code == 1
    assert (
        f"processes.nomination:{cultivated.pk} at #2: the subject is in state “replicate”, "
        "its chain's last state is “cultivate” (changed without an entry)"
    ) in output
    assert f"processes.nomination:{untouched.pk}" not in output
    assert "1 audit chain(s) broken." in output


def test_states_follow_the_newest_entry_that_names_one(cultivated):
    # Entries without a state (a step opened, a file uploaded) say nothing about the stage.
    audit_append(subject=cultivated, actor=None, action="tests.note", data={"why": "no state"})

    code, output = verify()

    assert code == 0, output
    assert "All audit chains verify." in output


def test_the_domain_adapter_gives_every_nomination_stage_in_bulk(cultivated, org):
    other = services.nomination_create(
        by=org.hospital_secretary,
        campaign=org.campaign,
        award_form=org.city_form,
        nominee=NomineeFactory(unit=org.hospital),
    )

    model, states = NominationSubject().audit_states()
    assert model is Nomination
    assert states == {cultivated.pk: Stage.CULTIVATE, other.pk: Stage.DISCOVER}
    assert NominationSubject().audit_states(ids=[other.pk]) == (Nomination, {other.pk: Stage.DISCOVER})


@pytest.mark.postgres
def test_stage_changes_committing_during_the_check_raise_no_false_alarm(org):
    # A legitimate writer changes the stage and appends its entry in one transaction; the check reads
    # the states in another snapshot than the entries, so it must confirm a mismatch before reporting.
    nominations = [
        services.nomination_create(
            by=org.hospital_secretary,
            campaign=org.campaign,
            award_form=org.city_form,
            nominee=NomineeFactory(unit=org.hospital),
        )
        for _ in range(3)
    ]
    stop = threading.Event()
    flips = [0]

    def write(index):
        nomination, states = nominations[index], [Stage.CULTIVATE, Stage.DISCOVER]
        while not stop.is_set():
            with transaction.atomic():
                new = states[flips[0] % 2]
                Nomination.objects.filter(pk=nomination.pk).update(stage=new)
                audit_append(subject=nomination, actor=None, action="tests.flip", from_state="", to_state=new)
            flips[0] += 1

    false_alarms: list[str] = []

    def check(index):
        try:
            for _ in range(40):
                false_alarms.extend(str(link) for link in audit_verify(subjects=NominationSubject()))
        finally:
            stop.set()

    errors = _run_threads(lambda index: check(index) if index == len(nominations) else write(index), 4)

    assert errors == []
    assert flips[0] > 40  # the writers really did run during the checks
    assert false_alarms == []


# --- PostgreSQL refuses the edits itself ----------------------------------------------------------


def _refused(sql: str, params: list) -> str:
    with pytest.raises(IntegrityError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(refused.value)


@pytest.mark.postgres
def test_postgresql_refuses_to_update_or_delete_entries_and_to_move_heads_back():
    subject = UserFactory()
    chain_of(subject, length=3)
    chain = AuditChain.objects.get()
    second = entry_at(subject, 2)

    assert "append-only: UPDATE refused" in _refused(
        "UPDATE workflow_auditentry SET comment = 'sửa' WHERE id = %s", [second.pk]
    )
    assert "append-only: DELETE refused" in _refused("DELETE FROM workflow_auditentry WHERE id = %s", [second.pk])
    assert "cannot be deleted" in _refused("DELETE FROM workflow_auditchain WHERE id = %s", [chain.pk])
    assert "only move forward" in _refused(
        "UPDATE workflow_auditchain SET last_seq = 2, last_hash = %s WHERE id = %s", [second.hash, chain.pk]
    )
    assert "only move forward" in _refused(
        "UPDATE workflow_auditchain SET last_hash = %s WHERE id = %s", [second.hash, chain.pk]
    )
    assert "only move forward" in _refused(
        "UPDATE workflow_auditchain SET object_id = object_id + 1 WHERE id = %s", [chain.pk]
    )

    chain_of(subject, length=1)  # appending, which moves the head forward, still works
    assert AuditChain.objects.get().last_seq == 4
    with as_table_owner(), connection.cursor() as cursor:  # the owner can: what the checkpoints are for
        cursor.execute("DELETE FROM workflow_auditentry WHERE id = %s", [entry_at(subject, 4).pk])
    assert [entry.seq for entry in audit_entries_for(subject)] == [1, 2, 3]
    assert verify()[0] == 1


# --- the key ---------------------------------------------------------------------------------------


def _audit_key_in_fresh_process(var_dir: Path, **env) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"THIDUA_AUDIT_KEY", "DJANGO_SECRET_KEY"}}
    clean.update({"THIDUA_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings", **env})
    script = (
        "import json, django; django.setup(); from django.conf import settings;"
        "print(json.dumps([settings.AUDIT_KEY, settings.SECRET_KEY]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True, check=True
    )
    key, secret = json.loads(result.stdout)
    assert key != secret
    return key


def test_the_embedded_run_keeps_its_audit_key_in_a_private_file_and_the_environment_overrides_it(tmp_path):
    key = _audit_key_in_fresh_process(tmp_path)

    assert len(key) >= 50
    assert (tmp_path / "audit_key").read_text().strip() == key
    assert stat.S_IMODE((tmp_path / "audit_key").stat().st_mode) == 0o600
    assert _audit_key_in_fresh_process(tmp_path) == key  # stable between starts
    assert _audit_key_in_fresh_process(tmp_path, THIDUA_AUDIT_KEY="k" * 40) == "k" * 40


def test_a_short_audit_key_is_refused(subject, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.AUDIT_KEY = "short"
    with pytest.raises(ImproperlyConfigured, match="at least 32 characters"):
        chain_of(subject, length=1)
