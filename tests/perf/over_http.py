"""Decisions over HTTP: the product under gunicorn (2 sync workers, production settings), driven from
this process by two client threads, each with a keep-alive connection, posting approvals to
``/nominations/<pk>/steps/<task_id>/decide/`` as the step's holder.

Each holder logs in first through the log-in page (its CSRF cookie and token, then the session
cookie); the driver keeps the session and CSRF cookies per holder, as a browser does, and sends the
form's CSRF token. It does not send back the ``messages`` cookie (the success message a browser would
show on the page it is redirected to), and does not follow the redirect: what is timed is the decision.
Rounds as in ``decisions.py``: look up each case's open task (not timed), then post one decision per
case; a decision counts only when answered by the redirect to the case (or the inbox), never by the
log-in page or a refusal. The form is the case page's: CSRF token, the case's version (a stale page is
refused), the decision and an empty comment.

Settings the bench needs, through the environment only (production's defaults stay): the session
idle timeout (``SESSION_IDLE_MINUTES``) well beyond the run. Log-in throttling (django-axes) counts
failures only, and every log-in here succeeds; CSRF stays on.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from tests.perf.decisions import PRODUCT_ROUNDS, RunResult, StaleLookup

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
CLIENTS = 2
PASSWORD = "pw"  # the factories' password for every user they make
KEPT_COOKIES = ("sessionid", "csrftoken")


class Client:
    """One keep-alive connection (reopened by http.client when a sync worker closes it)."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, *, cookies: dict, form: dict | None = None):
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # The server closed an idle keep-alive connection: once more on a new one.
            self.connection.close()
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if name in KEPT_COOKIES:
                    cookies[name] = morsel.value
        return response.status, response.headers.get("Location", ""), content


def log_in(port: int, username: str) -> dict:
    client = Client(port)
    cookies: dict = {}
    status, _location, page = client.request("GET", "/accounts/login/", cookies=cookies)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or token is None or "csrftoken" not in cookies:
        raise RuntimeError(f"log-in page: HTTP {status}, no CSRF token")
    form = {"csrfmiddlewaretoken": token.group(1).decode(), "username": username, "password": PASSWORD}
    status, location, _page = client.request("POST", "/accounts/login/", cookies=cookies, form=form)
    if status != 302 or "sessionid" not in cookies or "/accounts/login" in location:
        raise RuntimeError(f"log-in as {username} refused: HTTP {status}")
    return cookies


@contextlib.contextmanager
def gunicorn(env: dict, log: Path):
    """``gunicorn config.wsgi`` with 2 workers on a free port; stopped (TERM, then KILL) afterwards."""
    from tests.perf.server import _free_port

    port = _free_port()
    env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings", "SESSION_IDLE_MINUTES": "240"}
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--error-logfile",
        str(log),
    ]
    with log.open("ab") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/accounts/login/")
                if connection.getresponse().status == 200:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {log}:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class Driver:
    """The load driver: ``CLIENTS`` connections and each holder's session, kept from run to run."""

    def __init__(self, port: int):
        self.port = port
        self.sessions: dict[str, dict] = {}
        self.clients = [Client(port) for _ in range(CLIENTS)]

    def run(self, nomination_ids: list[int], warmup_ids: list[int] = ()) -> RunResult:
        """Every case through the product's rounds, each thread posting for its share; warm-up cases
        first, not timed, so that both workers have served decisions before the clock runs."""
        if warmup_ids:
            _rounds(self.port, list(warmup_ids), self.sessions, self.clients, RunResult("http", WORKERS))
        result = RunResult(flow="http", processes=WORKERS)
        _rounds(self.port, nomination_ids, self.sessions, self.clients, result)
        return result


def _rounds(port: int, nomination_ids: list[int], sessions: dict, clients: list[Client], result: RunResult) -> None:
    from processes.models import Nomination
    from tests.factories import holders, open_step

    decided: set[int] = set()
    for _round in range(PRODUCT_ROUNDS):
        nominations = Nomination._default_manager.in_bulk(nomination_ids)
        plan = []
        for pk in nomination_ids:
            task = open_step(nominations[pk])
            people = holders(task) if task is not None else []
            if not people or task.pk in decided:
                raise StaleLookup(f"nomination {pk}: no new open step with a holder")
            username = people[0].get_username()
            if username not in sessions:
                sessions[username] = log_in(port, username)
            # The case's version, as the page's form carries it (checked against a stale page).
            plan.append((pk, task.pk, sessions[username], nominations[pk].version))
        shares = [plan[number::CLIENTS] for number in range(CLIENTS)]
        latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
        failures: list[str] = []

        def post(client: Client, share: list, latencies: list[float], failures: list[str]) -> None:
            for pk, task_id, cookies, version in share:
                form = {
                    "csrfmiddlewaretoken": cookies["csrftoken"],
                    "expected_version": version,
                    "action": "approve",
                    "comment": "",
                }
                before = time.perf_counter()
                status, location, _page = client.request(
                    "POST", f"/nominations/{pk}/steps/{task_id}/decide/", cookies=cookies, form=form
                )
                latencies.append(time.perf_counter() - before)
                if (
                    status != 302
                    or "/accounts/login" in location
                    or not location.rstrip("/").endswith((f"/nominations/{pk}", "/inbox"))
                ):
                    failures.append(f"nomination {pk}, task {task_id}: HTTP {status} → {location or '(no redirect)'}")

        threads = [
            threading.Thread(target=post, args=(clients[number], shares[number], latencies[number], failures))
            for number in range(CLIENTS)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result.seconds += time.perf_counter() - started
        if failures:
            raise RuntimeError(f"{len(failures)} decisions refused over HTTP, e.g. {failures[:3]}")
        for share in latencies:
            result.latencies += share
        decided.update(task_id for _pk, task_id, _cookies, _version in plan)
    nominations = Nomination._default_manager.in_bulk(nomination_ids)
    for pk in nomination_ids:  # the last round's decisions opened their next steps too
        task = open_step(nominations[pk])
        if task is None or task.pk in decided:
            raise StaleLookup(f"nomination {pk}: the last decision over HTTP opened no step")
    result.decisions = len(result.latencies)
