"""Real processes for the delivery tests (test_real_delivery.py): a redis-server the test can stop and
start again, an SMTP sink (aiosmtpd) in this process recording every message with its Message-ID, a
Celery worker process that the test can kill with SIGKILL and start again, and this process's
publisher pointed at that Redis instead of the suite's in-memory broker.

Every wait has a deadline; every process is ended in a finaliser, by its own process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server")
#: The worker is the venv's own ``celery`` script, beside the interpreter running the tests.
CELERY = Path(sys.executable).with_name("celery")
START_SECONDS = 60  # a worker imports Django and connects; a first start on a cold machine is slow
WAIT_SECONDS = 30

try:
    import aiosmtpd.controller
except ImportError:  # pragma: no cover - the dev dependencies include it
    aiosmtpd = None


def needs_real_services():
    """The reason to skip, or None. CI installs both, and a skip there fails the run."""
    missing = [name for name, found in (("redis-server", REDIS_SERVER), ("aiosmtpd", aiosmtpd)) if not found]
    if missing:
        return f"needs {' and '.join(missing)} (apt-get install redis-server; pip install -r requirements.lock)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, timeout: float = WAIT_SECONDS, interval: float = 0.1, message: str = ""):
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            pytest.fail(f"not within {timeout:.0f} s: {text or condition}")
        time.sleep(interval)


def _end(proc: subprocess.Popen | None, sig: int = signal.SIGKILL, timeout: float = 10) -> None:
    """Send ``sig`` to the process's whole group (its own session), then reap it."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)


# --- Redis ----------------------------------------------------------------------------------------------


class RedisServer:
    """A throw-away redis-server on a free loopback port: no dump, no append-only file, its files
    under the test's temporary directory. ``stop`` and ``start`` keep the port."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        log = open(self.directory / f"redis-{self.starts}.log", "wb")  # noqa: SIM115 - the process keeps it
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(
            lambda: self.proc.poll() is not None or self.ping(),
            message=lambda: f"redis-server answering PING on {self.port}",
        )
        if self.proc.poll() is not None:
            pytest.fail(f"redis-server exited: {(self.directory / f'redis-{self.starts}.log').read_text()}")

    def stop(self) -> None:
        """Stop it as an outage would: SIGKILL, nothing saved; the port refuses connections at once."""
        _end(self.proc, signal.SIGKILL)
        wait_until(lambda: not self.ping(), message="redis-server stopped")


# --- SMTP sink ------------------------------------------------------------------------------------------


@dataclass
class Received:
    message_id: str
    envelope_to: list[str]
    message: email.message.EmailMessage


@dataclass
class SmtpSink:
    """An aiosmtpd handler recording every message the server accepted.

    ``hold_after_first_accept()`` makes the session of the next accepted message wait before it answers
    that session's QUIT, so the client (the worker) has had its 250 for the DATA but its send has not
    returned: the test can kill the worker exactly between the server accepting a message and the
    outbox row being marked sent."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _hold_armed: bool = False
    _held_session: int | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.received.append(Received(message["Message-ID"], list(envelope.rcpt_tos), message))
            if self._hold_armed:
                self._hold_armed = False
                self._held_session = id(session)
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server, session, envelope):
        if self._held_session == id(session):
            self._held_session = None
            self.holding.set()
            deadline = time.monotonic() + 2 * START_SECONDS
            while not self.released.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        return "221 Bye"

    def hold_after_first_accept(self) -> None:
        self.holding.clear()
        self.released.clear()
        self._hold_armed = True

    def release(self) -> None:
        self.released.set()

    def message_ids(self) -> list[str]:
        with self._lock:
            return [item.message_id for item in self.received]

    def counts(self) -> Counter:
        return Counter(self.message_ids())

    def by_message_id(self, message_id: str) -> list[Received]:
        with self._lock:
            return [item for item in self.received if item.message_id == message_id]


# --- the Celery worker ----------------------------------------------------------------------------------


