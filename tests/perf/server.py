"""The one PostgreSQL database a bench run uses, made for the run and removed after it.

With ``DATABASE_URL`` set, a fresh database is created on that server (and dropped at the end); the
configured database itself is never touched. Without it, a throw-away cluster is made with Debian's
binaries in a temporary folder, started on a free loopback port with a random password, and removed
with its folder at the end. As root (initdb refuses root) the cluster runs as the ``postgres`` account.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg

PG_BIN = Path(os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass(frozen=True)
class Database:
    url: str  # of the bench's own database
    where: str  # for the report: "throw-away cluster" or the server's host:port, no password


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(name)))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _created(server_url: str, name: str) -> Iterator[str]:
    """A new, empty database ``name`` on the server of ``server_url``, dropped afterwards."""
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def _throwaway_cluster() -> Iterator[str]:
    """initdb + pg_ctl in a temporary folder; yields a URL to its ``postgres`` database."""
    initdb = PG_BIN / "initdb"
    if not initdb.exists():
        raise SystemExit(
            f"No DATABASE_URL and no {initdb}: install PostgreSQL 15 (apt-get install postgresql-15) "
            "or point DATABASE_URL at a server where this account may create databases."
        )
    root = Path(tempfile.mkdtemp(prefix="thidua-bench-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    password = secrets.token_urlsafe(24)
    pwfile = root / "password"
    pwfile.write_text(password + "\n")
    if as_user:
        os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
    pwfile.chmod(0o600)
    data, port = root / "data", _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], cwd=root, check=True, stdout=subprocess.DEVNULL)

    started = False
    try:
        run(
            str(initdb),
            "--pgdata",
            str(data),
            "--username",
            "bench",
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        )
        options = f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root}"
        run(
            str(PG_BIN / "pg_ctl"),
            "--pgdata",
            str(data),
            "--log",
            str(root / "server.log"),
            "-o",
            options,
            "-w",
            "start",
        )
        started = True
        yield f"postgres://bench:{quote(password)}@127.0.0.1:{port}/postgres"
    finally:
        if started:
            run(str(PG_BIN / "pg_ctl"), "--pgdata", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def bench_database() -> Iterator[Database]:
    name = f"thidua_bench_{os.getpid()}"
    configured = os.environ.get("DATABASE_URL", "")
    if configured:
        if not configured.startswith(("postgres://", "postgresql://")):
            raise SystemExit("make bench needs PostgreSQL: DATABASE_URL must be postgres://… (or unset).")
        server = urlsplit(configured)
        where = f"a new database on DATABASE_URL's server, {server.hostname}:{server.port or 5432}"
        with _created(configured, name) as url:
            yield Database(url=url, where=where)
        return
    with _throwaway_cluster() as server, _created(server, name) as url:
        yield Database(url=url, where="a throw-away cluster made for the run with initdb's default settings")
