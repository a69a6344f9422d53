"""Fifty signers at once, each in its own process and on its own connection, signing fifty cases of one
issuer: the numbers are 1 to 50, each once (PostgreSQL; SQLite has no row locks to test)."""

import json
import os
import subprocess
import sys
import threading
from datetime import date

import pytest

from processes.models import AwardDecision, Decision, DecisionCounter
from tests.factories import approve_until, open_step, submitted
from tests.workflow.test_approval_chains import ROOT, child_database_url

SIGNERS = 50
MONDAY = date(2026, 11, 23)

SIGNER = """
import json, sys
from datetime import date
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import translation
from processes import services
from workflow.errors import WorkflowError

user = get_user_model().objects.get(pk=int(sys.argv[2]))
connection.ensure_connection()
print("ready", flush=True)
sys.stdin.readline()
with translation.override("en"):
    try:
        document = services.decision_sign(
            by=user, task_ids=[int(sys.argv[1])], signed_on=date.fromisoformat(sys.argv[3])
        )
        outcome = {"outcome": "ok", "number": document.sequence, "task": int(sys.argv[1])}
    except WorkflowError as exc:
        outcome = {"outcome": type(exc).__name__, "message": str(exc)}
connection.close()
print(json.dumps(outcome), flush=True)
"""


@pytest.mark.postgres
def test_fifty_concurrent_signings_get_fifty_distinct_gapless_numbers(org):
    cases = [approve_until(submitted(org)) for _ in range(SIGNERS)]
    tasks = [open_step(case).pk for case in cases]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": child_database_url()}
    signers = [
        subprocess.Popen(
            [sys.executable, "-c", SIGNER, str(task_id), str(org.chairman.pk), MONDAY.isoformat()],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for task_id in tasks
    ]
    watchdog = threading.Timer(300, lambda: [signer.kill() for signer in signers])  # a hung child
    watchdog.start()
    try:
        for signer in signers:  # the barrier: every child connected and waiting
            assert signer.stdout.readline().strip() == "ready", signer.stderr.read()
        for signer in signers:
            signer.stdin.write("go\n")
            signer.stdin.flush()
        outcomes = []
        for signer in signers:
            out, err = signer.communicate(timeout=240)
            assert signer.returncode == 0, err
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        watchdog.cancel()
        for signer in signers:
            if signer.poll() is None:
                signer.kill()

    assert [outcome["outcome"] for outcome in outcomes] == ["ok"] * SIGNERS, outcomes
    assert sorted(outcome["number"] for outcome in outcomes) == list(range(1, SIGNERS + 1))
    documents = AwardDecision.objects.filter(issuer=org.city, year=2026)
    assert sorted(documents.values_list("sequence", flat=True)) == list(range(1, SIGNERS + 1))
    assert DecisionCounter.objects.get(issuer=org.city, year=2026).last_number == SIGNERS
    # Each case is on the decision its signer was told about, and on no other.
    told = {outcome["task"]: outcome["number"] for outcome in outcomes}
    listed = dict(Decision.objects.filter(document__in=documents).values_list("nomination_id", "document__sequence"))
    assert listed == {case.pk: told[task_id] for case, task_id in zip(cases, tasks, strict=True)}
