"""Races and faults on PostgreSQL, each actor a separate process on its own connection: eight deciders on
one step, two editors on one version, a connection killed in the middle of a decision. Short in
`make test`; THIDUA_LONG=1 runs the long variants (`make faults`, which writes docs/reliability.md)."""

import io
import os
import time
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection

from processes.models import Nomination, Role
from tests.factories import UserFactory, approve_until, holders, make_nomination, member, open_step, submitted
from tests.faults.deciders import RESULTS, Deciders, Figures
from workflow.approvals import current_process, open_tasks
from workflow.audit import audit_entries_for
from workflow.models import ApprovalTask

LONG = os.environ.get("THIDUA_LONG") == "1"
DECIDERS = 8
# THIDUA_ROUNDS overrides the deciders' rounds (a shorter long run, to measure the rate first).
DECIDER_ROUNDS = int(os.environ.get("THIDUA_ROUNDS") or (1000 if LONG else 20))
EDIT_ROUNDS = 200 if LONG else 10
DROP_ROUNDS = 50 if LONG else 3
REFUSALS = {"StepClosed", "StepBusy"}


def _verify_audit() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out, stderr=out)  # exits 1 (SystemExit) on a broken chain
    return out.getvalue()


def _board_officers(org, count):
    officers = [org.board_officer]
    for n in range(count - 1):
        officer = UserFactory(username=f"board_officer_{n}")
        member(officer, org.board, Role.MEMBER)
        officers.append(officer)
    return officers


def _step_approvals(nomination, step):
    return audit_entries_for(nomination).filter(action="processes.nomination.step_approved", data__step=step)


@pytest.mark.postgres
def test_eight_deciders_on_one_step_make_one_decision_one_next_task_one_entry_per_round(org):
    officers = _board_officers(org, DECIDERS)
    cases = [approve_until(submitted(org), "board_intake") for _ in range(DECIDER_ROUNDS)]
    tasks = [open_step(case) for case in cases]
    assert all(sorted(holders(task), key=lambda user: user.pk) == officers for task in tasks)
    figures = Figures(f"{DECIDERS} deciders on one step")
    started = time.perf_counter()
    with Deciders(officers) as deciders:
        for case, task in zip(cases, tasks, strict=True):
            outcomes = deciders.round(task.pk)
            kinds = Counter(outcome["outcome"] for outcome in outcomes)
            figures.outcomes.update(kinds)
            figures.rounds += 1
            assert kinds["ok"] == 1, outcomes
            assert set(kinds) - {"ok"} <= REFUSALS, outcomes  # told cleanly: no crash, no other error
            decided = ApprovalTask.objects.get(pk=task.pk)
            assert decided.action == "approve"
            assert decided.decided_by in officers
            (following,) = open_tasks(process=current_process(case))
            assert following.step.code == "board_appraisal"
            assert [entry.actor for entry in _step_approvals(case, "board_intake")] == [decided.decided_by]
    figures.seconds = time.perf_counter() - started
    assert figures.outcomes["ok"] == DECIDER_ROUNDS
    assert "All audit chains verify." in _verify_audit()
    figures.notes.append(f"{DECIDER_ROUNDS} decisions, {DECIDER_ROUNDS} next tasks, verify_audit passed")
    RESULTS.append(figures)


@pytest.mark.postgres
def test_two_editors_of_one_version_one_wins_the_other_gets_a_conflict_and_nothing_is_lost(org):
    editors = [org.hospital_secretary, org.hospital_head]
    case = make_nomination(org)
    figures = Figures("2 editors on one version")
    started = time.perf_counter()
    with Deciders(editors) as processes:
        for round_number in range(EDIT_ROUNDS):
            seen = Nomination.objects.get(pk=case.pk)
            updates = audit_entries_for(case).filter(action="processes.nomination.updated").count()
            texts = [f"round-{round_number}-by-{editor.username}" for editor in editors]
            outcomes = processes.all([f"edit {case.pk} {seen.version} {text}" for text in texts])
            kinds = [outcome["outcome"] for outcome in outcomes]
            figures.outcomes.update(kinds)
            figures.rounds += 1
            assert sorted(kinds) == ["StaleObject", "ok"], outcomes
            winner = texts[kinds.index("ok")]
            now = Nomination.objects.get(pk=case.pk)
            assert (now.achievement_summary, now.version) == (winner, seen.version + 1)
            assert audit_entries_for(case).filter(action="processes.nomination.updated").count() == updates + 1
            assert "after you opened it" in outcomes[kinds.index("StaleObject")]["message"]
    figures.seconds = time.perf_counter() - started
    assert "All audit chains verify." in _verify_audit()
    figures.notes.append("the loser told who changed it; the winner's text kept; verify_audit passed")
    RESULTS.append(figures)


@pytest.mark.postgres
def test_a_connection_dropped_mid_decision_is_an_error_leaves_nothing_half_written_and_a_retry_succeeds(org):
    cases = [approve_until(submitted(org), "board_intake") for _ in range(DROP_ROUNDS)]
    figures = Figures("connection killed mid-decision, then retried")
    started = time.perf_counter()
    with Deciders([org.board_officer]) as deciders:
        (process,) = deciders.processes
        for case in cases:
            task = open_step(case)
            before = Nomination.objects.get(pk=case.pk)
            entries = audit_entries_for(case).count()
            deciders.send(process, "pause")
            deciders.send(process, f"decide {task.pk}")
            backend = deciders.read(process)["paused"]  # the step is closed and the next opened, uncommitted
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
                assert cursor.fetchone() == (True,)
            deciders.send(process, "go on")
            failed = deciders.read(process)
            figures.outcomes[failed.get("error", failed["outcome"]).rsplit(".", 1)[-1]] += 1
            assert failed["outcome"] == "crash", failed  # an error, never a success that was not written
            assert failed["error"] in {"django.db.utils.OperationalError", "django.db.utils.InterfaceError"}
            # Nothing half-written: the step open again, no next task, no entry, the case as it was.
            assert ApprovalTask.objects.get(pk=task.pk).action == ""
            assert list(open_tasks(process=current_process(case))) == [task]
            assert audit_entries_for(case).count() == entries
            now = Nomination.objects.get(pk=case.pk)
            assert (now.stage, now.version) == (before.stage, before.version)

            deciders.send(process, "reconnect")  # what the end of the failed request does
            (retried,) = deciders.round(task.pk)
            figures.outcomes["retry " + retried["outcome"]] += 1
            figures.rounds += 1
            assert retried["outcome"] == "ok", retried
            assert open_step(case).step.code == "board_appraisal"
            assert _step_approvals(case, "board_intake").count() == 1
    figures.seconds = time.perf_counter() - started
    assert "All audit chains verify." in _verify_audit()
    figures.notes.append("no decision without its entry, no next task without the decision; verify_audit passed")
    RESULTS.append(figures)
