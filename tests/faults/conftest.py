"""The figures of the race and fault runs: printed after the tests, and written to the file named by
THIDUA_RELIABILITY_REPORT (`make faults` names docs/reliability.md)."""

import os
import platform
import sys
from datetime import datetime
from pathlib import Path

from tests.faults.deciders import RESULTS

HEADER = "| Scenario | Rounds | Outcomes | Time (rounds only) | Checked |"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not RESULTS:
        return
    terminalreporter.section("races and faults: figures")
    terminalreporter.write_line(HEADER)
    for figures in RESULTS:
        terminalreporter.write_line(figures.line())
    target = os.environ.get("THIDUA_RELIABILITY_REPORT")
    if target and exitstatus == 0:
        Path(target).write_text(report(config), encoding="utf-8")
        terminalreporter.write_line(f"wrote {target}")


def report(config) -> str:
    names = ("THIDUA_LONG", "THIDUA_ROUNDS")
    command = "".join(f"{name}={os.environ[name]} " for name in names if os.environ.get(name))
    command += "pytest " + " ".join(config.invocation_params.args)
    cpus = os.cpu_count()
    lines = [
        "# Reliability: races and faults survived",
        "",
        "Written by `make faults` (tests/faults/, PostgreSQL, each actor a separate process on its own",
        "connection). Every round is checked as it ends: one decision, one next task, one audit entry, the",
        "others refused cleanly (StepClosed or StepBusy); `verify_audit` passes after each scenario. A failed",
        "check fails the run, and a failed run writes nothing here.",
        "",
        f"- Date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"- Machine: {platform.node()}, {platform.machine()}, {cpus} CPU(s), {platform.system()} {platform.release()},"
        f" Python {sys.version.split()[0]}",
        f"- Command: `{command}`",
        "",
        HEADER,
        "|---|---|---|---|---|",
        *(figures.line() for figures in RESULTS),
        "",
        "Outcomes: `ok` a decision or edit carried out; `StepClosed` told who decided the step and when;",
        "`StepBusy` told someone else is deciding it right now; `StaleObject` told the case changed after it",
        "was opened; `OperationalError` the decider's connection was terminated (pg_terminate_backend) while",
        "it held the case's lock, just before its audit entry, and the retry (`retry ok`) then succeeded.",
        "",
    ]
    return "\n".join(lines)
