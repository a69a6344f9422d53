"""/metrics: off without configuration, a token or an allowed network to read it, and the figures it
shows (decisions committed, overdue steps, the outbox, Celery outcomes, request latency)."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from celery import shared_task
from django.db import transaction
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from notifications.tasks import heartbeat
from processes import services
from tests.factories import holders, open_step, submitted
from tests.notifications.test_health import _outbox_row

ROOT = Path(__file__).resolve().parents[2]
URL = "/metrics"
TOKEN = "a-long-random-scrape-token"


@shared_task(name="tests.metrics.always_fails")
def always_fails():
    raise RuntimeError("on purpose")


@pytest.fixture
def scrape(client, settings, db):
    settings.METRICS_TOKEN = TOKEN

    def read() -> dict:
        response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples
        }

    return read


def _value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_without_a_token_or_a_network(client, db):
    assert client.get(URL).status_code == 404
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer anything").status_code == 404


def test_a_missing_token_is_401_and_a_wrong_one_403(client, settings, db):
    settings.METRICS_TOKEN = TOKEN
    missing = client.get(URL)
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get(URL, HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_the_right_token_shows_every_metric(scrape):
    names = {name for name, _labels in scrape()}
    assert {
        "thidua_metrics_database_up",
        "thidua_overdue_steps",
        "thidua_outbox_depth",
        "thidua_outbox_oldest_unsent_age_seconds",
        "thidua_http_request_duration_seconds_bucket",
    } <= names


def test_an_allowed_network_admits_its_addresses_and_refuses_others(client, settings, db):
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.1/32", "10.1.0.0/16"]
    assert client.get(URL).status_code == 200  # the test client's REMOTE_ADDR is 127.0.0.1
    assert client.get(URL, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get(URL, REMOTE_ADDR="192.0.2.7").status_code == 403
    # Without trusted proxies, X-Forwarded-For is the client's own claim.
    assert client.get(URL, REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 403


def test_behind_a_trusted_proxy_the_forwarded_client_is_the_one_checked(client, settings, db):
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.TRUSTED_PROXIES = 1
    assert client.get(URL, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 200
    assert client.get(URL, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.7").status_code == 403


def test_a_network_or_the_token_admits_when_both_are_set(client, settings, db):
    settings.METRICS_ALLOWED_NETWORKS = ["10.1.0.0/16"]
    settings.METRICS_TOKEN = TOKEN
    assert client.get(URL).status_code == 401
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert client.get(URL, REMOTE_ADDR="10.1.2.3").status_code == 200


def test_a_committed_decision_counts_and_a_rolled_back_one_does_not(org, scrape, django_capture_on_commit_callbacks):
    nomination = submitted(org)
    before = _value(scrape(), "thidua_decisions_total", action="approve")
    task = open_step(nomination)

    def decide_then_fail():
        with transaction.atomic():
            services.nomination_decide(task_id=task.pk, by=holders(task)[0], action="approve")
            raise RuntimeError("the request failed after the decision")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        decide_then_fail()
    assert _value(scrape(), "thidua_decisions_total", action="approve") == before
    with django_capture_on_commit_callbacks(execute=True):
        services.nomination_decide(task_id=task.pk, by=holders(task)[0], action="approve")
    assert _value(scrape(), "thidua_decisions_total", action="approve") == before + 1


def test_an_overdue_step_shows_in_the_gauge(org, scrape):
    nomination = submitted(org)
    before = _value(scrape(), "thidua_overdue_steps")
    task = open_step(nomination)
    task.due_at = timezone.now() - timedelta(hours=1)
    task.save(update_fields=["due_at"])
    assert _value(scrape(), "thidua_overdue_steps") == before + 1


def test_an_unsent_outbox_row_shows_in_depth_and_age(scrape):
    before = _value(scrape(), "thidua_outbox_depth", status="pending")
    _outbox_row(due_ago=timedelta(seconds=120))
    samples = scrape()
    assert _value(samples, "thidua_outbox_depth", status="pending") == before + 1
    assert 120 <= _value(samples, "thidua_outbox_oldest_unsent_age_seconds") < 180


def test_celery_task_outcomes_are_counted_by_task_and_state(scrape):
    name = "notifications.heartbeat"
    before = scrape()
    heartbeat.apply()
    always_fails.apply()
    after = scrape()
    succeeded = "thidua_celery_tasks_total", {"task": name, "state": "SUCCESS"}
    failed = "thidua_celery_tasks_total", {"task": "tests.metrics.always_fails", "state": "FAILURE"}
    for metric, labels in (succeeded, failed):
        assert _value(after, metric, **labels) == _value(before, metric, **labels) + 1


def test_request_latency_is_observed_by_view_method_and_status_class(client, scrape):
    labels = {"view": "health-live", "method": "GET", "status": "2xx"}
    before = _value(scrape(), "thidua_http_request_duration_seconds_count", **labels)
    client.get("/health/live")
    client.get("/health/live")
    assert _value(scrape(), "thidua_http_request_duration_seconds_count", **labels) == before + 2
    unknown = {"view": "<unresolved>", "method": "other", "status": "4xx"}
    client.generic("BREW", "/no/such/page/")
    assert _value(scrape(), "thidua_http_request_duration_seconds_count", **unknown) >= 1


MULTIPROCESS_SCRIPT = """
import json, os, sys
import django
django.setup()
from django.test import Client
from notifications import metrics

for _ in range(2):  # two worker processes, each counting a decision of its own
    pid = os.fork()
    if pid == 0:
        metrics.DECISIONS.labels(action="approve").inc()
        os._exit(0)
    os.waitpid(pid, 0)
response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken", HTTP_HOST="127.0.0.1")
print(json.dumps({"status": response.status_code, "text": response.content.decode()}))
"""


def test_with_a_multiprocess_folder_a_scrape_adds_up_every_process_and_survives_no_database(tmp_path):
    """Under gunicorn the scrape lands in one worker: it must show what the others counted. The
    database here has no tables: the process metrics still come, with the database gauge at 0."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        THIDUA_VAR_DIR=str(tmp_path / "var"),
        PROMETHEUS_MULTIPROC_DIR=str(folder),
        METRICS_TOKEN="t0ken",
    )
    result = subprocess.run(
        [sys.executable, "-c", MULTIPROCESS_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer["text"])
        for sample in family.samples
    }
    assert _value(samples, "thidua_decisions_total", action="approve") == 2
    assert _value(samples, "thidua_metrics_database_up") == 0
    assert any(folder.iterdir())
