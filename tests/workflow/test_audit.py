"""The audit log: a hash chain per subject that ``verify_audit`` checks end to end."""

import itertools
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import OperationalError, connection, transaction

from tests.factories import UserFactory, make_nomination
from workflow.audit import GENESIS_HASH, audit_append, audit_entries_for, audit_verify, entry_hash
from workflow.models import AuditChain, AuditEntry


def label(subject) -> str:
    content_type = ContentType.objects.get_for_model(subject)
    return f"{content_type.app_label}.{content_type.model}:{subject.pk}"


def chain_of(subject, *, length: int, actor=None) -> list[AuditEntry]:
    return [
        audit_append(
            subject=subject,
            actor=actor,
            action=f"tests.step_{n}",
            from_state=f"s{n - 1}",
            to_state=f"s{n}",
            comment=f"bước {n}",
            data={"n": n},
        )
        for n in range(1, length + 1)
    ]


def verify() -> tuple[int, str]:
    """Run ``manage.py verify_audit``; return its exit code and everything it wrote."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def entry_at(subject, seq: int) -> AuditEntry:
    return audit_entries_for(subject).get(seq=seq)


@contextmanager
def as_table_owner():
    """Write the audit log as only its tables' owner (or a superuser) can on PostgreSQL: with the
    triggers that refuse updates and deletes disabled. SQLite has no such triggers."""
    if connection.vendor != "postgresql":
        yield
        return
    triggers = [
        ("workflow_auditentry", "workflow_auditentry_append_only"),
        ("workflow_auditchain", "workflow_auditchain_forward_only"),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses while foreign key checks wait
        for table, trigger in triggers:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, trigger in triggers:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def subject(db):
    return UserFactory()


@pytest.fixture
def actor(db):
    return UserFactory(username="actor")


# --- the chain as written -------------------------------------------------------------------------


def test_appends_form_a_contiguous_chain_whose_hashes_recompute(subject, actor):
    chain_of(subject, length=5, actor=actor)

    entries = list(audit_entries_for(subject))  # re-read: the hash must survive the round trip
    assert [entry.seq for entry in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    for entry in entries:
        assert entry_hash(entry, subject=label(subject)) == entry.hash
        assert entry.actor == actor
    head = AuditChain.objects.get()
    assert (head.last_seq, head.last_hash) == (5, entries[-1].hash)


def test_each_subject_has_its_own_chain(subject):
    other = UserFactory()
    chain_of(subject, length=2)
    chain_of(other, length=3)

    assert [entry.seq for entry in audit_entries_for(subject)] == [1, 2]
    assert [entry.seq for entry in audit_entries_for(other)] == [1, 2, 3]
    assert audit_entries_for(other).first().prev_hash == GENESIS_HASH


def test_details_that_the_database_renumbers_still_verify(subject):
    # PostgreSQL's jsonb returns 1e16 as an integer and -0.0 as 0.0; keys come back as strings.
    audit_append(subject=subject, actor=None, action="tests.numbers", data={"big": 1e16, "zero": -0.0, 7: (1, 2.0)})

    assert list(audit_verify()) == []


# --- verify_audit -------------------------------------------------------------------------------


def test_verify_passes_on_a_clean_log(subject):
    chain_of(subject, length=4)
    chain_of(UserFactory(), length=2)

    code, output = verify()

    assert code == 0
    assert "All audit chains verify." in output


def test_verify_names_a_nomination_chain_by_its_subject(org):
    nomination = make_nomination(org)
    chain_of(nomination, length=3)
    with as_table_owner():
        AuditEntry.objects.filter(chain__object_id=nomination.pk, seq=2).update(comment="sửa lén")

    code, output = verify()

    assert code == 1
    assert f"processes.nomination:{nomination.pk} at #2" in output


def _edit_comment_by_queryset(entry, other_user):
    AuditEntry.objects.filter(pk=entry.pk).update(comment="không có gì")


def _edit_action_by_sql(entry, other_user):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE workflow_auditentry SET action = %s WHERE id = %s", ["tests.forged", entry.pk])


def _edit_actor(entry, other_user):
    AuditEntry.objects.filter(pk=entry.pk).update(actor=other_user)


def _edit_created_at(entry, other_user):
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=entry.created_at + timedelta(microseconds=1))


def _edit_states(entry, other_user):
    AuditEntry.objects.filter(pk=entry.pk).update(to_state="closed")


@pytest.mark.parametrize(
    "edit",
    [_edit_comment_by_queryset, _edit_action_by_sql, _edit_actor, _edit_created_at, _edit_states],
    ids=["comment", "action-raw-sql", "actor", "created_at", "to_state"],
)
def test_verify_fails_on_an_edited_row(subject, actor, edit):
    chain_of(subject, length=5, actor=actor)
    with as_table_owner():
        edit(entry_at(subject, 3), UserFactory())

    code, output = verify()

    assert code == 1
    assert f"{label(subject)} at #3: content does not match its hash (edited)" in output


def test_verify_fails_when_a_middle_row_is_deleted_by_sql(subject):
    chain_of(subject, length=5)
    with as_table_owner(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM workflow_auditentry WHERE id = %s", [entry_at(subject, 3).pk])

    code, output = verify()

    assert code == 1
    assert f"{label(subject)} at #3: entry #3 is missing" in output


def test_verify_fails_when_a_middle_row_is_deleted_by_queryset(subject):
    chain_of(subject, length=5)
    with as_table_owner():
        AuditEntry.objects.filter(pk=entry_at(subject, 2).pk).delete()

    code, output = verify()

    assert code == 1
    assert f"{label(subject)} at #2" in output


def test_verify_fails_when_the_newest_row_is_deleted(subject):
    # The rows left form a perfect chain of four: only the head knows there were five.
    chain_of(subject, length=5)
    with as_table_owner():
        AuditEntry.objects.filter(pk=entry_at(subject, 5).pk).delete()

    code, output = verify()

    assert code == 1
    assert f"{label(subject)} at #5: the chain head records 5 entries, 4 remain (newest removed)" in output


def test_verify_fails_when_every_row_of_a_chain_is_deleted(subject):
    chain_of(subject, length=3)
    with as_table_owner():
        AuditEntry.objects.all().delete()

    code, output = verify()

    assert code == 1
    assert f"{label(subject)} at #1: the chain head records 3 entries, 0 remain" in output


def test_verify_fails_when_the_newest_row_is_rewritten_with_a_fresh_hash(subject):
    # Whoever recomputes the newest hash still cannot make it match the one the head stored.
    chain_of(subject, length=3)
    newest = entry_at(subject, 3)
    newest.comment = "đã duyệt"
    with as_table_owner():
        AuditEntry.objects.filter(pk=newest.pk).update(
            comment=newest.comment, hash=entry_hash(newest, subject=label(subject))
        )

    code, output = verify()

    assert code == 1
    assert f"{label(subject)} at #3: the newest entry is not the one the chain head records" in output


def test_verify_fails_on_a_well_formed_row_appended_behind_the_heads_back(subject):
    chain_of(subject, length=2)
    last = entry_at(subject, 2)
    forged = AuditEntry(
        chain=last.chain,
        seq=3,
        action="tests.forged",
        created_at=last.created_at,
        prev_hash=last.hash,
    )
    forged.hash = entry_hash(forged, subject=label(subject))
    forged.save(force_insert=True)

    code, output = verify()

    assert code == 1
    assert f"{label(subject)} at #3: the chain head records 2 entries, 3 exist" in output


def test_verify_fails_when_two_rows_swap_sequence_numbers(subject):
    chain_of(subject, length=5)
    second, third = entry_at(subject, 2), entry_at(subject, 3)
    with as_table_owner():
        AuditEntry.objects.filter(pk=second.pk).update(seq=1000)  # (chain, seq) is unique
        AuditEntry.objects.filter(pk=third.pk).update(seq=2)
        AuditEntry.objects.filter(pk=second.pk).update(seq=3)

    code, output = verify()

    assert code == 1
    assert f"{label(subject)} at #2: does not link to the entry before it" in output


def test_verify_fails_when_two_rows_swap_contents(subject):
    chain_of(subject, length=5)
    second, third = entry_at(subject, 2), entry_at(subject, 3)
    with as_table_owner():
        for target, source in [(second, third), (third, second)]:
            AuditEntry.objects.filter(pk=target.pk).update(
                action=source.action,
                from_state=source.from_state,
                to_state=source.to_state,
                comment=source.comment,
                data=source.data,
            )

    code, output = verify()

    assert code == 1
    assert f"{label(subject)} at #2: content does not match its hash" in output


def test_verify_reports_each_broken_chain_and_no_clean_one(subject):
    subjects = [subject, *(UserFactory() for _ in range(3))]
    for each in subjects:
        chain_of(each, length=3)
    clean_a, broken_b, clean_c, broken_d = subjects
    with as_table_owner():
        AuditEntry.objects.filter(pk=entry_at(broken_b, 2).pk).update(comment="sửa")
        AuditEntry.objects.filter(pk=entry_at(broken_d, 3).pk).delete()

    code, output = verify()

    assert code == 1
    assert f"{label(broken_b)} at #2" in output
    assert f"{label(broken_d)} at #3" in output
    assert label(clean_a) not in output
    assert label(clean_c) not in output
    assert "2 audit chain(s) broken." in output


# --- append-only --------------------------------------------------------------------------------


def test_saving_an_existing_entry_is_refused(subject):
    entry = chain_of(subject, length=1)[0]
    stored = AuditEntry.objects.get(pk=entry.pk)
    stored.comment = "sửa"

    with pytest.raises(ValueError, match="append-only"):
        stored.save()
    with pytest.raises(ValueError, match="append-only"):
        stored.save(update_fields=["comment"])

    assert AuditEntry.objects.get(pk=entry.pk).comment == entry.comment


def test_deleting_an_entry_is_refused(subject):
    entry = chain_of(subject, length=1)[0]

    with pytest.raises(ValueError, match="append-only"):
        AuditEntry.objects.get(pk=entry.pk).delete()

    assert AuditEntry.objects.filter(pk=entry.pk).exists()


class Abort(Exception):
    pass


def append_then_abort(subject):
    with transaction.atomic():
        audit_append(subject=subject, actor=None, action="tests.rolled_back")
        raise Abort


def test_an_append_rolled_back_with_its_transaction_leaves_no_trace(subject):
    with pytest.raises(Abort):
        append_then_abort(subject)
    assert not AuditChain.objects.exists()
    assert not AuditEntry.objects.exists()

    chain_of(subject, length=2)
    head_before = AuditChain.objects.values("last_seq", "last_hash").get()
    with pytest.raises(Abort):
        append_then_abort(subject)

    assert AuditChain.objects.values("last_seq", "last_hash").get() == head_before
    assert [entry.seq for entry in audit_entries_for(subject)] == [1, 2]
    assert verify()[0] == 0


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------


def _run_threads(target, count: int) -> list[BaseException]:
    """Run ``target(index)`` in ``count`` threads, each on its own connection; return their errors."""
    errors: list[BaseException] = []

    def run(index):
        try:
            target(index)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return errors


@pytest.mark.postgres
def test_concurrent_appends_to_one_chain_never_fork_it():
    subject = UserFactory()  # no chain yet: the first appends also race to create the head
    writers, appends = 8, 25
    start = threading.Barrier(writers)

    def write(index):
        start.wait(timeout=30)
        for n in range(appends):
            audit_append(subject=subject, actor=None, action="tests.concurrent", data={"writer": index, "n": n})

    errors = _run_threads(write, writers)

    assert errors == []
    entries = list(audit_entries_for(subject))
    assert len(entries) == writers * appends
    assert [entry.seq for entry in entries] == list(range(1, writers * appends + 1))
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    assert AuditChain.objects.get().last_seq == writers * appends
    assert verify()[0] == 0


def append_with_lock_timeout(subjects, *, timeout: str):
    """Append to each subject in one transaction that gives up waiting for a lock after ``timeout``."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{timeout}'")
        for each in subjects:
            audit_append(subject=each, actor=None, action="tests.timed")


