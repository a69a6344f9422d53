"""Production mode (THIDUA_PRODUCTION=true): its keys from the environment, `check --deploy` clean on this
machine's database, gunicorn's settings from the environment, and a web node under gunicorn serving
collectstatic's hashed, compressed files through WhiteNoise with JSON logs carrying the request id."""

import gzip
import http.client
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.test_security import (
    PRODUCTION_SECRETS,
    ROOT,
    clean_environment,
    documented_production_environment,
    run_python,
)

GUNICORN = Path(sys.executable).with_name("gunicorn")
HOST = "thidua.example.gov.vn"


def this_database_url(tmp_path) -> str:
    """The PostgreSQL server the suite runs on (CI's), or a fresh SQLite file."""
    database = django_settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
        host = database["HOST"] or "127.0.0.1"
        return f"postgres://{database['USER']}{password}@{host}:{database['PORT'] or 5432}/{database['NAME']}"
    return f"sqlite:///{tmp_path / 'production.sqlite3'}"


def production_environment(tmp_path, **variables) -> dict[str, str]:
    return clean_environment(
        tmp_path,
        **{
            **documented_production_environment(),
            **PRODUCTION_SECRETS,
            "DATABASE_URL": this_database_url(tmp_path),
            "STATIC_ROOT": str(tmp_path / "static"),
            **variables,
        },
    )


def fresh_settings(env: dict[str, str], names: list[str]) -> dict:
    code = (
        "import json, django; from django.conf import settings as s; django.setup();"
        f"print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}, default=str))"
    )
    return json.loads(run_python(code, env).stdout.strip().splitlines()[-1])


# --- the mode -------------------------------------------------------------------------------------------


