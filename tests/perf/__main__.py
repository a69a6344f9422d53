"""``make bench``: every benchmark of issue 10 in one run on one PostgreSQL database.

    python -m tests.perf [--cases 60] [--output docs/performance.md] [--smoke]

The database is ``DATABASE_URL``'s server (a new database, dropped afterwards) or a throw-away
cluster (``server.py``). In order: the decisions of a bare viewflow flow and of the product's service
layer at 1 and 2 processes (``decisions.py``) and over HTTP under gunicorn (``over_http.py``),
alternated, twice; the inbox with 1.1 million tasks (``inbox.py``); the reminder scan
(``manage.py bench_reminder_scan``). Then the table, with the targets met or not, is printed and
written to ``--output``.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMOKE = {
    "cases": 3,
    "bare_cases": 3,
    "warmup": 1,
    "http_cases": 4,
    "open_tasks": 400,
    "finished_tasks": 2000,
    "heavy": 120,
    "inbox_calls": 10,
    "reminder_tasks": 300,
    "tracker_nominations": 1000,
    "tracker_calls": 10,
}


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.perf", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=60, help="product cases per worker process per run")
    parser.add_argument(
        "--bare-cases", type=int, default=180, help="bare flow cases per worker process per run (it runs faster)"
    )
    parser.add_argument("--warmup", type=int, default=2, help="warm-up cases per worker process")
    parser.add_argument("--http-cases", type=int, default=60)
    parser.add_argument("--open-tasks", type=int, default=100_000)
    parser.add_argument("--finished-tasks", type=int, default=1_000_000)
    parser.add_argument("--heavy", type=int, default=20_000, help="open tasks of the heavy approver")
    parser.add_argument("--inbox-calls", type=int, default=200)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--reminder-tasks", type=int, default=100_000)
    parser.add_argument(
        "--tracker-nominations", type=int, default=200_000, help="nominations at least, for the tracker"
    )
    parser.add_argument("--tracker-calls", type=int, default=100)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--smoke", action="store_true", help="tiny data: checks that every row is produced")
    args = parser.parse_args(argv)
    if args.smoke:
        for name, value in SMOKE.items():
            setattr(args, name, value)
    return args


def say(text: str) -> None:
    print(text, flush=True)


def command_line(argv: list[str]) -> str:
    python = f"python -m tests.perf {shlex.join(argv)}".strip()
    return f"make bench  # {python}" if os.environ.get("MAKELEVEL") else python


def main(argv: list[str]) -> int:
    args = arguments(argv)
    # A stop (TERM) unwinds like Ctrl-C, so the cluster and the temporary folder are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from tests.perf.server import bench_database

    started = datetime.now().astimezone()
    command = command_line(argv)
    scratch = Path(tempfile.mkdtemp(prefix="thidua-bench-"))
    try:
        with bench_database() as database:
            os.environ.update(
                DATABASE_URL=database.url,
                DJANGO_SETTINGS_MODULE="tests.perf.settings",
                THIDUA_VAR_DIR=str(scratch / "var"),
                DJANGO_DEBUG="false",
            )
            # Never a shared Redis: a worker of another run would take the bench's messages. Publishing
            # stays in every decision, to kombu's filesystem broker in the bench's folder.
            os.environ.pop("REDIS_URL", None)
            return measure(args, database, scratch, started, command)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def measure(args, database, scratch: Path, started: datetime, command: str) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from tests import factories
    from tests.perf import decisions, inbox, over_http, tracker
    from tests.perf.report import Report, machine, p50, p95, per_second

    say(f"database: {database.where}")
    clock = time.perf_counter()
    call_command("migrate", verbosity=0)
    org = factories.build_org()
    with connection.cursor() as cursor:
        facts = machine(cursor, database.where, "kombu filesystem transport in the bench's temporary folder")
    sizes = {
        "cases": args.cases,
        "bare_cases": args.bare_cases,
        "warmup": args.warmup,
        "http_cases": args.http_cases,
        "bare_steps": 6,
        "bare_rounds": decisions.BARE_ROUNDS,
        "product_rounds": decisions.PRODUCT_ROUNDS,
        "page_size": args.page_size,
        "inbox_calls": args.inbox_calls,
        "typical": inbox.TYPICAL,
        "heavy": args.heavy,
        "tracker_calls": args.tracker_calls,
    }
    report = Report(started=started, command=command, machine=facts, sizes=sizes)

    # --- decisions: one list of cases per worker, made up front ---------------------------------------
    # Each pass: bare and product at 1 process, at 2, then the product over HTTP; all of it twice, so
    # that the flows (and HTTP against the service layer) meet the same machine state.
    schedule = [(processes, flow) for processes in (1, 2) for flow in ("bare", "product")]
    per_worker = {"bare": args.bare_cases + args.warmup, "product": args.cases + args.warmup}
    workers = 2 * sum(processes for processes, flow in schedule if flow == "bare")  # two passes
    cases = {
        "bare": decisions.make_bare_cases(workers * per_worker["bare"]),
        "product": decisions.make_product_cases(
            org, workers * per_worker["product"] + 2 * args.http_cases + over_http.CLIENTS
        ),
    }
    say(
        f"made {len(cases['bare']):,} bare and {len(cases['product']):,} product cases "
        f"in {time.perf_counter() - clock:.0f} s"
    )
    connections.close_all()

    def take(flow: str, count: int) -> list[int]:
        taken, cases[flow] = cases[flow][:count], cases[flow][count:]
        return taken

    with over_http.gunicorn(dict(os.environ), scratch / "gunicorn.log") as port:
        driver = over_http.Driver(port)
        for number in (1, 2):
            for processes, flow in schedule:
                ids, warm = [], []
                for _ in range(processes):
                    mine = take(flow, per_worker[flow])
                    warm.append(mine[: args.warmup])
                    ids.append(mine[args.warmup :])
                result = decisions.run(flow, ids, warm)
                report.decisions.setdefault((flow, processes), []).append(result)
                say(
                    f"run {number}: {flow:7} × {processes} process{'es' if processes > 1 else '  '}: "
                    f"{per_second(result.rate):>9}  p50 {p50(result.latencies)}  "
                    f"p95 {p95(result.latencies)}  statements {result.statements}"
                )
            warm = take("product", over_http.CLIENTS) if number == 1 else []
            result = driver.run(take("product", args.http_cases), warm)
            report.decisions.setdefault(("http", over_http.WORKERS), []).append(result)
            say(
                f"run {number}: HTTP, gunicorn {over_http.WORKERS} workers: {per_second(result.rate):>9}  "
                f"p50 {p50(result.latencies)}  p95 {p95(result.latencies)}"
            )

    # --- inbox --------------------------------------------------------------------------------------
    say(f"inbox: building {args.open_tasks:,} open and {args.finished_tasks:,} finished tasks")
    built = inbox.build(org, open_tasks=args.open_tasks, finished_tasks=args.finished_tasks, heavy=args.heavy, say=say)
    inbox.check(built, heavy=args.heavy, size=args.page_size)
    report.inbox_built = built
    for name, user in (("typical", built.typical), ("heavy", built.heavy)):
        timing = inbox.measure(user, calls=args.inbox_calls, size=args.page_size)
        report.inbox[name] = timing
        say(f"inbox, {name}: p50 {p50(timing.latencies)}  p95 {p95(timing.latencies)}  {timing.statements} statements")
    connections.close_all()

    # --- the case tracker ---------------------------------------------------------------------------
    say(f"tracker: at least {args.tracker_nominations:,} nominations")
    report.tracker_built = tracker.build(org, nominations=args.tracker_nominations, say=say)
    tracker.check(org, org.board_officer)
    for name, query in (
        ("search", {"q": tracker.SEARCH}),
        ("filtered", tracker.filters(org)),
        ("overdue", tracker.OVERDUE),
    ):
        timing = tracker.measure(org.board_officer, query, calls=args.tracker_calls)
        report.tracker[name] = timing
        say(
            f"tracker, {name}: p50 {p50(timing.latencies)}  p95 {p95(timing.latencies)}  {timing.statements} statements"
        )
    connections.close_all()

    # --- the reminder scan, in its own throw-away database beside this one ---------------------------
    report.reminder = reminder_scan(args.reminder_tasks)
    say(f"reminder scan: {report.reminder['scan']:.3f} s for {args.reminder_tasks:,} open tasks")

    text = report.render()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    say("")
    say(text)
    say(f"written to {args.output} ({time.perf_counter() - clock:.0f} s in all)")
    return 0


def reminder_scan(tasks: int) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "bench_reminder_scan", "--tasks", str(tasks)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench_reminder_scan failed:\n{result.stderr[-3000:]}")
    out = result.stdout

    def seconds(pattern: str) -> float:
        found = re.search(pattern, out, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"bench_reminder_scan printed no line like {pattern!r}:\n{out}")
        return float(found.group(1))

    rows = re.search(r"^scan: ([\d,]+) outbox rows", out, re.MULTILINE)
    return {
        "tasks": tasks,
        "baseline": seconds(r"^baseline: .* in ([\d.]+) s"),
        "scan": seconds(r"^scan: .* written in ([\d.]+) s"),
        "rows": int(rows.group(1).replace(",", "")) if rows else 0,
        "published": seconds(r"committed and published in ([\d.]+) s"),
        "again": seconds(r"^scan again: .* in ([\d.]+) s"),
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
