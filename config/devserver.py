"""The runner behind ``make run``: the web server, one Celery worker and beat, started and stopped together.

    .venv/bin/python -m config.devserver --host 127.0.0.1 --port 8000 [--logins FILE]

It imports nothing of the project: each child is a separate ``manage.py`` / ``celery -A config`` process,
whose output it prints line by line behind the child's name, except the worker's line per task and beat's
line per scheduled send: those are counted, and a summary ("notifications: 1,654 delivered, 0 failed")
stands in for them, redrawn in place on a terminal and printed now and then otherwise. Warnings, errors
and tracebacks pass through. The banner (URL, demo log-ins) comes once everything is up and start-up
output has stopped, so it is the last thing printed. Each child gets a session of its own, so a
terminal's Ctrl-C reaches only this runner, which then sends each SIGTERM in order (web, beat, worker: the
sources of new tasks stop first) and, to whatever is still running after a grace period of 10 s, SIGKILL
to its whole process group. SIGINT, SIGTERM and SIGHUP all mean "stop cleanly" and end the runner with
status 0; a child that exits on its own stops the others and ends the runner with status 1, naming it.
"""

import argparse
import contextlib
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from functools import partial
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 10.0
POLL_SECONDS = 0.1
READY_SECONDS = 120.0
#: Start-up is over once no child has printed for this long (waited for at most QUIET_MAX_SECONDS).
QUIET_SECONDS = 0.5
QUIET_MAX_SECONDS = 5.0
#: How often the task summary is printed when it changed (a terminal redraws it in place at once).
SUMMARY_SECONDS = 15.0
STATUS_REDRAW_SECONDS = 0.5
PR_SET_PDEATHSIG = 1
#: The Celery task that sends one notification (notifications/tasks.py), by its registered name.
DELIVERY_TASK = "notifications.deliver"


class Console:
    """The runner's output: whole lines, one writer at a time, and on a terminal one status line kept
    at the bottom (erased before a line is printed, drawn again after)."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()
        self.status = ""
        self.last_line_at = time.monotonic()
        try:
            self.terminal = self.stream.isatty()
        except (AttributeError, ValueError):
            self.terminal = False

    def _write(self, data: bytes) -> None:
        # A closed terminal or pipe must not keep the runner from stopping its children: drop the output.
        with contextlib.suppress(OSError, ValueError):
            self.stream.buffer.write(data)
            self.stream.buffer.flush()

    def line(self, name: str, line: bytes) -> None:
        with self.lock:
            self.last_line_at = time.monotonic()
            erase = b"\r\x1b[K" if self.terminal and self.status else b""
            redraw = self.status.encode() if self.terminal else b""
            self._write(erase + f"{name:<6} | ".encode() + line.rstrip(b"\r\n") + b"\n" + redraw)

    def set_status(self, text: str) -> None:
        """On a terminal: the bottom line becomes ``text``. Elsewhere nothing (see ``TaskSummary``)."""
        with self.lock:
            if self.terminal and text != self.status:
                self.status = text
                self._write(b"\r\x1b[K" + text.encode())

    def close(self) -> None:
        with self.lock:
            if self.terminal and self.status:
                self._write(b"\r\x1b[K")
                self.status = ""


console = Console()


def emit(name: str, line: bytes) -> None:
    console.line(name, line)


def log(message: str) -> None:
    emit("runner", message.encode())


# Celery's worker logs "[time: INFO/MainProcess] Task name[id] received", then "… succeeded in 0.01s:
# 'sent'" from the pool; failures are logged at ERROR with a traceback after them.
_TASK_LINE = re.compile(
    rb"^\[[^\]]*: (?P<level>[A-Z]+)/[^\]]*\] Task (?P<name>[\w.:-]+)\[[^\]]+\] "
    rb"(?:(?P<received>received)|succeeded in \S+: (?P<result>.*)"
    rb"|(?P<retry>retry): .*|(?P<raised>raised (?:un)?expected|INTERNAL ERROR): .*)$"
)
# Beat logs one line per task it sends: "[time: INFO/MainProcess] Scheduler: Sending due task … (name)".
_BEAT_SEND = re.compile(rb"^\[[^\]]*: INFO/[^\]]*\] Scheduler: Sending due task .*\((?P<name>[\w.:-]+)\)$")


class TaskSummary:
    """Counts what the worker did and beat sent, from their log lines, instead of printing a line each."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.printed: Counter[str] = Counter()

    def count(self, line: bytes) -> bool:
        """Whether ``line`` is one of those summarised (then it is not printed). Failures are counted and
        printed: they come with the traceback, which is printed too."""
        stripped = line.rstrip(b"\r\n")
        task = _TASK_LINE.match(stripped)
        if task is not None:
            delivery = task["name"].decode() == DELIVERY_TASK
            with self.lock:
                if task["raised"]:
                    self.counts["failed" if delivery else "other failed"] += 1
                    return False
                if task["retry"]:
                    self.counts["retry" if delivery else "other retry"] += 1
                elif task["result"] is not None:
                    if not delivery:
                        self.counts["other done"] += 1
                    elif task["result"].strip(b"'\"") == b"sent":
                        self.counts["delivered"] += 1
                    elif task["result"].strip(b"'\"") == b"retry":
                        self.counts["retry"] += 1
                    else:
                        self.counts["skipped"] += 1
            return task["level"] in (b"INFO", b"DEBUG")
        if _BEAT_SEND.match(stripped):
            with self.lock:
                self.counts["scheduled"] += 1
            return True
        return False

    def text(self) -> str:
        with self.lock:
            counts = Counter(self.counts)
        text = f"notifications: {counts['delivered']:,} delivered, {counts['failed']:,} failed"
        if counts["retry"]:
            text += f", {counts['retry']:,} to retry"
        if counts["skipped"]:
            text += f", {counts['skipped']:,} already handled"
        other = counts["other done"] + counts["other failed"] + counts["other retry"]
        if other or counts["scheduled"]:
            text += f"; other tasks: {counts['other done']:,} done, {counts['other failed']:,} failed"
            text += f" ({counts['scheduled']:,} sent by beat)"
        return text

    def changed(self) -> bool:
        with self.lock:
            return self.counts != self.printed

    def mark_printed(self) -> None:
        with self.lock:
            self.printed = Counter(self.counts)


