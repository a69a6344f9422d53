"""Project-wide promises: settings per environment, migrations in step, login everywhere."""

import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROOT = Path(__file__).resolve().parent.parent


def _settings_in_fresh_process(tmp_path, **env):
    """Import the settings with a given environment, in a process of their own."""
    script = (
        "import json, django; from django.conf import settings; django.setup();"
        "db = settings.DATABASES['default'];"
        "print(json.dumps({'engine': db['ENGINE'], 'options': db.get('OPTIONS', {}),"
        " 'broker': settings.CELERY_BROKER_URL, 'transport': settings.CELERY_BROKER_TRANSPORT_OPTIONS,"
        " 'language': settings.LANGUAGE_CODE, 'languages': [code for code, _ in settings.LANGUAGES],"
        " 'tz': settings.TIME_ZONE, 'debug': settings.DEBUG, 'hosts': settings.ALLOWED_HOSTS,"
        " 'secret': settings.SECRET_KEY}, default=str))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY"}}
    clean.update({"THIDUA_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings", **env})
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_embedded_default_is_sqlite_in_wal_with_immediate_transactions_and_a_filesystem_broker(tmp_path):
    found = _settings_in_fresh_process(tmp_path)
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["options"]["transaction_mode"] == "IMMEDIATE"
    assert found["options"]["timeout"] == 20
    assert "journal_mode=WAL" in found["options"]["init_command"]
    assert found["broker"] == "filesystem://"
    queue = found["transport"]["data_folder_in"]
    assert queue == found["transport"]["data_folder_out"]
    assert Path(queue).is_absolute()
    assert queue.startswith(str(tmp_path))
    assert found["transport"]["control_folder"].startswith(str(tmp_path))
    assert (found["language"], found["languages"], found["tz"]) == ("vi", ["vi", "en"], "Asia/Ho_Chi_Minh")
    assert found["debug"] is False
    # A secret of its own, kept out of the repository and stable between starts.
    assert len(found["secret"]) >= 50
    assert _settings_in_fresh_process(tmp_path)["secret"] == found["secret"]


def test_database_and_redis_urls_switch_to_postgresql_and_redis(tmp_path):
    found = _settings_in_fresh_process(
        tmp_path,
        DATABASE_URL="postgres://u:p@db.example:5432/thidua",
        REDIS_URL="redis://cache.example:6379/0",
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_ALLOWED_HOSTS="thidua.example,www.thidua.example",
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["broker"] == "redis://cache.example:6379/0"
    assert found["secret"] == "x" * 50
    assert found["hosts"] == ["thidua.example", "www.thidua.example"]


def test_every_model_change_has_its_migration(db):
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(f"makemigrations --check failed ({exit_.code}): {out.getvalue()}")


def _routes(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


OPEN_ROUTES = {
    "accounts/login/",
    "i18n/setlang/",
    # Resetting a forgotten password is done signed out.
    "accounts/password/reset/",
    "accounts/password/reset/sent/",
    "accounts/password/reset/<uidb64>/<token>/",
    "accounts/password/reset/done/",
    # A redirect to the icon (a static file), asked for by browsers on every page, the log-in page too.
    "favicon.ico",
    # The public pages, each when its setting turns it on, else 404 (tests/processes/test_public_pages.py).
    "public/posting/",
    "public/posting/<id:pk>/objection/",
    "public/awards/",
    # The API's schema and its interactive page: what integrators read before they have an account.
    "api/schema/",
    "api/docs/",
    # Health probes (load balancers carry no session) and the metrics, which answer a token or an
    # allowed network and are 404 otherwise (tests/notifications/test_health.py, test_metrics.py).
    "health/live",
    "health/ready",
    "metrics",
}


def test_every_route_but_login_password_reset_and_language_needs_a_login(client, db):
    checked = 0
    for route, _pattern in _routes():
        if route in OPEN_ROUTES or route.startswith("admin/") or "(?P" in route or "^" in route:
            continue
        response = client.get("/" + re.sub(r"<[^>]+>", "1", route))
        if route.startswith("api/v1/"):
            # The API answers a missing credential itself: 401 with its scheme, never a log-in page.
            assert response.status_code in (401, 405), route
            checked += 1
            continue
        assert response.status_code in (302, 405), route
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("login")), route
        checked += 1
    assert checked >= 5
    assert client.get(reverse("login")).status_code == 200


def test_the_embedded_database_really_runs_in_wal_mode(tmp_path):
    """The option string is not enough: open the embedded database and ask SQLite itself."""
    script = (
        "import django; django.setup(); from django.db import connection;"
        "cursor = connection.cursor(); cursor.execute('PRAGMA journal_mode');"
        "print(cursor.fetchone()[0])"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update({"THIDUA_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"})
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "wal"
