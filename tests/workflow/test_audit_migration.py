"""The data migration that moves an existing audit log from plain SHA-256 to the keyed hash."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import UserFactory
from tests.workflow.test_audit import chain_of, label
from workflow.audit import GENESIS_HASH, audit_entries_for, audit_verify, canonical_entry

pytestmark = pytest.mark.django_db(transaction=True)  # migrations cannot run inside a test's transaction

BEFORE = [("workflow", "0008_approval_task_intervention")]  # the last one before the keyed hash


def migrate(targets=None):
    """Migrate to ``targets`` (the latest migrations if None); return the models as they stand there."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def old_chain(apps, *, length: int, subject_id: int):
    """A chain written by the previous release: plain SHA-256, no key."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditChain = apps.get_model("workflow", "AuditChain")
    AuditEntry = apps.get_model("workflow", "AuditEntry")
    content_type = ContentType.objects.get(app_label="auth", model="user")
    chain = AuditChain.objects.create(content_type=content_type, object_id=subject_id)
    prev, now = GENESIS_HASH, timezone.now()
    for seq in range(1, length + 1):
        entry = AuditEntry(
            chain=chain,
            seq=seq,
            action=f"tests.old_{seq}",
            from_state=f"s{seq - 1}",
            to_state=f"s{seq}",
            comment=f"bước {seq}",
            data={"n": seq, "big": 1e16},
            created_at=now + timedelta(seconds=seq),
            prev_hash=prev,
        )
        entry.hash = hashlib.sha256(canonical_entry(entry, subject=f"auth.user:{subject_id}")).hexdigest()
        entry.save()
        prev = entry.hash
    chain.last_seq, chain.last_hash = length, prev
    chain.save()
    return chain


def test_chains_hashed_with_plain_sha256_are_verified_then_re_signed_with_the_key():
    first, second = UserFactory(), UserFactory()
    try:
        apps = migrate(BEFORE)
        old_chain(apps, length=4, subject_id=first.pk)
        old_chain(apps, length=2, subject_id=second.pk)
        old = {
            entry.pk: (entry.hash, entry.comment) for entry in apps.get_model("workflow", "AuditEntry").objects.all()
        }
    finally:
        migrate()

    assert list(audit_verify()) == []
    entries = list(audit_entries_for(first)) + list(audit_entries_for(second))
    assert len(entries) == 6
    for entry in entries:
        assert entry.hash != old[entry.pk][0]  # every hash is new, the content the same
        assert entry.comment == old[entry.pk][1]


def test_the_keyed_log_goes_back_to_plain_sha256_when_the_migration_is_reversed():
    subject = UserFactory()
    chain_of(subject, length=3)
    try:
        apps = migrate(BEFORE)
        entries = list(apps.get_model("workflow", "AuditEntry").objects.order_by("seq"))
        prev = GENESIS_HASH
        for entry in entries:
            assert entry.prev_hash == prev
            assert entry.hash == hashlib.sha256(canonical_entry(entry, subject=label(subject))).hexdigest()
            prev = entry.hash
    finally:
        migrate()

    assert list(audit_verify()) == []


def test_an_old_chain_already_broken_stops_the_migration_and_nothing_is_re_signed():
    good, bad = UserFactory(), UserFactory()
    apps = migrate(BEFORE)
    AuditEntry = apps.get_model("workflow", "AuditEntry")
    try:
        old_chain(apps, length=2, subject_id=good.pk)
        old_chain(apps, length=3, subject_id=bad.pk)
        AuditEntry.objects.filter(chain__object_id=bad.pk, seq=2).update(comment="sửa lén")
        before = dict(AuditEntry.objects.values_list("pk", "hash"))

        with pytest.raises(Exception, match="do not verify under the old plain SHA-256 scheme") as refused:
            migrate()

        assert f"auth.user:{bad.pk}: entry #2 does not match its hash" in str(refused.value)
        assert f"auth.user:{good.pk}" not in str(refused.value)
        assert "Nothing was changed" in str(refused.value)
        assert dict(AuditEntry.objects.values_list("pk", "hash")) == before
    finally:
        AuditEntry.objects.all().delete()
        apps.get_model("workflow", "AuditChain").objects.all().delete()
        migrate()
