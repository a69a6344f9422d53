"""`make run` as a newcomer uses it, and the runner behind it (config/devserver.py), as real processes.

Everything runs embedded: DATABASE_URL and REDIS_URL are removed, so SQLite and kombu's filesystem broker
live in a temporary THIDUA_VAR_DIR. Each command starts in a session of its own, as a terminal would run
it; the runner puts each of its three children in a session of their own, so "nothing is left" means:
no live process in the command's session nor in any child's session.
"""

import contextlib
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.shortcuts import resolve_url

from processes.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 240  # a first `make run` migrates and seeds a fresh database
STOP_SECONDS = 20
STARTED = re.compile(r"^runner \| started the (.+?) \(pid (\d+)\)", re.MULTILINE)


class Command:
    """A command in its own session, its merged output collected line by line."""

    def __init__(self, argv: list[str], *, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for raw in iter(self.proc.stdout.readline, b""):
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def tail(self, count: int = 80) -> str:
        return "\n".join(self.lines[-count:])

    def wait_for(self, pattern: str, *, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output, re.MULTILINE)
            if match:
                return match
            if self.proc.poll() is not None:
                pytest.fail(f"exited with {self.proc.returncode} before printing {pattern!r}:\n{self.tail()}")
            time.sleep(0.2)
        pytest.fail(f"no {pattern!r} within {timeout:.0f} s:\n{self.tail()}")

    def children(self) -> dict[str, int]:
        """The runner's children by label: 'web server', 'Celery worker', 'Celery beat'."""
        return {label: int(pid) for label, pid in STARTED.findall(self.output)}

    def sessions(self) -> list[int]:
        return [self.proc.pid, *self.children().values()]

    def stop(self, signum: int, *, group: bool = True) -> float:
        """Send the signal (to the whole process group, as a terminal's Ctrl-C does) and wait until the
        command and every process of its sessions have gone; returns the seconds that took."""
        started = time.monotonic()
        if group:
            os.killpg(self.proc.pid, signum)
        else:
            self.proc.send_signal(signum)
        self.wait_gone(started, after=signal.Signals(signum).name)
        return time.monotonic() - started

    def wait_gone(self, started: float, *, after: str) -> None:
        try:
            self.proc.wait(timeout=max(0.1, started + STOP_SECONDS - time.monotonic()))
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {STOP_SECONDS} s after {after}:\n{self.tail()}")
        while (left := live_processes(self.sessions())) and time.monotonic() - started < STOP_SECONDS:
            time.sleep(0.1)
        assert not left, f"left running {STOP_SECONDS} s after {after}: {left}\n{self.tail()}"
        self.reader.join(timeout=5)

    def kill_everything(self) -> None:
        """Clean-up after a failed test: nothing of it may outlive the test."""
        for sid in self.sessions():
            for pid in live_processes([sid]):
                kill_quietly(pid)
        if self.proc.poll() is None:
            kill_quietly(self.proc.pid)
            self.proc.wait(timeout=10)


def kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def live_processes(sessions: list[int]) -> dict[int, str]:
    """Processes (not zombies) whose session is one of these, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the parenthesised command name: state, ppid, pgrp, session, ...
            state, _ppid, _pgrp, session = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:4]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(session) in sessions and state != "Z":
            found[int(entry.name)] = cmdline.strip()
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def embedded_env(var_dir: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        # MAKEFLAGS and friends would leak the outer `make test` into the inner `make run`.
        if name not in {"DATABASE_URL", "REDIS_URL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}
    }
    env.update(THIDUA_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1")
    return env


def wait_for_page(url: str, command: Command, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if command.proc.poll() is not None:
            pytest.fail(f"exited with {command.proc.returncode} before serving {url}:\n{command.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own loopback server
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer 200 within {timeout:.0f} s:\n{command.tail()}")


def log_in(base: str, username: str, password: str) -> tuple[str, str]:
    """Log in through the login form, CSRF token and all; returns the URL and the HTML landed on."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base}/accounts/login/", timeout=10) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, form
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        f"{base}/accounts/login/", data=data, headers={"Referer": base + "/"}
    )
    with opener.open(request, timeout=30) as response:
        return response.url, response.read().decode()


DELIVERY_SECONDS = 180


