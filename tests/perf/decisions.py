"""Decisions per second: the bare flow against the product's service layer, in separate OS processes.

Each run hands every worker process its own cases. A worker first decides its warm-up cases (the
statements of each of those decisions are counted, BEGIN and COMMIT included), then takes its cases
round by round: it looks up the open task of each case and its holder (not timed), waits for the
other workers at a barrier, and decides every case once, timing each call. The run's time is the sum,
over rounds, of the span from the first worker's start to the last one's end. Each lookup checks that
every case has exactly one open task that nobody decided yet: each measured decision was committed
and opened the next step.

The product is reached only through its public names (``nomination_decide``, the factories'
``build_org``, ``submitted``, ``open_step``, ``holders``), so the same code measures the decision path
however it is built inside.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from dataclasses import dataclass, field

# Rounds measured per case: the decisions that open a next step. The bare flow has six steps (five
# open another); the product's city chain for the factories' city form runs unit_confirm,
# proposer_submit, board_intake, board_appraisal, then the chairman's signing step (no council vote,
# no posting for that form): four approvals open another step, the fifth signs the award.
BARE_ROUNDS = 5
PRODUCT_ROUNDS = 4
BARE_HOLDERS = [f"bench.bare.{number}" for number in range(1, 7)]


@dataclass
class RunResult:
    flow: str  # "bare" or "product"
    processes: int
    decisions: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.decisions / self.seconds if self.seconds else 0.0


class StaleLookup(RuntimeError):
    """A case without exactly one new open task: a decision did not take, or the chain changed."""


# --- the two flows, as a worker sees them ----------------------------------------------------------


class Bare:
    name = "bare"
    rounds = BARE_ROUNDS

    def setup(self) -> None:
        from tests.perf.bare_flow import BareFlow

        BareFlow.hold(BARE_HOLDERS)

    def plan(self, ids: list[int]) -> list[tuple]:
        from viewflow.workflow.models import Task
        from viewflow.workflow.status import STATUS

        rows = Task._default_manager.filter(process_id__in=ids, status=STATUS.ASSIGNED).values_list("process_id", "pk")
        found = dict(rows)
        if sorted(found) != sorted(ids) or len(rows) != len(ids):
            raise StaleLookup(f"bare flow: {len(rows)} open tasks for {len(ids)} processes")
        return [(process_id, found[process_id]) for process_id in ids]

    def key(self, item) -> int:
        return item[1]

    def decide(self, item) -> None:
        from tests.perf.bare_flow import bare_decide

        bare_decide(process_id=item[0], task_id=item[1])


class Product:
    name = "product"
    rounds = PRODUCT_ROUNDS

    def setup(self) -> None:
        pass

    def plan(self, ids: list[int]) -> list[tuple]:
        from processes.models import Nomination
        from tests.factories import holders, open_step

        plan = []
        for pk, nomination in sorted(Nomination._default_manager.in_bulk(ids).items()):
            task = open_step(nomination)
            people = holders(task) if task is not None else []
            if not people:
                raise StaleLookup(f"nomination {pk}: no open step with a holder")
            plan.append((task.pk, people[0]))
        if len(plan) != len(ids):
            raise StaleLookup(f"product: {len(plan)} of {len(ids)} nominations found")
        return plan

    def key(self, item) -> int:
        return item[0]

    def decide(self, item) -> None:
        from processes.services import nomination_decide

        nomination_decide(task_id=item[0], by=item[1], action="approve")


FLOWS = {"bare": Bare, "product": Product}


# --- the worker, in its own OS process ---------------------------------------------------------------


def worker(flow_name: str, ids: list[int], warmup_ids: list[int], barrier, results) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    flow = FLOWS[flow_name]()
    flow.setup()
    decided: set[int] = set()

    def fresh_plan(case_ids):
        plan = flow.plan(case_ids)
        again = [flow.key(item) for item in plan if flow.key(item) in decided]
        if again:
            raise StaleLookup(f"{flow_name}: tasks {again[:5]} are still open after their decision")
        return plan

    statements: list[int] = []
    try:
        for index, case in enumerate(warmup_ids):
            for _round in range(flow.rounds):
                (item,) = fresh_plan([case])
                # The first warm-up case fills this process's caches; the others are counted.
                if index or len(warmup_ids) == 1:
                    with CaptureQueriesContext(connection) as queries:
                        flow.decide(item)
                    statements.append(len(queries.captured_queries))
                else:
                    flow.decide(item)
                decided.add(flow.key(item))
        latencies: list[float] = []
        spans: list[tuple[float, float]] = []
        for _round in range(flow.rounds):
            plan = fresh_plan(ids)
            barrier.wait(timeout=600)
            started = time.perf_counter()
            for item in plan:
                before = time.perf_counter()
                flow.decide(item)
                latencies.append(time.perf_counter() - before)
            spans.append((started, time.perf_counter()))
            decided.update(flow.key(item) for item in plan)
        fresh_plan(ids)  # the last round's decisions opened their next steps too
        results.put({"pid": os.getpid(), "latencies": latencies, "spans": spans, "statements": statements})
    except BaseException as exc:
        barrier.abort()
        results.put({"pid": os.getpid(), "error": f"{type(exc).__name__}: {exc}"})
        raise


def run(flow_name: str, cases: list[list[int]], warmups: list[list[int]]) -> RunResult:
    """One run: one worker process per entry of ``cases`` (perf_counter is the system's monotonic
    clock on Linux, so the spans of different processes compare)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(cases))
    results = context.Queue()
    workers = [
        context.Process(target=worker, args=(flow_name, ids, warm, barrier, results), daemon=True)
        for ids, warm in zip(cases, warmups, strict=True)
    ]
    for process in workers:
        process.start()
    reports = []
    while len(reports) < len(workers):
        try:
            reports.append(results.get(timeout=5))
        except queue.Empty:
            # A worker that died without a word (killed, out of memory) would leave the others at the barrier.
            if any(process.exitcode not in (None, 0) for process in workers) and results.empty():
                dead = [process.exitcode for process in workers]
                raise RuntimeError(f"{flow_name} run: a worker died (exit codes {dead})") from None
    for process in workers:
        process.join(timeout=60)
    errors = [report["error"] for report in reports if "error" in report]
    if errors:
        raise RuntimeError(f"{flow_name} run failed: {errors}")
    result = RunResult(flow=flow_name, processes=len(cases))
    for number in range(FLOWS[flow_name].rounds):
        spans = [report["spans"][number] for report in reports]
        result.seconds += max(end for _start, end in spans) - min(start for start, _end in spans)
    for report in reports:
        result.latencies += report["latencies"]
        result.statements += report["statements"]
    result.decisions = len(result.latencies)
    return result


# --- the cases, made before the runs, in the main process ----------------------------------------------


def make_bare_cases(count: int) -> list[int]:
    from django.contrib.auth import get_user_model

    from tests.perf.bare_flow import BareFlow

    User = get_user_model()
    for username in BARE_HOLDERS:
        User._default_manager.get_or_create(username=username)
    BareFlow.hold(BARE_HOLDERS)
    return [BareFlow.start.run().pk for _ in range(count)]


def make_product_cases(org, count: int) -> list[int]:
    from tests.factories import submitted

    return [submitted(org).pk for _ in range(count)]