def _load_libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


LIBC = _load_libc()


def _die_with_parent(parent_pid: int) -> None:
    """Runs in the child before exec: have Linux send it SIGTERM if the runner is killed outright, since
    SIGKILL leaves the runner no chance to stop children that live in sessions of their own."""
    if LIBC is not None and hasattr(LIBC, "prctl"):
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the runner died before prctl took effect
        os._exit(1)


class Child:
    def __init__(
        self,
        name: str,
        label: str,
        argv: list[str],
        *,
        ready_marker: bytes | None = None,
        summary: TaskSummary | None = None,
    ) -> None:
        self.name = name
        self.label = label
        self.argv = argv
        self.ready_marker = ready_marker
        self.summary = summary  # counts the lines it summarises instead of their being printed
        self.ready = threading.Event()
        self.popen: subprocess.Popen | None = None
        self.reader: threading.Thread | None = None

    def start(self, env: dict[str, str]) -> None:
        # The arguments are built in this module from sys.executable and fixed strings, never from input.
        self.popen = subprocess.Popen(  # noqa: S603
            self.argv,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=partial(_die_with_parent, os.getpid()),
        )
        self.reader = threading.Thread(target=self.forward_output, name=f"{self.name}-output", daemon=True)
        self.reader.start()
        log(f"started the {self.label} (pid {self.popen.pid}): {' '.join(self.argv[1:])}")

    def forward_output(self) -> None:
        for line in iter(self.popen.stdout.readline, b""):
            if self.ready_marker is not None and self.ready_marker in line:
                self.ready.set()
            if self.summary is None or not self.summary.count(line):
                emit(self.name, line)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def exited(self) -> bool:
        return self.popen is not None and self.popen.poll() is not None

    def status(self) -> str:
        code = self.popen.returncode
        return f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"

    def terminate(self) -> None:
        # The main process only: the Celery worker stops its own pool once the running task is done.
        if self.popen is not None and not self.exited():
            self.popen.send_signal(signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> None:
        if self.popen is None:
            return
        while not self.exited() and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        if not self.exited():
            log(f"the {self.label} (pid {self.pid}) did not stop in time: killing it.")
        # Whatever is left in the group goes too. The group id cannot be reused while a member lives,
        # so this never reaches an unrelated process.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait()
        self.reader.join(timeout=2)


class Runner:
    def __init__(
        self,
        children: list[Child],
        *,
        host: str,
        port: int,
        logins: Path | None,
        summary: TaskSummary | None = None,
    ) -> None:
        self.children = children  # in start order; stopped in reverse
        self.host = host
        self.port = port
        self.logins = logins
        self.summary = summary
        self.signals: list[int] = []
        self.up = False  # the banner is out: summaries from now on
        self.summary_at = 0.0

    def on_signal(self, signum: int, _frame: object) -> None:
        self.signals.append(signum)

    def dead_child(self) -> Child | None:
        return next((child for child in self.children if child.exited()), None)

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.on_signal)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        try:
            for child in self.children:
                if not self.signals:
                    child.start(env)
            self.wait_until_ready()
            while not self.signals:
                dead = self.dead_child()
                if dead is not None:
                    log(f"the {dead.label} (pid {dead.pid}) {dead.status()} unexpectedly; stopping the others.")
                    self.stop()
                    log(f"stopped: the {dead.label} died.")
                    return 1
                self.show_summary()
                time.sleep(POLL_SECONDS)
        except BaseException:
            self.stop()
            raise
        log(f"received {signal.Signals(self.signals[0]).name}: stopping the web server, beat and the worker.")
        self.stop()
        log("all processes stopped.")
        return 0

    def show_summary(self) -> None:
        """On a terminal the status line follows the counts; elsewhere a line when they changed, at most
        every SUMMARY_SECONDS."""
        if self.summary is None or not self.up:
            return
        now = time.monotonic()
        if console.terminal:
            if now - self.summary_at >= STATUS_REDRAW_SECONDS:
                self.summary_at = now
                console.set_status(f"runner | {self.summary.text()}")
        elif self.summary.changed() and now - self.summary_at >= SUMMARY_SECONDS:
            self.summary_at = now
            self.summary.mark_printed()
            log(self.summary.text())

    def final_summary(self) -> None:
        """The totals as a line of their own, once every child's output has been read."""
        console.close()
        if self.summary is not None and self.up and (console.terminal or self.summary.changed()):
            self.summary.mark_printed()
            log(self.summary.text())

    def web_accepts(self) -> bool:
        address = ("127.0.0.1" if self.host in {"0.0.0.0", ""} else self.host, self.port)  # noqa: S104
        try:
            with socket.create_connection(address, timeout=1):
                return True
        except OSError:
            return False

    def wait_until_ready(self) -> None:
        """Print the URL once the web server answers and the worker and beat say they are up, so the
        banner is not buried under their start-up output."""
        deadline = time.monotonic() + READY_SECONDS
        web_up = False
        while not self.signals and self.dead_child() is None:
            web_up = web_up or self.web_accepts()
            waiting = [child for child in self.children if child.ready_marker and not child.ready.is_set()]
            if web_up and not waiting:
                self.wait_for_quiet()
                self.print_banner()
                self.up = True
                self.summary_at = time.monotonic()
                return
            if time.monotonic() > deadline:
                names = ", ".join([*(["web server"] if not web_up else []), *(child.label for child in waiting)])
                log(f"still not ready after {READY_SECONDS:.0f} s: {names}.")
                return
            time.sleep(POLL_SECONDS)

    def wait_for_quiet(self) -> None:
        """Let the children finish their start-up output, so none of it comes after the banner."""
        deadline = time.monotonic() + QUIET_MAX_SECONDS
        while time.monotonic() < deadline and not self.signals and self.dead_child() is None:
            if time.monotonic() - console.last_line_at >= QUIET_SECONDS:
                return
            time.sleep(POLL_SECONDS)

    def print_banner(self) -> None:
        lines = ["", "=" * 72, f"Thi đua is running at http://{self.host}:{self.port}/", ""]
        logins = self.logins.read_text().strip() if self.logins and self.logins.is_file() else ""
        if logins:
            lines += ["Demo data and log-ins (from manage.py seed_demo):"]
            lines += [f"  {line}" for line in logins.splitlines()]
        else:
            lines += ["Demo log-ins: `.venv/bin/python manage.py seed_demo` creates the demo users and prints them."]
        lines += ["", "The web server, a Celery worker and beat are running. Press Ctrl-C to stop all three.", "=" * 72]
        for line in lines:
            log(line)

    def stop(self) -> None:
        """SIGTERM in order, then one grace period for all: the worker's warm shutdown alone takes
        4-7 s, so waiting for each in turn would double the time Ctrl-C takes."""
        for child in reversed(self.children):
            child.terminate()
        deadline = time.monotonic() + GRACE_SECONDS
        for child in reversed(self.children):
            child.wait_or_kill(deadline)
        self.final_summary()