def wait_for_delivery(var_dir: Path, command) -> dict:
    """Wait until no outbox row of the embedded database is waiting or being sent; then count what
    arrived: email files under var/mail (their distinct Message-IDs) and in-app notifications."""
    database = var_dir / "db.sqlite3"
    deadline = time.monotonic() + DELIVERY_SECONDS
    while True:
        with contextlib.closing(sqlite3.connect(database, timeout=10)) as db:
            counts = dict(db.execute("SELECT status, count(*) FROM notifications_outbox GROUP BY status"))
            if not counts.get("pending") and not counts.get("sending") and counts.get("sent"):
                email = db.execute(
                    "SELECT count(*) FROM notifications_outbox WHERE channel = 'email' AND status = 'sent'"
                ).fetchone()[0]
                in_app_rows = db.execute(
                    "SELECT count(*) FROM notifications_outbox WHERE channel = 'in_app' AND status = 'sent'"
                ).fetchone()[0]
                in_app = db.execute("SELECT count(*) FROM notifications_inappnotification").fetchone()[0]
                break
        assert time.monotonic() < deadline, f"outbox still {counts} after {DELIVERY_SECONDS} s\n{command.tail()}"
        time.sleep(1)
    message_ids, links = set(), set()
    for path in (var_dir / "mail").iterdir():
        for message in path.read_text(errors="replace").split(
            "\n-------------------------------------------------------------------------------\n"
        ):
            found = re.search(r"^Message-ID: (<outbox-\d+@[^>]+>)$", message, re.MULTILINE)
            if found:
                message_ids.add(found.group(1))
            links.update(re.findall(r"(http://[^/\s]+)/nominations/\d+/", message))
    return {
        "email": email,
        "in_app_rows": in_app_rows,
        "in_app": in_app,
        "message_ids": len(message_ids),
        "links": links,
    }


# seed_demo's progress without a terminal (make run pipes it): "Đề nghị khen thưởng: 62/245 (25%)".
SEED_PROGRESS = re.compile(r"^\S.*: (\d+)/(\d+) \((\d+)%\)$")
BANNER_END = "runner | The web server, a Celery worker and beat are running. Press Ctrl-C to stop all three."
# What may follow the banner while the application runs: the task summary and the web server's line
# per request ("[29/Nov/2026 18:31:40] "GET /accounts/login/ HTTP/1.1" 200 2345").
AFTER_BANNER = re.compile(r"^(runner \| =+|runner \| notifications: .*|web +\| \[\d\d/\w+/\d{4} [\d:]+\] .*)$")
SUMMARY = re.compile(r"^runner \| notifications: ([\d,]+) delivered, ([\d,]+) failed")


def assert_seed_progress_is_a_few_lines_kept_out_of_the_banner(command: Command, var_dir: Path) -> None:
    progress = [match for line in command.lines if (match := SEED_PROGRESS.match(line))]
    assert len(progress) == 5, command.output[:3000]  # the start and each quarter, not a line per nomination
    assert (int(progress[0][3]), int(progress[-1][3])) == (0, 100)
    assert {int(match[2]) for match in progress} == {int(progress[-1][1])}
    # The banner repeats this file (seed_demo's stdout): the progress, on stderr, is not in it.
    logins = (var_dir / "run" / "demo-logins.txt").read_text()
    assert not any(SEED_PROGRESS.match(line) for line in logins.splitlines()), logins


def assert_banner_is_the_last_of_the_start_up(command: Command, base: str) -> None:
    lines = command.lines
    end = lines.index(BANNER_END)
    start = lines.index(f"runner | Thi đua is running at {base}/")
    before = "\n".join(lines[:start])
    for started in (
        r"^worker +\|.* celery@\S+ ready\.",
        r"^beat +\|.*beat: Starting\.\.\.",
        r"^web +\| Quit the server",
    ):
        assert re.search(started, before, re.MULTILINE), f"{started} came after the banner:\n{command.tail(120)}"
    stopping = next(i for i, line in enumerate(lines) if line.startswith("runner | received SIGINT"))
    after = [line for line in lines[end + 1 : stopping] if not AFTER_BANNER.match(line)]
    assert not after, f"printed after the banner: {after[:20]}"


def assert_deliveries_are_summarised_not_listed(command: Command, *, sent: int) -> None:
    assert not re.search(r"Task notifications\.deliver\[", command.output), command.tail()
    assert not re.search(r"Scheduler: Sending due task", command.output), command.tail()
    summaries = [match for line in command.lines if (match := SUMMARY.match(line))]
    assert summaries, command.tail()
    assert len(summaries) < 20  # now and then, not a line per delivery
    delivered, failed = (int(number.replace(",", "")) for number in summaries[-1].groups())
    assert (delivered, failed) == (sent, 0), command.tail()
    # The totals come last, once the worker's output has all been read.
    last_summary = max(i for i, line in enumerate(command.lines) if SUMMARY.match(line))
    assert command.lines[last_summary + 1] == "runner | all processes stopped.", command.tail()


def assert_alive(pid: int, word: str) -> None:
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    assert word in cmdline.split("\0"), f"pid {pid} is not the {word} process: {cmdline!r}"


