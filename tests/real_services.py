"""Real processes for tests and demos that run the application's own processes: a redis-server that
can be stopped and started again on its port, an SMTP sink (aiosmtpd) recording every message with its
Message-ID, and Celery processes (worker, beat) in sessions of their own, so SIGKILL reaches the pool
children too. Used by the delivery tests (tests/notifications/) and the cluster demo (tests/cluster/).

Every wait has a deadline (``wait_until`` fails the test, or ends the demo, when it passes).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
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

import pytest

ROOT = Path(__file__).resolve().parents[1]
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


# --- Celery processes ----------------------------------------------------------------------------------


class Worker:
    """``celery -A config.celery_app worker``, one prefork child, in a session of its own so SIGKILL
    reaches the pool child too. Each start logs to its own file; ``start`` waits for "ready."."""

    kind = "worker"
    ready_marker = " ready."

    def __init__(self, directory: Path, env: dict[str, str], *, name: str = "e2e"):
        self.directory = directory
        self.env = env
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def arguments(self) -> list[str]:
        return [
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
            f"{self.name}-{os.getpid()}-{self.starts}@%h",
        ]

    @property
    def log_path(self) -> Path:
        return self.directory / f"{self.kind}-{self.starts}.log"

    def log(self, start: int | None = None) -> str:
        path = self.directory / f"{self.kind}-{start or self.starts}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {self.kind} start {n}\n{self.log(n)}" for n in range(1, self.starts + 1))

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        log = open(self.log_path, "wb")  # noqa: SIM115 - the process keeps it
        self.proc = subprocess.Popen(
            [str(CELERY), "-A", "config.celery_app", *self.arguments(), "--loglevel", "INFO"],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(
            lambda: self.proc.poll() is not None or self.ready_marker in self.log(),
            timeout=START_SECONDS,
            message=lambda: f"the {self.kind} ready:\n{self.log()[-3000:]}",
        )
        if self.proc.poll() is not None:
            pytest.fail(f"the {self.kind} exited with {self.proc.returncode}:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to the main process and its pool child at once, as the OOM killer or a power cut."""
        assert self.proc is not None
        assert self.proc.poll() is None, "not running"
        _end(self.proc, signal.SIGKILL)

    def stop(self) -> None:
        _end(self.proc, signal.SIGKILL)


class Beat(Worker):
    """``celery -A config.celery_app beat`` with django-celery-beat's database scheduler (the periodic
    tasks are rows), its pid and schedule files in its own folder."""

    kind = "beat"
    ready_marker = "beat: Starting..."

    def arguments(self) -> list[str]:
        return [
            "beat",
            "--scheduler=django_celery_beat.schedulers:DatabaseScheduler",
            f"--pidfile={self.directory / 'celerybeat.pid'}",
            f"--schedule={self.directory / 'celerybeat-schedule'}",
        ]
