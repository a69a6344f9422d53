"""/health/live and /health/ready: what each check reads, and that a failing one names itself."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from notifications.models import Channel, Event, Heartbeat, Outbox
from notifications.tasks import heartbeat
from tests.factories import UserFactory
from tests.notifications.conftest import free_port

LIVE = "/health/live"
READY = "/health/ready"


@pytest.fixture
def beating(db):
    """Beat published the heartbeat (to the suite's in-memory broker) and a worker ran it."""
    heartbeat.apply_async()
    heartbeat.apply()
    assert set(Heartbeat.objects.values_list("component", flat=True)) == {"beat", "worker"}


def _checks(response):
    return response.json()["checks"]


def test_live_answers_without_touching_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(LIVE)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_live_and_ready_need_no_login_and_are_not_sent_to_https(client, beating, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(LIVE).status_code == 200
    assert client.get(READY).status_code == 200
    assert client.get("/accounts/login/").status_code == 301


def test_ready_is_200_with_every_check_named_when_all_is_well(client, beating):
    response = client.get(READY)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "migrations", "beat", "worker", "outbox"}
    assert all(check["ok"] for check in body["checks"].values())
    assert set(body["checks"]["worker"]) == {"ok", "detail", "age_seconds"}
    assert body["checks"]["worker"]["age_seconds"] < 60


def test_beat_publishing_the_heartbeat_records_beat_and_only_a_worker_running_it_records_the_worker(db):
    heartbeat.apply_async()
    assert list(Heartbeat.objects.values_list("component", flat=True)) == ["beat"]
    heartbeat.apply()
    assert Heartbeat.objects.filter(component="worker").exists()


def test_the_heartbeat_is_a_beat_row_every_30_seconds(db):
    # Postgres tests empty the tables between tests, so the migration's function is run again here (twice:
    # it makes one row).
    migration = importlib.import_module("notifications.migrations.0007_heartbeat")
    PeriodicTask.objects.filter(task="notifications.heartbeat").delete()
    migration.create(apps, None)
    migration.create(apps, None)
    row = PeriodicTask.objects.get(task="notifications.heartbeat")
    assert (row.interval.every, row.interval.period, row.enabled, row.expire_seconds) == (30, "seconds", True, 60)


@pytest.mark.parametrize("component", ["beat", "worker"])
def test_ready_is_503_naming_a_heartbeat_older_than_the_limit(client, beating, settings, component):
    settings.HEALTH_HEARTBEAT_MAX_AGE = 120
    Heartbeat.objects.filter(component=component).update(at=timezone.now() - timedelta(seconds=121))
    response = client.get(READY)
    assert response.status_code == 503
    assert response.json()["status"] == "fail"
    failing = {name for name, check in _checks(response).items() if not check["ok"]}
    assert failing == {component}
    assert _checks(response)[component]["age_seconds"] >= 121


def test_ready_is_503_when_a_heartbeat_was_never_recorded(client, db):
    checks = _checks(client.get(READY))
    assert checks["worker"] == {"ok": False, "detail": "never recorded", "age_seconds": None}


def _outbox_row(*, due_ago: timedelta, digest: bool = False) -> Outbox:
    user = UserFactory()
    return Outbox.objects.create(
        recipient=user,
        event=Event.REMINDER,
        channel=Channel.EMAIL,
        object_type=ContentType.objects.get_for_model(user),
        object_id=user.pk,
        subject="s",
        body="b",
        digest=digest,
        next_attempt_at=timezone.now() - due_ago,
    )


def test_ready_is_503_naming_the_outbox_when_a_due_row_waited_too_long(client, beating, settings):
    settings.HEALTH_OUTBOX_MAX_AGE = 600
    _outbox_row(due_ago=timedelta(seconds=30))
    assert client.get(READY).status_code == 200
    _outbox_row(due_ago=timedelta(seconds=700))
    response = client.get(READY)
    assert response.status_code == 503
    assert not _checks(response)["outbox"]["ok"]
    assert _checks(response)["outbox"]["age_seconds"] >= 700


def test_a_digest_row_waiting_for_its_hour_is_not_a_late_row(client, beating, settings):
    settings.HEALTH_OUTBOX_MAX_AGE = 600
    row = _outbox_row(due_ago=-timedelta(hours=20), digest=True)
    Outbox.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=1))  # written yesterday
    assert client.get(READY).status_code == 200


def test_ready_is_503_naming_the_migrations_when_one_is_unapplied(client, beating):
    recorder = MigrationRecorder(connection)
    # Rolled back with the test's transaction: the migration is recorded as applied again afterwards.
    deleted, _ = recorder.migration_qs.filter(app="notifications", name="0007_heartbeat").delete()
    assert deleted == 1
    response = client.get(READY)
    assert response.status_code == 503
    migrations = _checks(response)["migrations"]
    assert not migrations["ok"]
    assert migrations["detail"] == "1 unapplied, first notifications.0007_heartbeat"


def test_ready_is_503_naming_the_broker_when_redis_does_not_answer_and_names_no_secret(client, beating, settings):
    port = free_port()  # nothing listens on it
    settings.REDIS_URL = f"redis://:hunter2-secret@127.0.0.1:{port}/0"
    response = client.get(READY)
    assert response.status_code == 503
    checks = _checks(response)
    assert not checks["broker"]["ok"]
    assert checks["database"]["ok"]
    assert checks["worker"]["ok"]  # the heartbeats live in the database: a Redis outage is the broker's alone
    text = response.content.decode()
    assert "hunter2" not in text
    assert str(port) not in text


def test_ready_is_503_when_the_embedded_brokers_folders_are_missing(client, beating, settings, tmp_path):
    settings.REDIS_URL = ""
    missing = str(tmp_path / "gone")
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": missing,
        "data_folder_out": missing,
        "control_folder": missing,
    }
    response = client.get(READY)
    assert response.status_code == 503
    assert not _checks(response)["broker"]["ok"]