def database_url() -> str:
    """The URL of the test database this process uses (pytest-django's test_…_<pid> on PostgreSQL, the
    var/test-db_<pid>.sqlite3 file on SQLite), for a worker process to use the same one."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return "sqlite:///" + str(Path(db["NAME"]).resolve())
    assert db["ENGINE"].endswith("postgresql"), db["ENGINE"]
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


class Worker:
    """``celery -A config.celery_app worker``, one prefork child, in a session of its own so SIGKILL
    reaches the pool child too. Each start logs to its own file; ``start`` waits for "ready."."""

    def __init__(self, directory: Path, env: dict[str, str]):
        self.directory = directory
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.directory / f"worker-{self.starts}.log"

    def log(self, start: int | None = None) -> str:
        path = self.directory / f"worker-{start or self.starts}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- worker start {n}\n{self.log(n)}" for n in range(1, self.starts + 1))

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        log = open(self.log_path, "wb")  # noqa: SIM115 - the process keeps it
        self.proc = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "config.celery_app",
                "worker",
                "-c",
                "1",
                "-P",
                "prefork",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-Q",
                "celery",
                "-n",
                f"e2e-{os.getpid()}-{self.starts}@%h",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(
            lambda: self.proc.poll() is not None or " ready." in self.log(),
            timeout=START_SECONDS,
            message=lambda: f"the worker ready:\n{self.log()[-3000:]}",
        )
        if self.proc.poll() is not None:
            pytest.fail(f"the worker exited with {self.proc.returncode}:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to the main process and its pool child at once, as the OOM killer or a power cut."""
        assert self.proc is not None
        assert self.proc.poll() is None, "not running"
        _end(self.proc, signal.SIGKILL)

    def stop(self) -> None:
        _end(self.proc, signal.SIGKILL)


# --- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture
def real_services():
    reason = needs_real_services()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def redis_server(real_services, tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    _end(server.proc, signal.SIGKILL)


@pytest.fixture
def smtp_sink(real_services):
    from aiosmtpd.controller import Controller

    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    sink.release()
    controller.stop()


@pytest.fixture(scope="session")
def redis_broker_settings(tmp_path_factory):
    """The broker settings config/settings.py gives a process that has REDIS_URL (short socket and
    connection timeouts, the visibility timeout), read from a fresh interpreter, so this process
    publishes exactly as the web process of a Redis deployment does. Keys as in Django's settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "DJANGO_"))}
    env.update(REDIS_URL="redis://127.0.0.1:1/0", THIDUA_VAR_DIR=str(tmp_path_factory.mktemp("settings-var")))
    code = (
        "import json, config.settings as s;"
        "print(json.dumps({k: v for k, v in vars(s).items() if k.startswith('CELERY_BROKER_')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    values = json.loads(out.stdout.strip().splitlines()[-1])
    assert values.pop("CELERY_BROKER_URL") == "redis://127.0.0.1:1/0"
    return values


def _drop_broker_connections(app) -> None:
    """Celery keeps its connection pool (``app.pool``) and producer pool (``app.amqp.producer_pool``),
    and kombu keeps both in process-wide pool groups keyed by the broker's address: all are closed and
    forgotten, so the next publish connects to the broker now configured."""
    import kombu.pools

    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def publisher(redis_server, redis_broker_settings):
    """This process (the web process in these tests) publishes to the real Redis, configured as
    config/settings.py configures a Redis deployment; the earlier configuration is put back after.

    The app reads Django's settings with the CELERY_ namespace, where ``CELERY_BROKER_URL`` is found
    before a plain ``broker_url``: ``app.conf.broker_url = …`` would change nothing, so the namespaced
    keys are set, in the app's own layer of changes (Django's settings stay as they are)."""
    from config.celery_app import app
    from notifications import outbox

    # After a failed publish this process skips publishing for a while (module state): a test that
    # stopped Redis must not leave the next one's rows waiting for a sweep that never comes.
    outbox._broker_down_until = None
    changes = {"CELERY_BROKER_URL": redis_server.url, **redis_broker_settings}
    missing = object()
    saved = {key: app.conf.changes.get(key, missing) for key in changes}
    _drop_broker_connections(app)
    app.conf.update(changes)
    assert app.connection_for_write().as_uri(include_password=True) == f"redis://127.0.0.1:{redis_server.port}/0"
    assert not app.conf.task_always_eager
    yield app
    outbox._broker_down_until = None
    _drop_broker_connections(app)
    for key, value in saved.items():
        if value is missing:
            app.conf.changes.pop(key, None)
        else:
            app.conf.changes[key] = value


@pytest.fixture
def worker(transactional_db, redis_server, smtp_sink, tmp_path_factory):
    """A Celery worker process on the real Redis, the test database and the SMTP sink; not started:
    the test calls ``worker.start()`` (and may ``kill()`` and start it again). Asking for
    ``transactional_db`` puts its teardown after the worker's, so no worker holds the database while
    the test's rows are flushed."""
    directory = tmp_path_factory.mktemp("worker")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "DJANGO_"))}
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=redis_server.url,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_sink.port),
        DJANGO_SETTINGS_MODULE="config.settings",
        THIDUA_VAR_DIR=str(directory / "var"),
        PYTHONUNBUFFERED="1",
    )
    process = Worker(directory, env)
    yield process
    smtp_sink.release()
    process.stop()