def test_check_deploy_is_clean_in_production_mode_on_this_database(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING", "--database", "default"],
        cwd=ROOT,
        env=production_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize("missing", [*PRODUCTION_SECRETS, "DATABASE_URL", "REDIS_URL"])
def test_production_mode_will_not_start_without_a_key_or_a_shared_service(tmp_path, missing):
    env = production_environment(tmp_path)
    del env[missing]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert f"THIDUA_PRODUCTION=true needs these environment variables: {missing}" in result.stderr
    # No key was made under var/ instead: every node must share the environment's.
    assert not (tmp_path / "var" / "secret_key").exists()


def test_production_mode_refuses_debug(tmp_path):
    env = production_environment(tmp_path, DJANGO_DEBUG="true")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "refuses DJANGO_DEBUG=true" in result.stderr


NAMES = [
    "DEBUG",
    "THIDUA_DEMO_DATA",
    "LOG_FORMAT",
    "MIDDLEWARE",
    "STORAGES",
    "DATABASES",
    "CELERY_WORKER_HIJACK_ROOT_LOGGER",
]


def test_production_mode_serves_hashed_static_files_logs_json_and_keeps_database_connections(tmp_path):
    found = fresh_settings(production_environment(tmp_path, DATABASE_CONN_MAX_AGE="300"), NAMES)
    assert found["DEBUG"] is False
    assert found["THIDUA_DEMO_DATA"] is False
    assert found["LOG_FORMAT"] == "json"
    assert found["CELERY_WORKER_HIJACK_ROOT_LOGGER"] is False
    assert found["MIDDLEWARE"][:4] == [
        "notifications.metrics.RequestMetricsMiddleware",
        "config.request_id.RequestIdMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]
    assert found["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert found["DATABASES"]["default"]["CONN_MAX_AGE"] == 300
    assert found["DATABASES"]["default"]["CONN_HEALTH_CHECKS"] is True


def test_the_embedded_run_keeps_plain_logs_the_demo_and_static_files_from_the_apps(tmp_path):
    found = fresh_settings(clean_environment(tmp_path), NAMES)
    assert found["THIDUA_DEMO_DATA"] is True
    assert found["LOG_FORMAT"] == "plain"
    assert found["CELERY_WORKER_HIJACK_ROOT_LOGGER"] is True
    assert "whitenoise.middleware.WhiteNoiseMiddleware" not in found["MIDDLEWARE"]
    assert found["STORAGES"]["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


# --- gunicorn -------------------------------------------------------------------------------------------


def test_gunicorn_takes_workers_threads_and_timeouts_from_the_environment(tmp_path):
    env = production_environment(
        tmp_path,
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="5",
        GUNICORN_TIMEOUT="45",
        GUNICORN_BIND="127.0.0.1:8123",
        GUNICORN_MAX_REQUESTS="0",
    )
    result = subprocess.run(
        [str(GUNICORN), "-c", "config/gunicorn.conf.py", "--print-config", "config.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = dict(re.findall(r"^(\w+)\s*= (.*)$", result.stdout, re.M))
    assert found["workers"] == "3"
    assert found["threads"] == "5"
    assert found["timeout"] == "45"
    assert found["bind"] == "['127.0.0.1:8123']"
    assert found["max_requests"] == "0"
    assert found["preload_app"] == "True"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, method: str = "GET", **headers) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, headers={"Host": HOST, "X-Forwarded-Proto": "https", **headers})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_a_web_node_under_gunicorn_serves_collected_static_files_and_logs_json_with_the_request_id(tmp_path):
    env = production_environment(tmp_path, WEB_CONCURRENCY="1", GUNICORN_THREADS="2")
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stderr[-3000:]
    port = free_port()
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        web = subprocess.Popen(
            [str(GUNICORN), "-c", "config/gunicorn.conf.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers, body = get(port, "/accounts/login/", **{"X-Request-ID": "lb-login-1"})
                break
            except OSError:
                assert web.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert status == 200, body[:2000]
        assert headers["x-request-id"] == "lb-login-1"
        # The page names its stylesheet by its hashed name; WhiteNoise serves it for ever, and gzipped.
        (stylesheet,) = re.findall(rb'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', body)[:1]
        status, headers, css = get(port, stylesheet.decode(), **{"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["cache-control"] == "max-age=315360000, public, immutable"
        assert headers["content-encoding"] == "gzip"
        assert gzip.decompress(css)

        # A refused form post: Django's warning is one JSON line with the request id.
        status, _, _ = get(port, "/accounts/login/", method="POST", **{"X-Request-ID": "lb-post-2"})
        assert status == 403
        deadline = time.monotonic() + 10
        while b"lb-post-2" not in log.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.1)
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        (refused,) = [line for line in lines if line.get("request_id") == "lb-post-2"]
        assert refused["logger"] == "django.security.csrf"
        assert refused["level"] == "WARNING"
        assert refused["message"].startswith("Forbidden (")
    finally:
        web.terminate()
        try:
            web.wait(30)
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait(10)


# --- config/deploy --------------------------------------------------------------------------------------

DEPLOY = ROOT / "config" / "deploy"


def compose() -> dict:
    import yaml

    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_compose_file_has_two_web_nodes_two_workers_and_exactly_one_beat():
    services = compose()["services"]
    commands = {name: " ".join(service.get("command") or []) for name, service in services.items()}
    assert {"postgres", "redis", "migrate", "web1", "web2", "worker", "beat", "lb"} <= set(services)
    assert [name for name, command in commands.items() if " beat" in command] == ["beat"]
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in ("web1", "web2", "worker", "beat", "migrate"):
        assert services[name]["environment"]["THIDUA_PRODUCTION"] == "true", name


def test_the_systemd_units_run_gunicorn_with_its_config_and_one_beat():
    web = (DEPLOY / "thidua-web.service").read_text()
    assert "gunicorn -c config/gunicorn.conf.py config.wsgi" in web
    assert "EnvironmentFile=/etc/thidua/thidua.env" in web
    units = sorted(path.name for path in DEPLOY.glob("*.service"))
    assert units == ["thidua-beat.service", "thidua-web.service", "thidua-worker@.service"]
    beats = [name for name in units if " beat " in (DEPLOY / name).read_text()]
    assert beats == ["thidua-beat.service"]
    assert "@" not in beats[0]  # a template unit would allow several


def readme_settings() -> set[str]:
    section = (ROOT / "README.md").read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ", 1)[0] for line in section.splitlines() if line.startswith("| `")]
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", "\n".join(rows)))


def test_every_variable_the_deploy_files_set_is_in_the_readme_settings_table():
    example = dict(
        line.split("=", 1)
        for line in (DEPLOY / "thidua.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    variables = set(example) | set(compose()["x-app"]["environment"])
    assert variables - readme_settings() == set()


def test_the_example_environment_starts_production_mode(tmp_path):
    example = dict(
        line.split("=", 1)
        for line in (DEPLOY / "thidua.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    example.pop("THIDUA_VAR_DIR")  # the test's own
    example.update(STATIC_ROOT=str(tmp_path / "static"), DOSSIER_ROOT=str(tmp_path / "dossiers"))
    example["AUDIT_CHECKPOINT_DIR"] = str(tmp_path / "checkpoints")
    found = fresh_settings(clean_environment(tmp_path, **example), ["LOG_FORMAT", "THIDUA_DEMO_DATA"])
    assert found == {"LOG_FORMAT": "json", "THIDUA_DEMO_DATA": False}
