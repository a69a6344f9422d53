"""Production settings from the environment, security headers, idle sessions and private files."""

import os
import re
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from processes.services import dossiers
from tests.factories import PDF_BYTES, make_nomination

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: Variables of the machine running the tests that must not leak into a "clean" environment.
PROJECT_VARIABLES = re.compile(
    r"^(DJANGO_|DATABASE_URL|REDIS_URL|EMAIL_|THIDUA_|TRUSTED_PROXIES|SESSION_|LOGIN_|NOTIFICATION_|DOSSIER_|DEFAULT_FROM)"
)


def clean_environment(tmp_path, **variables) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not PROJECT_VARIABLES.match(key)}
    env.update(THIDUA_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="config.settings", **variables)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )


def documented_production_environment() -> dict[str, str]:
    """The "production environment" block of README, as a newcomer would copy it."""
    block = re.search(r"```sh\n# production environment\n(.*?)```", README.read_text(), re.S)
    assert block, "README has no ```sh block starting with '# production environment'"
    variables = {}
    for line in block.group(1).splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            variables[name] = value
    return variables


#: Production mode (THIDUA_PRODUCTION) takes the keys from the environment only: a secret store's values.
PRODUCTION_SECRETS = {
    "DJANGO_SECRET_KEY": "a-long-random-secret-key-from-the-secret-store-0123456789-abcdefgh",
    "THIDUA_BALLOT_KEY": "another-long-random-key-for-the-ballots-0123456789",
    "THIDUA_AUDIT_KEY": "a-third-long-random-key-for-the-audit-log-0123456789",
}


def settings_in_a_fresh_process(tmp_path, **variables) -> dict:
    code = (
        "import json, django; from django.conf import settings as s; django.setup();"
        "names = ['SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS',"
        " 'SECURE_HSTS_PRELOAD', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_PROXY_SSL_HEADER',"
        " 'SESSION_COOKIE_AGE', 'SESSION_SAVE_EVERY_REQUEST', 'TRUSTED_PROXIES', 'DEBUG'];"
        "print(json.dumps({name: getattr(s, name, None) for name in names}))"
    )
    import json

    return json.loads(run_python(code, clean_environment(tmp_path, **variables)).stdout.strip().splitlines()[-1])


# --- settings ------------------------------------------------------------------------------------------


def test_check_deploy_reports_nothing_with_the_documented_production_environment(tmp_path):
    env = clean_environment(tmp_path, **documented_production_environment(), **PRODUCTION_SECRETS)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr.replace("axes", "")


def test_the_embedded_default_serves_plain_http(tmp_path):
    found = settings_in_a_fresh_process(tmp_path)
    assert found["DEBUG"] is False
    assert found["SECURE_SSL_REDIRECT"] is False
    assert found["SECURE_HSTS_SECONDS"] == 0
    assert found["SESSION_COOKIE_SECURE"] is False
    assert found["CSRF_COOKIE_SECURE"] is False
    assert found["SECURE_PROXY_SSL_HEADER"] is None
    assert found["TRUSTED_PROXIES"] == 0
    assert found["SESSION_COOKIE_AGE"] == 30 * 60
    assert found["SESSION_SAVE_EVERY_REQUEST"] is True