def build_children(*, host: str, port: int, var_dir: Path, summary: TaskSummary | None = None) -> list[Child]:
    run_dir = var_dir / "run"
    # kombu's filesystem transport (used when REDIS_URL is unset) needs its folders before worker or beat.
    for folder in (run_dir, var_dir / "broker" / "queue", var_dir / "broker" / "control"):
        folder.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "config"]
    worker = [*celery, "worker", "--concurrency=1", "--loglevel=INFO"]
    beat = [
        *celery,
        "beat",
        "--scheduler=django_celery_beat.schedulers:DatabaseScheduler",
        "--loglevel=INFO",
        f"--pidfile={run_dir / 'celerybeat.pid'}",
        f"--schedule={run_dir / 'celerybeat-schedule'}",
    ]
    web = [python, "manage.py", "runserver", f"{host}:{port}", "--noreload", "--insecure"]
    return [
        Child("worker", "Celery worker", worker, ready_marker=b" ready.", summary=summary),
        Child("beat", "Celery beat", beat, ready_marker=b"beat: Starting...", summary=summary),
        Child("web", "web server", web),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.devserver", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--logins", type=Path, help="a file with the demo log-ins, repeated once all is up")
    args = parser.parse_args(argv)
    var_dir = Path(os.environ.get("THIDUA_VAR_DIR") or BASE_DIR / "var").resolve()
    # The children run in BASE_DIR: hand them the folder as resolved here, where the caller meant it.
    os.environ["THIDUA_VAR_DIR"] = str(var_dir)
    summary = TaskSummary()
    children = build_children(host=args.host, port=args.port, var_dir=var_dir, summary=summary)
    return Runner(children, host=args.host, port=args.port, logins=args.logins, summary=summary).run()


if __name__ == "__main__":
    sys.exit(main())
