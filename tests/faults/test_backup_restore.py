"""A backup restored into an empty database finds every case, every file (bytes equal) and every audit
chain intact; a damaged or misdirected restore is refused before anything is written."""

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from processes import services
from processes.models import ActivityEvidence, DossierFile, Nomination
from tests.factories import approve_until, attach_file, make_nomination, open_step, submitted
from tests.workflow.test_approval_chains import ROOT, child_database_url
from workflow.checkpoints import audit_checkpoint_write
from workflow.models import AuditEntry

INVENTORY = """
import json
import django
django.setup()
from tests.faults.test_backup_restore import inventory
print(json.dumps(inventory()))
"""
# manage.py with English messages, for the assertions.
MANAGE = """
import sys
import django
django.setup()
from django.core.management import execute_from_command_line
from django.utils import translation
translation.activate("en")
execute_from_command_line(["manage.py", *sys.argv[1:]])
"""


def inventory() -> dict:
    """What a restore must give back, read through the application's models and storage."""
    files = {}
    for model in (DossierFile, ActivityEvidence):
        for row in model.objects.order_by("pk"):
            with row.file.open("rb") as stored:
                files[row.file.name] = hashlib.sha256(stored.read()).hexdigest()
    return {
        "cases": list(Nomination.objects.order_by("pk").values_list("pk", "stage", "version")),
        "files": files,
        "audit": list(AuditEntry.objects.order_by("chain_id", "seq").values_list("chain_id", "seq", "hash")),
    }


def _database_url(name: str) -> str:
    return child_database_url().rsplit("/", 1)[0] + "/" + name


def _manage(*arguments, database: str, tmp_path, check=True):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(database),
        "DOSSIER_ROOT": str(tmp_path / "restored" / "dossiers"),
        "AUDIT_CHECKPOINT_DIR": str(tmp_path / "restored" / "audit-checkpoints"),
        "THIDUA_AUDIT_KEY": settings.AUDIT_KEY,
    }
    finished = subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if check:
        assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished


def _seed(org):
    """A few cases at different points, with files, decisions, an edit, a checkpoint and a decision after it."""
    cases = [submitted(org) for _ in range(3)]
    cases.append(approve_until(submitted(org), "board_intake"))
    attach_file(cases[0], org.report_type, user=org.hospital_secretary, content=b"%PDF-1.4 second file\n")
    cases.append(make_nomination(org))
    services.nomination_update(nomination=cases[-1], by=org.hospital_secretary, achievement_summary="Thành tích mới")
    audit_checkpoint_write(full=True)
    services.nomination_decide(task_id=open_step(cases[2]).pk, by=org.hospital_head, action="approve")
    return cases


@pytest.fixture
def empty_database():
    name = f"thidua_restore_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_a_backup_restored_into_an_empty_database_finds_every_case_file_and_audit_chain(org, tmp_path, empty_database):
    _seed(org)
    before = inventory()
    assert len(before["cases"]) == 5
    assert len(before["files"]) == 5
    assert len(before["audit"]) > 10

    call_command("backup", output_dir=tmp_path / "backups", stdout=io.StringIO())
    (archive,) = (tmp_path / "backups").glob("thidua-backup-*Z.tar")
    with tarfile.open(archive) as opened:
        manifest = json.load(opened.extractfile("manifest.json"))
    assert "database.dump" in manifest["parts"]
    assert sum(name.startswith("dossiers/") for name in manifest["parts"]) == 5
    assert any(name.startswith("checkpoints/") for name in manifest["parts"])

    restored = _manage("-c", MANAGE, "restore", str(archive), database=empty_database, tmp_path=tmp_path)
    assert "All audit chains verify." in restored.stdout
    assert "Compared with audit" in restored.stdout  # against the restored checkpoint, not without one

    after = json.loads(_manage("-c", INVENTORY, database=empty_database, tmp_path=tmp_path).stdout)
    assert after == json.loads(json.dumps(before))
    for name in before["files"]:  # bytes equal, not only the checksum the inventory computed
        assert (tmp_path / "restored" / "dossiers" / name).read_bytes() == (settings.DOSSIER_ROOT / name).read_bytes()
    _manage("-c", MANAGE, "verify_audit", database=empty_database, tmp_path=tmp_path)

    # The restored database is no longer empty: a second restore is refused, and nothing changes.
    again = _manage("-c", MANAGE, "restore", str(archive), database=empty_database, tmp_path=tmp_path, check=False)
    assert again.returncode != 0
    assert f"The database {empty_database} is not empty" in again.stderr
    assert json.loads(_manage("-c", INVENTORY, database=empty_database, tmp_path=tmp_path).stdout) == after


@pytest.mark.postgres
def test_a_damaged_archive_is_refused_before_anything_is_restored(org, tmp_path, empty_database):
    _seed(org)
    call_command("backup", output_dir=tmp_path / "backups", stdout=io.StringIO())
    (archive,) = (tmp_path / "backups").glob("*.tar")
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as copy:
        for member in source.getmembers():
            content = source.extractfile(member).read()
            if member.name.startswith("dossiers/"):
                content = content.replace(b"PDF", b"PDX", 1)
            copy.addfile(member, io.BytesIO(content))

    refused = _manage("-c", MANAGE, "restore", str(damaged), database=empty_database, tmp_path=tmp_path, check=False)

    assert refused.returncode != 0
    assert "does not match its checksum in the manifest" in refused.stderr
    assert not (tmp_path / "restored" / "dossiers").exists()
    # Nothing was restored: the database is still empty, so the intact archive restores into it.
    _manage("-c", MANAGE, "restore", str(archive), database=empty_database, tmp_path=tmp_path)


def test_backing_up_the_embedded_sqlite_run_is_refused_with_the_reason(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(THIDUA_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    finished = subprocess.run(
        [sys.executable, "-c", MANAGE, "backup"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert finished.returncode != 0
    assert "set DATABASE_URL to a PostgreSQL database" in finished.stderr
    assert not (tmp_path / "backups").exists() or not any((tmp_path / "backups").iterdir())