def test_the_production_environment_turns_on_https_hsts_and_the_proxy_header(tmp_path):
    found = settings_in_a_fresh_process(
        tmp_path, **{**documented_production_environment(), **PRODUCTION_SECRETS, "SESSION_IDLE_MINUTES": "20"}
    )
    assert found["SECURE_SSL_REDIRECT"] is True
    assert found["SECURE_HSTS_SECONDS"] == 31536000
    assert found["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert found["SECURE_HSTS_PRELOAD"] is True
    assert found["SESSION_COOKIE_SECURE"] is True
    assert found["CSRF_COOKIE_SECURE"] is True
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert found["TRUSTED_PROXIES"] == 1
    assert found["SESSION_COOKIE_AGE"] == 20 * 60


def test_a_plain_http_request_is_answered_in_the_default_setup(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response


def test_behind_the_proxy_https_is_recognised_and_http_redirected(client, db, settings):
    settings.TRUSTED_PROXIES = 1
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    settings.ALLOWED_HOSTS = ["thidua.example.gov.vn"]

    plain = client.get(reverse("login"), HTTP_HOST="thidua.example.gov.vn", HTTP_X_FORWARDED_PROTO="http")
    assert plain.status_code == 301
    assert plain["Location"] == "https://thidua.example.gov.vn/accounts/login/"
    secure = client.get(reverse("login"), HTTP_HOST="thidua.example.gov.vn", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=3600"


# --- headers -------------------------------------------------------------------------------------------


def test_every_page_has_a_content_security_policy_without_inline_script(client, db):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy


def test_no_page_of_ours_has_inline_script_or_style():
    for template in (ROOT / "processes" / "templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", text), template


def test_every_response_has_a_permissions_policy(client, db):
    policy = client.get(reverse("login"))["Permissions-Policy"]
    assert "camera=()" in policy
    assert "microphone=()" in policy
    assert "geolocation=()" in policy


def test_signed_in_pages_are_never_stored_but_anonymous_ones_may_be(client, org):
    # Django's password reset page has no caching rule of its own: what it gets comes from us.
    assert "no-store" not in client.get(reverse("password_reset")).get("Cache-Control", "")

    client.force_login(org.hospital_secretary)
    for url in (
        reverse("password_reset"),  # the same page, to a signed-in user
        reverse("processes:nomination-list"),
        reverse("processes:inbox"),
        reverse("notifications:centre"),
        reverse("password_change"),
    ):
        response = client.get(url)
        assert "no-store" in response["Cache-Control"], url


def test_admin_pages_are_never_stored(admin_client):
    assert "no-store" in admin_client.get("/admin/")["Cache-Control"]


# --- idle sessions --------------------------------------------------------------------------------------


def session_row(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_a_session_expires_after_thirty_idle_minutes_and_each_request_moves_that_on(client, org):
    client.force_login(org.hospital_secretary)
    client.get(reverse("processes:nomination-list"))
    expected = timezone.now() + timedelta(minutes=30)
    assert abs(session_row(client).expire_date - expected) < timedelta(seconds=30)

    # 25 idle minutes later the session has 5 left; a request gives it 30 again.
    Session.objects.filter(pk=session_row(client).pk).update(expire_date=timezone.now() + timedelta(minutes=5))
    assert client.get(reverse("processes:nomination-list")).status_code == 200
    assert session_row(client).expire_date > timezone.now() + timedelta(minutes=29)


def test_after_thirty_idle_minutes_the_user_must_log_in_again(client, org):
    client.force_login(org.hospital_secretary)
    Session.objects.filter(pk=session_row(client).pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("processes:nomination-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- files and folders -----------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_uploaded_dossier_files_are_0600_in_folders_made_0700(org, settings, tmp_path):
    settings.DOSSIER_ROOT = tmp_path / "fresh" / "dossiers"
    old_umask = os.umask(0o022)  # the usual umask, which would give 0644 and 0755
    try:
        nomination = make_nomination(org)
        stored = dossiers.dossier_upload(
            nomination=nomination,
            by=org.hospital_secretary,
            document_type=org.report_type,
            upload=SimpleUploadedFile("bao-cao.pdf", PDF_BYTES),
        )
        large = dossiers.dossier_upload(  # spooled to a temporary file on the way, as big uploads are
            nomination=nomination,
            by=org.hospital_secretary,
            document_type=org.report_type,
            upload=SimpleUploadedFile("phu-luc.pdf", PDF_BYTES + b"%" * 3_000_000),
        )
    finally:
        os.umask(old_umask)
    for dossier_file in (stored, large):
        path = Path(dossier_file.file.path)
        assert mode(path) == 0o600, path
        assert mode(path.parent) == 0o700, path.parent
    assert mode(Path(settings.DOSSIER_ROOT)) == 0o700


def test_the_embedded_run_creates_its_database_var_folder_and_mail_folder_private(tmp_path):
    """A real SQLite database (WAL files included), the secret key, var/ and the mail folder."""
    code = (
        "import os; os.umask(0o022); import django; django.setup();"
        "from django.db import connection; from django.core.mail import send_mail;"
        "cursor = connection.cursor(); cursor.execute('CREATE TABLE probe (x integer)');"
        "cursor.execute('INSERT INTO probe VALUES (1)');"
        "send_mail('Thử', 'Nội dung', 'thidua@localhost', ['a@thidua.example'])"
    )
    env = clean_environment(tmp_path)
    run_python(code, env)
    var = tmp_path / "var"
    assert mode(var) == 0o700
    assert mode(var / "db.sqlite3") == 0o600
    for extra in ("db.sqlite3-wal", "db.sqlite3-shm"):
        if (var / extra).exists():
            assert mode(var / extra) == 0o600, extra
    assert mode(var / "secret_key") == 0o600
    assert mode(var / "mail") == 0o700
    assert list((var / "mail").iterdir()), "the email was written"
    # The database is a real one, with the row in it.
    import sqlite3

    with sqlite3.connect(var / "db.sqlite3") as connection:
        assert connection.execute("SELECT x FROM probe").fetchall() == [(1,)]
