"""The table ``make bench`` prints and writes to docs/performance.md, with the targets of issue 10."""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass, field
from datetime import datetime

from tests.perf.decisions import RunResult
from tests.perf.inbox import Built, Timing
from tests.perf.tracker import FILTERS, OVERDUE, SEARCH


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least ``q`` of the values at or below it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def per_second(value: float) -> str:
    return f"{value:.1f}/s"


def p50(values: list[float]) -> str:
    return ms(percentile(values, 0.50))


def p95(values: list[float]) -> str:
    return ms(percentile(values, 0.95))


def row(*cells) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


@dataclass
class Pooled:
    """Runs of one flow at one concurrency, taken together."""

    runs: list[RunResult]

    @property
    def rate(self) -> float:
        seconds = sum(run.seconds for run in self.runs)
        return sum(run.decisions for run in self.runs) / seconds if seconds else 0.0

    @property
    def latencies(self) -> list[float]:
        return [value for run in self.runs for value in run.latencies]

    @property
    def statements(self) -> list[int]:
        return [value for run in self.runs for value in run.statements]

    @property
    def decisions(self) -> int:
        return sum(run.decisions for run in self.runs)


@dataclass
class Report:
    started: datetime
    command: str
    machine: dict
    sizes: dict
    decisions: dict[tuple[str, int], list[RunResult]] = field(default_factory=dict)
    inbox_built: Built | None = None
    inbox: dict[str, Timing] = field(default_factory=dict)
    reminder: dict = field(default_factory=dict)
    tracker_built: object = None
    tracker: dict[str, Timing] = field(default_factory=dict)

    @staticmethod
    def tracker_query(name: str) -> str:
        query = {
            "search": {"q": SEARCH},
            "filtered": {**FILTERS, "unit": "<city>", "award_form": "<city form>"},
            "overdue": OVERDUE,
        }[name]
        return "&".join(f"{key}={value}" for key, value in query.items()).replace(" ", "+")

    def pooled(self, flow: str, processes: int) -> Pooled:
        return Pooled(self.decisions.get((flow, processes), []))

    def targets(self) -> list[tuple[str, str, bool]]:
        rows = []
        for processes in (1, 2):
            bare, product = self.pooled("bare", processes), self.pooled("product", processes)
            ratio = product.rate / bare.rate if bare.rate else 0.0
            rows.append(
                (
                    f"service layer ≥ 0.9× bare viewflow, {processes} process{'es' if processes > 1 else ''}",
                    f"{ratio:.2f}×",
                    ratio >= 0.9,
                )
            )
        counted = self.pooled("product", 1).statements + self.pooled("product", 2).statements
        most = max(counted) if counted else 0
        rows.append(("≤ 20 statements per decision (every counted decision)", f"{most} at most", most <= 20))
        http = self.pooled("http", 2)
        if http.runs:
            tail = percentile(http.latencies, 0.95)
            rows.append(("HTTP p95 ≤ 100 ms", ms(tail), tail <= 0.100))
            service = self.pooled("product", 2).rate
            ratio = http.rate / service if service else 0.0
            rows.append(("HTTP ≥ 0.7× the service layer's rate (2 processes)", f"{ratio:.2f}×", ratio >= 0.7))
        for name, limit in (("typical", 0.010), ("heavy", 0.050)):
            if name in self.inbox:
                tail = percentile(self.inbox[name].latencies, 0.95)
                rows.append((f"inbox p95 ≤ {limit * 1000:.0f} ms, {name} approver", ms(tail), tail <= limit))
        for name in ("search", "filtered", "overdue"):
            if name in self.tracker:
                tail = percentile(self.tracker[name].latencies, 0.95)
                rows.append((f"tracker p95 ≤ 100 ms, {name}", ms(tail), tail <= 0.100))
        if "scan" in self.reminder:
            rows.append(
                ("reminder scan ≤ 2 s (DESIGN.md)", f"{self.reminder['scan']:.3f} s", self.reminder["scan"] <= 2)
            )
        return rows

    def render(self) -> str:
        m, s = self.machine, self.sizes
        lines = [
            "# Performance",
            "",
            "Written by `make bench` (`tests/perf/`); run it again to refresh this page. Every figure comes from",
            "one run on one PostgreSQL database.",
            "",
            f"- Date: {self.started:%Y-%m-%d %H:%M %Z}".rstrip(),
            f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM; {m['os']}; load average "
            f"{m['load_before']} before the run, {load_average()} at its end (other work on the machine shows here)",
            f"- PostgreSQL {m['postgres']} ({m['where']}); fsync {m['fsync']}, synchronous_commit "
            f"{m['synchronous_commit']}, shared_buffers {m['shared_buffers']}",
            f"- Python {platform.python_version()}; broker: {m['broker']}",
            f"- Command: `{self.command}`",
            "",
            "## Decisions: service layer against bare viewflow",
            "",
            f"Bare viewflow: {s['bare_steps']} View tasks in a row (`tests/perf/bare_flow.py`), completed with "
            "`activation.start(None); activation.execute()` under `SelectForUpdateLock(nowait=False)`. Product: "
            '`nomination_decide(action="approve")` along the city chain of the factories\' city form. Every timed '
            "decision is committed and opens the next step (checked). "
            f"Per process and run: {s['bare_cases']} bare cases with {s['bare_rounds']} timed decisions each, "
            f"{s['cases']} product cases with {s['product_rounds']} each, after {s['warmup']} warm-up case(s); "
            "runs alternate bare, product at 1 process, then at 2, then the product over HTTP (below), and "
            "the whole sequence twice. "
            "Statements are counted on the warm-up decisions (BEGIN, COMMIT and savepoints included).",
            "",
            "| flow | processes | decisions/s (run 1, run 2) | p50 | p95 | statements per decision (range) |",
            "|---|---|---|---|---|---|",
        ]
        for processes in (1, 2):
            for flow, label in (("bare", "bare viewflow"), ("product", "product service layer")):
                pooled = self.pooled(flow, processes)
                if not pooled.runs:
                    continue
                each = ", ".join(f"{run.rate:.1f}" for run in pooled.runs)
                counts = pooled.statements
                statements = f"{sum(counts) / len(counts):.1f} ({min(counts)}–{max(counts)})" if counts else "n/a"
                rate = f"{per_second(pooled.rate)} ({each})"
                lines.append(row(label, processes, rate, p50(pooled.latencies), p95(pooled.latencies), statements))
        for processes in (1, 2):
            bare, product = self.pooled("bare", processes), self.pooled("product", processes)
            if bare.rate:
                lines.append(row("product ÷ bare", processes, f"{product.rate / bare.rate:.2f}×", "", "", ""))
        http = self.pooled("http", 2)
        if http.runs:
            service = self.pooled("product", 2).rate
            lines += [
                "",
                "## Decisions over HTTP",
                "",
                "The product under gunicorn (2 sync workers, production settings), driven from another process by "
                "2 client threads with keep-alive connections, each holder logged in (session and CSRF cookies); "
                f"{s['http_cases']} cases per run, {s['product_rounds']} approvals each, posted to "
                "`/nominations/<pk>/steps/<task_id>/decide/`; a decision counts only when answered by the redirect "
                "to the case.",
                "",
                "| route | decisions/s (run 1, run 2) | p50 | p95 | ÷ service layer at 2 processes |",
                "|---|---|---|---|---|",
                row(
                    "HTTP, gunicorn 2 workers",
                    f"{per_second(http.rate)} ({', '.join(f'{run.rate:.1f}' for run in http.runs)})",
                    p50(http.latencies),
                    p95(http.latencies),
                    f"{http.rate / service:.2f}×" if service else "n/a",
                ),
            ]
        if self.inbox:
            built = self.inbox_built
            lines += [
                "",
                "## Inbox",
                "",
                f"`inbox_page(user=…, size={s['page_size']})`, {s['inbox_calls']} calls each after a warm-up, with "
                f"{built.open_tasks:,} open and {built.finished_tasks:,} finished tasks in the database "
                f"(built in {built.seconds:.0f} s by cloning two real cases, `tests/perf/inbox.py`).",
                "",
                "| approver | open tasks | rows on the page | p50 | p95 | statements |",
                "|---|---|---|---|---|---|",
            ]
            for name, held in (("typical", s["typical"]), ("heavy", s["heavy"])):
                timing = self.inbox[name]
                lines.append(
                    row(name, f"{held:,}", timing.rows, p50(timing.latencies), p95(timing.latencies), timing.statements)
                )
        if self.tracker:
            built = self.tracker_built
            lines += [
                "",
                "## Case tracker",
                "",
                "The tracker's page as `/cases/` reads it (`processes.filters.TrackerFilter` over the Board officer's "
                f"scope, then `tracker_page`, 50 rows), {self.sizes.get('tracker_calls', 0)} calls each after a "
                "warm-up, "
                f"with {built.nominations:,} nominations in the database ({built.cloned:,} cloned for it, every "
                f"nominee renamed; `tests/perf/tracker.py`, {built.seconds:.0f} s). Search: "
                f"`{self.tracker_query('search')}`; filtered: `{self.tracker_query('filtered')}`; overdue: "
                f"`{self.tracker_query('overdue')}`.",
                "",
                "| query | rows on the page | p50 | p95 | statements |",
                "|---|---|---|---|---|",
            ]
            for name, timing in self.tracker.items():
                lines.append(row(name, timing.rows, p50(timing.latencies), p95(timing.latencies), timing.statements))
        if self.reminder:
            r = self.reminder
            lines += [
                "",
                "## Reminder scan",
                "",
                "`manage.py bench_reminder_scan` in its own throw-away database on the same server.",
                "",
                "| open tasks | baseline read | scan (to commit) | commit and publish | scan again |",
                "|---|---|---|---|---|",
                f"| {r['tasks']:,} | {r['baseline']:.3f} s | {r['scan']:.3f} s ({r['rows']:,} outbox rows) | "
                f"{r['published']:.3f} s | {r['again']:.3f} s |",
            ]
        lines += ["", "## Targets (issues 10 and 11)", "", "| target | measured | |", "|---|---|---|"]
        lines += [row(name, value, "met" if ok else "NOT met") for name, value, ok in self.targets()]
        return "\n".join(lines) + "\n"


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def machine(cursor, where: str, broker: str) -> dict:
    def proc(path: str, key: str) -> str:
        try:
            with open(path) as handle:
                for line in handle:
                    if line.startswith(key):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "unknown"

    ram = proc("/proc/meminfo", "MemTotal")
    if ram.endswith(" kB"):
        ram = f"{int(ram.split()[0]) / 1024 / 1024:.1f} GiB"
    settings = {}
    for name in ("server_version", "fsync", "synchronous_commit", "shared_buffers"):
        cursor.execute(f"SHOW {name}")
        settings[name] = cursor.fetchone()[0]
    return {
        "cpu": proc("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "ram": ram,
        "os": platform.platform(terse=True),
        "postgres": settings["server_version"],
        "fsync": settings["fsync"],
        "synchronous_commit": settings["synchronous_commit"],
        "shared_buffers": settings["shared_buffers"],
        "where": where,
        "broker": broker,
        "load_before": load_average(),
    }
