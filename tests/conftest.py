import os
from datetime import date

import pytest
from django.db import connection
from django.utils import translation

from tests import factories


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """One test database per test process, so two runs on one machine never share one."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    suffix = f"_{os.getpid()}"
    if database["ENGINE"].endswith("sqlite3"):
        name = str(test.get("NAME") or settings.VAR_DIR / "test-db.sqlite3")
        test["NAME"] = name.replace(".sqlite3", f"{suffix}.sqlite3")
    else:
        test["NAME"] = (test.get("NAME") or f"test_{database['NAME']}") + suffix


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.django_db(transaction=True))


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… (CI does)")


def pytest_sessionfinish(session, exitstatus):
    """In CI every service is installed, so a skipped test is a failure, not a pass."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        reporter.write_line(f"CI: {skipped} test(s) skipped; every service must be present in CI.", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True, scope="session")
def _in_memory_broker():
    """Messages published by tests in this process stay in memory; tests of real workers and Redis
    start their own processes with their own broker."""
    import kombu.pools

    from config.celery_app import app

    # The app reads Django's CELERY_-prefixed settings first: override those keys.
    app.conf.update(CELERY_BROKER_URL="memory://", CELERY_BROKER_TRANSPORT_OPTIONS={})
    kombu.pools.reset()
    app._pool = None


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.DOSSIER_ROOT = tmp_path / "dossiers"
    # Never the embedded run's checkpoints, which describe another database.
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"
    # Hashing strength is not under test; the demo and real log-ins use Django's default hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_messages():
    """Assertions read English messages; the Vietnamese catalogue has tests of its own."""
    with translation.override("en"):
        yield


@pytest.fixture
def client(client, settings):
    """Pages in English for assertions; tests of the Vietnamese default build their own client."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def org(db):
    """A small city: a department with a hospital, a district with a ward, the Board and the Council,
    and one user in each role the rules distinguish."""
    return factories.build_org(day=date(2020, 1, 1))