def test_make_run_serves_the_demo_with_worker_and_beat_and_ctrl_c_stops_everything(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("GNU make is not installed; `make run` cannot be tried")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = Command(["make", "run", f"PORT={port}"], env=embedded_env(tmp_path / "var"))
    try:
        wait_for_page(f"{base}/accounts/login/", command, timeout=START_SECONDS)
        # The runner prints the URL once the worker and beat have said they are up.
        command.wait_for(rf"runner \| Thi đua is running at {re.escape(base)}/", timeout=60)
        # seed_demo's wording is translated; the password it gives new demo accounts is not.
        assert DEMO_PASSWORD in command.output, command.tail()

        landed, home = log_in(base, "board.officer", DEMO_PASSWORD)
        home_path = resolve_url(settings.LOGIN_REDIRECT_URL)
        assert urllib.parse.urlsplit(landed).path == home_path, f"login did not land on {home_path}: {landed}"
        assert len(set(re.findall(r'href="/nominations/(\d+)/(?:#[\w-]+)?"', home))) >= 10, home[:3000]

        children = command.children()
        assert set(children) == {"web server", "Celery worker", "Celery beat"}, command.tail()
        assert_alive(children["web server"], "runserver")
        assert_alive(children["Celery worker"], "worker")
        assert_alive(children["Celery beat"], "beat")
        assert re.search(r"^worker +\|.* celery@\S+ ready\.", command.output, re.MULTILINE), command.tail()
        assert re.search(r"^beat +\|.*beat: Starting\.\.\.", command.output, re.MULTILINE), command.tail()

        # The demo's first notifications, written by seed_demo and published to the filesystem broker,
        # are delivered by the worker: one email file per email row, each with its own Message-ID.
        delivered = wait_for_delivery(tmp_path / "var", command)

        seconds = command.stop(signal.SIGINT)
    finally:
        command.kill_everything()
    assert seconds < STOP_SECONDS
    assert delivered["email"] > 100
    assert delivered["in_app"] == delivered["in_app_rows"]
    assert delivered["message_ids"] == delivered["email"]
    assert delivered["links"] == {base}  # links in emails point at the running application
    assert_seed_progress_is_a_few_lines_kept_out_of_the_banner(command, tmp_path / "var")
    assert_banner_is_the_last_of_the_start_up(command, base)
    assert_deliveries_are_summarised_not_listed(command, sent=delivered["email"] + delivered["in_app_rows"])
    # The runner took its clean path, which ends with status 0. GNU make, which got the same Ctrl-C,
    # then always re-raises SIGINT on itself once its recipe is done (a shell shows 130): that is the
    # only status other than 0 accepted here. A failing recipe would have made it print "make: ***".
    assert "runner | all processes stopped." in command.lines, command.tail()
    assert "did not stop in time" not in command.output, command.tail()
    assert "make: ***" not in command.output, command.tail()
    assert command.proc.returncode in {0, -signal.SIGINT}, command.tail()


@pytest.fixture(scope="module")
def migrated_var(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("var")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=embedded_env(var_dir),
        check=True,
        capture_output=True,
        timeout=300,
    )
    return var_dir


def start_runner(var_dir: Path) -> Command:
    port = free_port()
    command = Command(
        [sys.executable, "-m", "config.devserver", "--host", "127.0.0.1", "--port", str(port)],
        env=embedded_env(var_dir),
    )
    command.wait_for(rf"runner \| Thi đua is running at http://127.0.0.1:{port}/", timeout=120)
    return command


@pytest.mark.parametrize(
    ("signum", "group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c-to-the-group", "sigterm-to-the-runner"],
)
def test_runner_stops_all_three_and_exits_0(migrated_var, signum, group):
    command = start_runner(migrated_var)
    try:
        children = command.children()
        assert len(children) == 3, command.tail()
        command.stop(signum, group=group)
    finally:
        command.kill_everything()
    assert command.proc.returncode == 0, command.tail()
    assert f"runner | received {signal.Signals(signum).name}" in command.output
    assert "did not stop in time" not in command.output, command.tail()


def test_runner_stops_the_others_and_fails_naming_the_child_that_died(migrated_var):
    command = start_runner(migrated_var)
    try:
        worker = command.children()["Celery worker"]
        os.kill(worker, signal.SIGKILL)
        command.wait_gone(time.monotonic(), after="the worker was killed")
    finally:
        command.kill_everything()
    assert command.proc.returncode == 1, command.tail()
    assert f"the Celery worker (pid {worker}) was killed by SIGKILL unexpectedly" in command.output, command.tail()
    assert "runner | stopped: the Celery worker died." in command.lines, command.tail()
