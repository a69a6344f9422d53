"""One archive holding everything a restore needs: the database, the dossier files, the audit checkpoints.

An archive (``thidua-backup-20261123T081500Z.tar`` under ``BACKUP_DIR``) is an uncompressed tar::

    checkpoints/checkpoint-000000042-delta.gz   every file of AUDIT_CHECKPOINT_DIR
    database.dump                               pg_dump --format=custom of the default database
    dossiers/17/3f9c….pdf                       every file under DOSSIER_ROOT (replication evidence too)
    manifest.json                               the sha256 and size of every part above

The order of the copies is what keeps a backup consistent without stopping the application. The
checkpoints are copied first and the database dumped after, so the dump is never behind a checkpoint
in the archive (a chain may be ahead of its checkpoint, never behind: behind is what a deleted entry
looks like). The files are copied after the dump, so every file the dump names is there; a file
uploaded meanwhile is an extra one the restored database does not name, which is harmless.

The audit key is not in the archive, on purpose (it is kept away from the database's backups): the
restored application needs the same ``THIDUA_AUDIT_KEY`` for its chains and checkpoints to verify.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

MANIFEST = "manifest.json"
DATABASE_PART = "database.dump"
# The folder of each set of files in the archive, and the setting naming where it lives.
FOLDERS = {"checkpoints": "AUDIT_CHECKPOINT_DIR", "dossiers": "DOSSIER_ROOT"}
_CHUNK = 1024 * 1024


class BackupError(Exception):
    pass


def _postgres_environment() -> dict[str, str]:
    """The default database's connection for pg_dump and pg_restore, through libpq's environment (a
    password never shows on a command line)."""
    if connection.vendor != "postgresql":
        raise BackupError(
            _(
                "Backups are made with pg_dump and restored with pg_restore: set DATABASE_URL to a PostgreSQL "
                "database. The embedded SQLite run is backed up by copying var/ while it is stopped."
            )
        )
    database = settings.DATABASES["default"]
    values = {
        "PGDATABASE": database["NAME"],
        "PGUSER": database.get("USER") or "",
        "PGPASSWORD": database.get("PASSWORD") or "",
        "PGHOST": database.get("HOST") or "",
        "PGPORT": str(database.get("PORT") or ""),
    }
    return {**os.environ, **{name: value for name, value in values.items() if value}}


def _run(command: list[str], environment: dict[str, str]) -> None:
    # The commands are ours (pg_dump, pg_restore) with paths we made; no user input reaches them.
    finished = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # noqa: S603
    if finished.returncode != 0:
        raise BackupError(
            _("%(command)s failed: %(error)s") % {"command": command[0], "error": finished.stderr.strip()}
        )


def _files(root: Path) -> Iterator[tuple[str, Path]]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path.relative_to(root).as_posix(), path


def _add(archive: tarfile.TarFile, name: str, path: Path, parts: dict) -> None:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(_CHUNK), b""):
            digest.update(chunk)
    info = archive.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as source:
        archive.addfile(info, source)
    parts[name] = {"sha256": digest.hexdigest(), "size": info.size}


def backup_create(*, directory: Path | None = None, now: datetime | None = None) -> Path:
    """Write one archive of the database, the dossier files and the audit checkpoints; return its path."""
    environment = _postgres_environment()
    directory = Path(directory or settings.BACKUP_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(UTC)
    target = directory / f"thidua-backup-{now:%Y%m%dT%H%M%S}Z.tar"
    if target.exists():
        raise BackupError(_("%(path)s already exists.") % {"path": target})
    parts: dict[str, dict] = {}
    partial = target.with_suffix(".tar.partial")
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        try:
            with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
                for name, path in _files(Path(settings.AUDIT_CHECKPOINT_DIR)):  # first: see the module
                    _add(archive, f"checkpoints/{name}", path, parts)
                dump = Path(scratch) / DATABASE_PART
                _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}"], environment)
                _add(archive, DATABASE_PART, dump, parts)
                for name, path in _files(Path(settings.DOSSIER_ROOT)):
                    _add(archive, f"dossiers/{name}", path, parts)
                manifest = json.dumps(
                    {
                        "format": "thidua-backup 1",
                        "created": now.isoformat(),
                        "database": settings.DATABASES["default"]["NAME"],
                        "parts": parts,
                    },
                    indent=1,
                    sort_keys=True,
                ).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime = len(manifest), int(now.timestamp())
                archive.addfile(info, io.BytesIO(manifest))
            partial.rename(target)
        finally:
            partial.unlink(missing_ok=True)
    return target


def _manifest(archive: tarfile.TarFile) -> dict:
    """The manifest, after checking that the archive holds exactly its parts with their checksums."""
    try:
        manifest = json.load(archive.extractfile(MANIFEST))
        parts = manifest["parts"]
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupError(_("This is not a Thi đua backup: it has no readable manifest.")) from exc
    members = {member.name: member for member in archive.getmembers() if member.name != MANIFEST}
    if set(members) != set(parts) or DATABASE_PART not in parts:
        raise BackupError(_("The archive's parts do not match its manifest."))
    for name, member in members.items():
        path = PurePosixPath(name)
        if not member.isfile() or path.is_absolute() or ".." in path.parts or path.parts[0] not in {*FOLDERS, name}:
            raise BackupError(_("The archive holds an unexpected entry: %(name)s") % {"name": name})
        digest = hashlib.sha256()
        source = archive.extractfile(member)
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
        if digest.hexdigest() != parts[name]["sha256"]:
            raise BackupError(_("%(name)s does not match its checksum in the manifest.") % {"name": name})
    return manifest


def database_is_empty() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%' "
            "AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
        )
        return cursor.fetchone()[0] == 0


def _destination(name: str) -> Path:
    folder, _sep, rest = name.partition("/")
    return Path(getattr(settings, FOLDERS[folder])) / rest


def backup_restore(*, archive_path: Path, force: bool = False) -> dict:
    """Restore an archive into the default database (empty, unless ``force``) and put its files back.

    Everything is checked before anything is written: the checksums, the database's emptiness, and that
    no file already on disk would be replaced by a different one. The dump is restored in one
    transaction, so a failure leaves the database as it was. Returns the manifest."""
    environment = _postgres_environment()
    with tarfile.open(archive_path, "r:") as archive:
        manifest = _manifest(archive)
        files = [name for name in manifest["parts"] if name != DATABASE_PART]
        if not force:
            if not database_is_empty():
                raise BackupError(
                    _(
                        "The database %(name)s is not empty: restore into an empty database, or pass --force to "
                        "replace what it holds."
                    )
                    % {"name": settings.DATABASES["default"]["NAME"]}
                )
            for name in files:
                existing = _destination(name)
                if (
                    existing.exists()
                    and hashlib.sha256(existing.read_bytes()).hexdigest() != (manifest["parts"][name]["sha256"])
                ):
                    raise BackupError(
                        _("%(path)s exists and differs from the archive's copy; pass --force to replace it.")
                        % {"path": existing}
                    )
        connection.close()  # pg_restore --clean must not wait on this process's own session
        with tempfile.TemporaryDirectory() as scratch:
            dump = Path(scratch) / DATABASE_PART
            with archive.extractfile(DATABASE_PART) as source, dump.open("wb") as copy:
                shutil.copyfileobj(source, copy, _CHUNK)
            command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
            if force:
                command += ["--clean", "--if-exists"]
            _run([*command, f"--dbname={environment['PGDATABASE']}", str(dump)], environment)
        for name in files:
            destination = _destination(name)
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.extractfile(name) as source, destination.open("wb") as copy:
                shutil.copyfileobj(source, copy, _CHUNK)
    return manifest