@pytest.mark.postgres
def test_appends_to_different_chains_do_not_wait_on_each_other():
    held_subject, free_subject = UserFactory(), UserFactory()
    chain_of(held_subject, length=1)
    chain_of(free_subject, length=1)
    appended, release = threading.Event(), threading.Event()

    def hold_chain(index):
        with transaction.atomic():
            audit_append(subject=held_subject, actor=None, action="tests.held")
            appended.set()
            release.wait(timeout=30)

    holder_errors: list[BaseException] = []
    holder = threading.Thread(target=lambda: holder_errors.extend(_run_threads(hold_chain, 1)))
    holder.start()
    try:
        assert appended.wait(timeout=10)

        # The control: the held chain really is locked, and lock_timeout turns waiting into an error.
        with pytest.raises(OperationalError, match="lock timeout"):
            append_with_lock_timeout([held_subject], timeout="200ms")

        began = time.monotonic()
        append_with_lock_timeout([free_subject, UserFactory()], timeout="2s")  # an existing chain, a new one
        assert time.monotonic() - began < 2
        assert not release.is_set()  # the other chain was still locked all along
    finally:
        release.set()
        holder.join(timeout=30)

    assert holder_errors == []
    assert [entry.seq for entry in audit_entries_for(held_subject)] == [1, 2]
    assert [entry.seq for entry in audit_entries_for(free_subject)] == [1, 2]
    assert verify()[0] == 0


@pytest.mark.postgres
def test_verify_while_appends_commit_reports_no_false_breaks():
    # Heads and entries read in two statements (two snapshots) saw an append's new head without its
    # entry and reported "newest removed" on a healthy log, about twice per run here.
    subjects = [UserFactory() for _ in range(4)]
    for each in subjects:
        chain_of(each, length=1)
    stop = threading.Event()

    def write(index):
        while not stop.is_set():
            audit_append(subject=subjects[index], actor=None, action="tests.busy")

    false_breaks: list[str] = []

    def check(index):
        try:
            for _ in range(50):
                false_breaks.extend(str(link) for link in audit_verify())
        finally:
            stop.set()

    errors = _run_threads(lambda index: check(index) if index == len(subjects) else write(index), len(subjects) + 1)

    assert errors == []
    assert false_breaks == []
    assert verify()[0] == 0
