"""Real processes for the delivery tests (test_real_delivery.py): a redis-server the test can stop and
start again, an SMTP sink (aiosmtpd) in this process recording every message with its Message-ID, a
Celery worker process that the test can kill with SIGKILL and start again, and this process's
publisher pointed at that Redis instead of the suite's in-memory broker.

The processes themselves are tests/real_services.py's (the cluster demo starts them too); here are the
fixtures. Every wait has a deadline; every process is ended in a finaliser, by its own process group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.real_services import (  # noqa: F401 - the tests import these from here
    START_SECONDS,
    WAIT_SECONDS,
    RedisServer,
    SmtpSink,
    Worker,
    _end,
    free_port,
    needs_real_services,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the test database this process uses (pytest-django's test_…_<pid> on PostgreSQL, the
    var/test-db_<pid>.sqlite3 file on SQLite), for a worker process to use the same one."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return "sqlite:///" + str(Path(db["NAME"]).resolve())
    assert db["ENGINE"].endswith("postgresql"), db["ENGINE"]
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


# --- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture
def real_services():
    reason = needs_real_services()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def redis_server(real_services, tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    _end(server.proc, signal.SIGKILL)


@pytest.fixture
def smtp_sink(real_services):
    from aiosmtpd.controller import Controller

    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    sink.release()
    controller.stop()


@pytest.fixture(scope="session")
def redis_broker_settings(tmp_path_factory):
    """The broker settings config/settings.py gives a process that has REDIS_URL (short socket and
    connection timeouts, the visibility timeout), read from a fresh interpreter, so this process
    publishes exactly as the web process of a Redis deployment does. Keys as in Django's settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "DJANGO_"))}
    env.update(REDIS_URL="redis://127.0.0.1:1/0", THIDUA_VAR_DIR=str(tmp_path_factory.mktemp("settings-var")))
    code = (
        "import json, config.settings as s;"
        "print(json.dumps({k: v for k, v in vars(s).items() if k.startswith('CELERY_BROKER_')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    values = json.loads(out.stdout.strip().splitlines()[-1])
    assert values.pop("CELERY_BROKER_URL") == "redis://127.0.0.1:1/0"
    return values


def _drop_broker_connections(app) -> None:
    """Celery keeps its connection pool (``app.pool``) and producer pool (``app.amqp.producer_pool``),
    and kombu keeps both in process-wide pool groups keyed by the broker's address: all are closed and
    forgotten, so the next publish connects to the broker now configured."""
    import kombu.pools

    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def publisher(redis_server, redis_broker_settings):
    """This process (the web process in these tests) publishes to the real Redis, configured as
    config/settings.py configures a Redis deployment; the earlier configuration is put back after.

    The app reads Django's settings with the CELERY_ namespace, where ``CELERY_BROKER_URL`` is found
    before a plain ``broker_url``: ``app.conf.broker_url = …`` would change nothing, so the namespaced
    keys are set, in the app's own layer of changes (Django's settings stay as they are)."""
    from config.celery_app import app
    from notifications import outbox

    # After a failed publish this process skips publishing for a while (module state): a test that
    # stopped Redis must not leave the next one's rows waiting for a sweep that never comes.
    outbox._broker_down_until = None
    changes = {"CELERY_BROKER_URL": redis_server.url, **redis_broker_settings}
    missing = object()
    saved = {key: app.conf.changes.get(key, missing) for key in changes}
    _drop_broker_connections(app)
    app.conf.update(changes)
    assert app.connection_for_write().as_uri(include_password=True) == f"redis://127.0.0.1:{redis_server.port}/0"
    assert not app.conf.task_always_eager
    yield app
    outbox._broker_down_until = None
    _drop_broker_connections(app)
    for key, value in saved.items():
        if value is missing:
            app.conf.changes.pop(key, None)
        else:
            app.conf.changes[key] = value


@pytest.fixture
def worker(transactional_db, redis_server, smtp_sink, tmp_path_factory):
    """A Celery worker process on the real Redis, the test database and the SMTP sink; not started:
    the test calls ``worker.start()`` (and may ``kill()`` and start it again). Asking for
    ``transactional_db`` puts its teardown after the worker's, so no worker holds the database while
    the test's rows are flushed."""
    directory = tmp_path_factory.mktemp("worker")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "DJANGO_"))}
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=redis_server.url,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_sink.port),
        DJANGO_SETTINGS_MODULE="config.settings",
        THIDUA_VAR_DIR=str(directory / "var"),
        PYTHONUNBUFFERED="1",
    )
    process = Worker(directory, env)
    yield process
    smtp_sink.release()
    process.stop()
