"""Deciders in separate processes, each on its own PostgreSQL connection, driven round by round over
pipes; and the figures a run leaves for docs/reliability.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field

from tests.workflow.test_approval_chains import ROOT, child_database_url

# One long-lived decider: a line "decide <task id>" decides that step as this user and answers one JSON
# line; "pause" makes the next decision stop just before its audit entry (its step closed and the next
# opened, uncommitted, the case locked) and wait for a line; "edit <case> <version> <text>" edits the
# case's summary as seen at that version; "reconnect" is a request's end (Django
# drops an unusable connection there); "quit" ends it.
DECIDER = r"""
import json, sys, traceback
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import close_old_connections, connection
from django.utils import translation
from processes import services
from processes.services import decisions, nominations
from workflow.errors import WorkflowError

user = get_user_model().objects.get(pk=int(sys.argv[1]))
connection.ensure_connection()
pause = []


def pausing(original):
    def append(**kwargs):
        if pause:
            pause.clear()
            print(json.dumps({"paused": connection.connection.info.backend_pid}), flush=True)
            sys.stdin.readline()
        return original(**kwargs)
    return append


decisions.audit_append = pausing(decisions.audit_append)
nominations.audit_append = pausing(nominations.audit_append)
print(json.dumps({"ready": connection.connection.info.backend_pid}), flush=True)
for line in sys.stdin:
    command, *rest = line.split()
    if command == "quit":
        break
    if command == "pause":
        pause.append(True)
        continue
    if command == "reconnect":
        close_old_connections()
        continue
    with translation.override("en"):
        try:
            if command == "edit":  # edit <nomination id> <the version seen> <text>
                nomination = nominations.Nomination.objects.get(pk=int(rest[0]))
                services.nomination_update(
                    nomination=nomination, by=user, expected_version=int(rest[1]), achievement_summary=rest[2]
                )
            else:
                services.nomination_decide(task_id=int(rest[0]), by=user, action="approve")
            outcome = {"outcome": "ok"}
        except WorkflowError as exc:
            outcome = {"outcome": type(exc).__name__, "message": str(exc)}
        except Exception as exc:  # a crash: what a web request would show as a 500
            outcome = {"outcome": "crash", "error": type(exc).__module__ + "." + type(exc).__name__,
                       "message": str(exc), "trace": traceback.format_exc()}
    print(json.dumps(outcome), flush=True)
connection.close()
"""


class Deciders:
    """``len(users)`` decider processes; use as a context manager (they are stopped, killed if need be)."""

    def __init__(self, users):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": child_database_url()}
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-c", DECIDER, str(user.pk)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for user in users
        ]
        self.backend_pids = [self.read(process)["ready"] for process in self.processes]

    @staticmethod
    def read(process) -> dict:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"a decider died: {process.stderr.read()}")
        return json.loads(line)

    @staticmethod
    def send(process, line: str) -> None:
        process.stdin.write(line + "\n")
        process.stdin.flush()

    def all(self, lines: list[str]) -> list[dict]:
        """Each process runs its line at once (they are all waiting on their pipe); their answers."""
        for process, line in zip(self.processes, lines, strict=True):
            self.send(process, line)
        return [self.read(process) for process in self.processes]

    def round(self, task_id: int) -> list[dict]:
        return self.all([f"decide {task_id}"] * len(self.processes))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            if process.poll() is None:
                try:
                    self.send(process, "quit")
                    process.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    process.kill()
                    process.wait()


@dataclass
class Figures:
    """What one run of a race or fault scenario did, for the report."""

    scenario: str
    rounds: int = 0
    seconds: float = 0.0
    outcomes: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        outcomes = ", ".join(f"{kind} {count}" for kind, count in sorted(self.outcomes.items()))
        rate = f"{self.rounds / self.seconds:.1f} rounds/s" if self.seconds else "-"
        notes = "; ".join(self.notes)
        return f"| {self.scenario} | {self.rounds} | {outcomes} | {self.seconds:.1f} s ({rate}) | {notes} |"


# Filled by the tests, written by tests/faults/conftest.py when THIDUA_RELIABILITY_REPORT names a file.
RESULTS: list[Figures] = []
