import os
from datetime import date

import pytest
from django.db import connection

from tests import factories


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


@pytest.fixture(autouse=True)
def _dossier_root(settings, tmp_path):
    settings.DOSSIER_ROOT = tmp_path / "dossiers"


@pytest.fixture
def org(db):
    """A small city: a department with a hospital, a district with a ward, the Board and the Council,
    and one user in each role the rules distinguish."""
    return factories.build_org(day=date(2020, 1, 1))
