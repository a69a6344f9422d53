"""``make cluster-demo``: the application as a small cluster on one machine, driven through faults.

    python -m tests.cluster [--short] [--cases N]

On DATABASE_URL's PostgreSQL server (required) a fresh database is made for the run and dropped after it;
a private redis-server on a free port is the broker (never the system's: the demo stops it), an SMTP sink
(aiosmtpd) in this process receives the email. Started: two web nodes (gunicorn, ``config.settings``, on
two ports), two Celery workers and one beat. The database is migrated and seeded through the factories'
organisation (the chains of chains.csv, loaded as ``load_reference_data`` loads them) and services: cases
submitted, each at its first approval step.

A load driver (client threads, each holder logged in through the log-in page) posts the case page's
decision form to both nodes in turn, as a load balancer would, four approvals per case. Meanwhile: one
worker is killed with SIGKILL and started again, one web node likewise, and Redis is stopped for a while
(``--outage``) and started again. A request cut off by a node's death is looked up in the database before
being sent again to the other node (a decision counts once, whichever attempt made it).

At the end the outbox is waited for, then printed: decisions made, notifications expected (outbox rows),
delivered (an email row's Message-ID ``<outbox-{id}@host>`` in the sink, an in-app row's entry in the
notification centre), lost and duplicated (an email received more times than its row was attempted, an
outbox row with two in-app entries), re-sent (an email whose send a kill cut off after the SMTP server took
it, sent again by the next attempt with the same Message-ID: SMTP gives at-least-once, the Message-ID lets
the receiver keep one), the duration and the restarts. Exit status 1 if a notification was lost or duplicated, or a
decision failed (5xx, or refused); 2 if the run could not be made.

For a run within minutes the outbox lease (``NOTIFICATION_LEASE_SECONDS``, 5 minutes by default) is 20 s
and the sweeper (a beat row) runs every 5 s: the delay a killed worker costs its rows, not whether they go.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from tests.real_services import (
    START_SECONDS,
    Beat,
    RedisServer,
    SmtpSink,
    Worker,
    _end,
    free_port,
    needs_real_services,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 4  # approvals per case: unit_confirm, proposer_submit, board_intake, board_appraisal
WEB_WORKERS = 2  # gunicorn sync workers per node, as the bench runs it (tests/perf/over_http.py)
LEASE_SECONDS = 20
SWEEP_SECONDS = 5
EMAIL_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Profile:
    cases: int  # made up front; the driver stops when the faults are over or the cases run out
    clients: int
    pause: float  # seconds each client waits between two decisions
    cycles: int  # fault cycles: a worker killed, a web node killed, Redis stopped
    gap: float  # seconds between two faults
    outage: float  # seconds Redis stays down
    drain: float  # seconds the outbox may take to drain


PROFILES = {
    "short": Profile(cases=40, clients=2, pause=0.4, cycles=1, gap=3, outage=10, drain=90),
    "long": Profile(cases=900, clients=4, pause=0.2, cycles=3, gap=20, outage=10, drain=600),
}


def say(text: str) -> None:
    print(text, flush=True)


class Refused(SystemExit):
    """The run cannot be made here (no PostgreSQL, no redis-server): a message and status 2."""

    def __init__(self, message: str):
        super().__init__(2)
        self.message = message


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="one fault cycle, about two minutes (make test)")
    parser.add_argument("--cases", type=int, help="cases made up front (4 decisions each)")
    parser.add_argument("--outage", type=float, help="seconds Redis stays down")
    args = parser.parse_args(argv)
    profile = PROFILES["short" if args.short else "long"]
    changes = {name: getattr(args, name) for name in ("cases", "outage") if getattr(args, name) is not None}
    args.profile = Profile(**{**profile.__dict__, **changes})
    return args


def check_environment() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise Refused(
            "make cluster-demo needs PostgreSQL: set DATABASE_URL=postgres://user:password@host/db (an account "
            "that may create databases; the demo makes its own and drops it)."
        )
    reason = needs_real_services()
    if reason:
        raise Refused(f"make cluster-demo {reason}.")
    return url


# --- the demo's database -------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(server_url: str, name: str):
    """A new, empty database on ``server_url``'s server, dropped (connections and all) afterwards."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path="/" + quote(name)))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- web nodes -----------------------------------------------------------------------------------------


class WebNode:
    """``gunicorn config.wsgi`` on its own port, in a session of its own (SIGKILL reaches its workers);
    started again on the same port."""

    def __init__(self, name: str, directory: Path, env: dict[str, str]):
        self.name = name
        self.directory = directory
        self.env = env
        self.port = free_port()
        self.proc = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = self.directory / f"{self.name}-{self.starts}.log"
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--workers",
            str(WEB_WORKERS),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--error-logfile",
            str(log),
        ]
        with log.open("ab") as output:
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        wait_until(
            lambda: self.proc.poll() is not None or self.answers(),
            timeout=START_SECONDS,
            message=lambda: f"{self.name} answering on {self.port}:\n{log.read_text()[-2000:]}",
        )
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{log.read_text()[-2000:]}")

    def answers(self) -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            connection.request("GET", "/accounts/login/")
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False

    def kill(self) -> None:
        _end(self.proc, signal.SIGKILL)

    def stop(self) -> None:
        _end(self.proc, signal.SIGTERM, timeout=15)


# --- the load driver -----------------------------------------------------------------------------------


@dataclass
class Tally:
    made: int = 0
    by_node: Counter = field(default_factory=Counter)
    cut_off: int = 0  # requests whose connection failed or was cut (a node down)
    server_errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    cases_done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def failed(self) -> bool:
        return bool(self.server_errors or self.refused)


class Balancer:
    """Round-robin over the nodes, skipping for a second one that refused a connection."""

    def __init__(self, nodes: list[WebNode]):
        self.nodes = nodes
        self.turn = 0
        self.down_until: dict[str, float] = {}
        self.lock = threading.Lock()

    def pick(self) -> WebNode:
        with self.lock:
            now = time.monotonic()
            for _ in range(len(self.nodes)):
                node = self.nodes[self.turn % len(self.nodes)]
                self.turn += 1
                if self.down_until.get(node.name, 0) <= now:
                    return node
            return self.nodes[self.turn % len(self.nodes)]

    def down(self, node: WebNode) -> None:
        with self.lock:
            self.down_until[node.name] = time.monotonic() + 1


def post_decision(node: WebNode, path: str, cookies: dict, form: dict) -> tuple[int, str]:
    """One POST on a new connection (gunicorn's sync workers close each one anyway)."""
    from http.cookies import SimpleCookie

    connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=60)
    headers = {
        "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    try:
        connection.request("POST", path, body=urlencode(form), headers=headers)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            if name in ("sessionid", "csrftoken"):
                cookies[name] = morsel.value
    return response.status, response.headers.get("Location", "")


class Driver:
    def __init__(self, nodes: list[WebNode], case_ids: list[int], profile: Profile, stop: threading.Event):
        self.balancer = Balancer(nodes)
        self.cases = list(case_ids)
        self.profile = profile
        self.stop = stop
        self.tally = Tally()
        self.lock = threading.Lock()
        # One session per holder, shared by the clients and made under a lock: each log-in strengthens the
        # bench hasher's hash, and a second log-in racing the first would leave its session signed with a
        # password hash no longer stored (Django then logs it out).
        self.sessions: dict[str, dict] = {}
        self.log_in_lock = threading.Lock()

    def next_case(self) -> int | None:
        with self.lock:
            if self.stop.is_set() or not self.cases:
                return None
            return self.cases.pop(0)

    def client(self) -> None:
        from django.db import connection

        try:
            while (pk := self.next_case()) is not None:
                if not self.drive(pk):
                    break
                with self.tally.lock:
                    self.tally.cases_done += 1
        finally:
            connection.close()

    def session(self, username: str) -> dict:
        from tests.perf.over_http import log_in

        with self.log_in_lock:
            while username not in self.sessions:
                node = self.balancer.pick()
                try:
                    self.sessions[username] = log_in(node.port, username)
                except (OSError, http.client.HTTPException):
                    self.balancer.down(node)
                    time.sleep(0.2)
            return self.sessions[username]

    def drive(self, pk: int) -> bool:
        """The case's four approvals; False once a decision failed (the client stops)."""
        from processes.models import Nomination
        from tests.factories import holders, open_step

        for _round in range(ROUNDS):
            nomination = Nomination.objects.get(pk=pk)
            task = open_step(nomination)
            cookies = self.session(holders(task)[0].get_username())
            form = {
                "csrfmiddlewaretoken": cookies["csrftoken"],
                "expected_version": nomination.version,
                "action": "approve",
                "comment": "",
            }
            path = f"/nominations/{pk}/steps/{task.pk}/decide/"
            retried = False
            while True:
                node = self.balancer.pick()
                try:
                    status, location = post_decision(node, path, cookies, form)
                except (OSError, http.client.HTTPException):
                    # The node died or refused: did the decision commit before it did? Asked of the database.
                    self.balancer.down(node)
                    with self.tally.lock:
                        self.tally.cut_off += 1
                    if self.decided(pk, task.pk):
                        self.count(node)
                        break
                    retried = True
                    time.sleep(0.2)
                    continue
                if status == 302 and urlsplit(location).path in (f"/nominations/{pk}/", "/"):  # the case, My work
                    self.count(node)
                    break
                if retried and self.decided(pk, task.pk):  # the cut-off attempt had committed: a stale page now
                    self.count(None)
                    break
                failure = f"{node.name}: nomination {pk}, task {task.pk}: HTTP {status} {location}"
                with self.tally.lock:
                    (self.tally.server_errors if status >= 500 else self.tally.refused).append(failure)
                return False
            time.sleep(self.profile.pause)
        return True

    @staticmethod
    def decided(pk: int, task_id: int) -> bool:
        from workflow.models import ApprovalTask

        # A killed node's open transaction is rolled back once PostgreSQL sees its connection gone; a
        # committed decision has closed the task.
        return ApprovalTask.objects.filter(pk=task_id, closed_at__isnull=False).exists()

    def count(self, node: WebNode | None) -> None:
        with self.tally.lock:
            self.tally.made += 1
            self.tally.by_node[node.name if node else "cut off, committed"] += 1


# --- the run -------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    redis: object
    sink: object
    workers: list
    beat: object
    nodes: list[WebNode]
    restarts: Counter = field(default_factory=Counter)
    events: list[str] = field(default_factory=list)


def faults(cluster: Cluster, driver: Driver, profile: Profile, clock: float, done: threading.Event) -> None:
    """The fault cycles, one after the other, while the driver runs; each noted with the time and the
    decisions made so far."""

    def note(text: str) -> None:
        line = f"{time.monotonic() - clock:6.1f} s, after {driver.tally.made} decisions: {text}"
        cluster.events.append(line)
        say(f"  {line}")

    try:
        for cycle in range(profile.cycles):
            time.sleep(profile.gap)
            worker = cluster.workers[cycle % len(cluster.workers)]
            worker.kill()
            note(f"worker {worker.name} killed (SIGKILL)")
            time.sleep(1)
            worker.start()
            cluster.restarts["worker"] += 1
            note(f"worker {worker.name} started again")
            time.sleep(profile.gap)
            node = cluster.nodes[(cycle + 1) % len(cluster.nodes)]
            node.kill()
            note(f"web node {node.name} killed (SIGKILL)")
            time.sleep(1)
            node.start()
            cluster.restarts["web node"] += 1
            note(f"web node {node.name} started again")
            time.sleep(profile.gap)
            cluster.redis.stop()
            note(f"Redis stopped for {profile.outage:.0f} s")
            time.sleep(profile.outage)
            cluster.redis.start()
            cluster.restarts["redis"] += 1
            note("Redis started again")
        time.sleep(profile.gap)
    finally:
        done.set()


def drain(cluster: Cluster, timeout: float) -> bool:
    """Every outbox row sent, every email row's Message-ID in the sink; False when the time ran out."""
    from notifications.models import Channel, Outbox

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Outbox.objects.exclude(status=Outbox.Status.SENT).exists():
            emails = set(Outbox.objects.filter(channel=Channel.EMAIL).values_list("pk", flat=True))
            received = set(cluster.sink.message_ids())
            if all(Outbox(pk=pk).message_id in received for pk in emails):
                return True
        time.sleep(0.5)
    return False


def count_notifications(sink) -> dict:
    from django.db.models import Count

    from notifications.models import Channel, InAppNotification, Outbox

    rows = list(Outbox.objects.values_list("pk", "channel", "status"))
    received = Counter(sink.message_ids())
    in_app = Counter(InAppNotification.objects.values_list("outbox_id", flat=True))
    delivered = 0
    for pk, channel, _status in rows:
        if channel == Channel.EMAIL:
            delivered += Outbox(pk=pk).message_id in received
        else:
            delivered += in_app[pk] > 0
    expected_ids = {Outbox(pk=pk).message_id for pk, channel, _status in rows if channel == Channel.EMAIL}
    repeated = [
        (message_id, n, attempts)
        for message_id, n in sorted(received.items())
        if n > 1
        for attempts in Outbox.objects.filter(pk=_outbox_pk(message_id)).values_list("attempts", flat=True)
    ]
    # An email received once per attempt its row records was re-sent: the worker sending it was killed after
    # the SMTP server took it and before the row was marked sent, so the next attempt sent it again, with
    # the same Message-ID (a mail client shows it once). SMTP cannot do better; that is "resent". A receipt
    # beyond the row's attempts, or an in-app entry twice, is a notification delivered twice: "duplicated".
    resent = sum(min(n, attempts) - 1 for _message_id, n, attempts in repeated)
    duplicated = sum(max(0, n - attempts) for _message_id, n, attempts in repeated) + sum(
        n - 1 for n in in_app.values() if n > 1
    )
    by_status = dict(Outbox.objects.values_list("status").annotate(n=Count("pk")).order_by())
    return {
        "expected": len(rows),
        "email": sum(1 for row in rows if row[1] == Channel.EMAIL),
        "in_app": sum(1 for row in rows if row[1] != Channel.EMAIL),
        "delivered": delivered,
        "lost": len(rows) - delivered,
        "duplicated": duplicated,
        "resent": resent,
        "unexpected": sum(n for message_id, n in received.items() if message_id not in expected_ids),
        "by_status": by_status,
        "repeated": repeated,
    }


def _outbox_pk(message_id: str) -> int | None:
    found = re.fullmatch(r"<outbox-(\d+)@.*>", message_id or "")
    return int(found.group(1)) if found else None


def main(argv: list[str]) -> int:
    args = arguments(argv)
    try:
        server_url = check_environment()
    except Refused as refused:
        print(refused.message, file=sys.stderr)
        return refused.code
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    scratch = Path(tempfile.mkdtemp(prefix="thidua-cluster-"))
    try:
        with fresh_database(server_url, f"thidua_cluster_{os.getpid()}") as url:
            return run(args, url, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run(args: argparse.Namespace, database_url: str, scratch: Path) -> int:
    from aiosmtpd.controller import Controller

    profile = args.profile
    started = time.monotonic()
    if os.environ.get("REDIS_URL"):
        say("REDIS_URL is not used: the demo stops its broker, so it starts a redis-server of its own.")
    (scratch / "redis").mkdir()
    redis = RedisServer(scratch / "redis")
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "DJANGO_"))}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis.url,
        THIDUA_VAR_DIR=str(scratch / "var"),  # one SECRET_KEY, audit and ballot keys for every process
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(sink.port),
        EMAIL_TIMEOUT=str(EMAIL_TIMEOUT_SECONDS),
        NOTIFICATION_LEASE_SECONDS=str(LEASE_SECONDS),
        SESSION_IDLE_MINUTES="240",
        PYTHONUNBUFFERED="1",
    )
    os.environ.update({**env, "DJANGO_SETTINGS_MODULE": "tests.cluster.settings"})
    processes: list = []
    try:
        redis.start()
        controller.start()
        cases = prepare(profile)
        say(f"prepared: a fresh database, {len(cases)} cases at their first step ({time.monotonic() - started:.0f} s)")

        for name in ("worker-1", "worker-2"):
            (scratch / name).mkdir()
        (scratch / "beat").mkdir()
        workers = [Worker(scratch / name, env, name=name) for name in ("worker-1", "worker-2")]
        beat = Beat(scratch / "beat", env)
        nodes = [WebNode(name, scratch, env) for name in ("web-1", "web-2")]
        processes = [*nodes, beat, *workers]
        starting = [threading.Thread(target=process.start) for process in processes]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        for process in processes:
            if process.proc is None or process.proc.poll() is not None:
                raise RuntimeError(f"{getattr(process, 'name', process)} did not start")
        cluster = Cluster(redis=redis, sink=sink, workers=workers, beat=beat, nodes=nodes)
        say(
            f"started ({time.monotonic() - started:.0f} s): web nodes on ports "
            f"{', '.join(str(node.port) for node in nodes)} ({WEB_WORKERS} gunicorn workers each), "
            f"2 Celery workers, 1 beat, redis-server on {redis.port}, SMTP sink on {sink.port}"
        )

        stop, faults_done = threading.Event(), threading.Event()
        driver = Driver(nodes, cases, profile, stop)
        load_started = time.monotonic()
        clients = [threading.Thread(target=driver.client) for _ in range(profile.clients)]
        for thread in clients:
            thread.start()
        chaos = threading.Thread(target=faults, args=(cluster, driver, profile, load_started, faults_done))
        chaos.start()
        while not faults_done.is_set() and any(thread.is_alive() for thread in clients):
            time.sleep(0.2)
        stop.set()
        for thread in clients:
            thread.join()
        load_seconds = time.monotonic() - load_started
        chaos.join()
        say(f"load over: {driver.tally.made} decisions in {load_seconds:.0f} s; waiting for the outbox")

        drain_started = time.monotonic()
        drained = drain(cluster, profile.drain)
        drain_seconds = time.monotonic() - drain_started
        figures = count_notifications(sink)
        report(args, cluster, driver.tally, figures, drained=drained, load=load_seconds, drain=drain_seconds)
        say(f"duration: {time.monotonic() - started:.0f} s (load {load_seconds:.0f} s, drain {drain_seconds:.0f} s)")
        if not cluster.events or not any("Redis started" in event for event in cluster.events):
            say("FAILED: the faults did not all happen")
            return 1
        failed = figures["lost"] or figures["duplicated"] or driver.tally.failed() or not drained
        if failed:
            for process in processes:
                if hasattr(process, "logs"):
                    say(f"--- {process.kind} {process.name}: log tail\n{process.logs()[-2000:]}")
        return 1 if failed else 0
    finally:
        from django.db import connections

        connections.close_all()
        for process in processes:
            process.stop()
        with contextlib.suppress(Exception):
            controller.stop()
        _end(redis.proc, signal.SIGKILL)


def prepare(profile: Profile) -> list[int]:
    """Migrate the fresh database, the factories' organisation and chains, and the cases submitted; the
    sweeper every few seconds (a beat row, as an operator would change it)."""
    import logging

    import django

    django.setup()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line per SMTP command
    from django.core.management import call_command
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from tests.factories import build_org, submitted

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    org = build_org()
    cases = [submitted(org).pk for _ in range(profile.cases)]
    every, _created = IntervalSchedule.objects.get_or_create(every=SWEEP_SECONDS, period=IntervalSchedule.SECONDS)
    assert PeriodicTask.objects.filter(task="notifications.sweep").update(interval=every) == 1
    return cases


def report(args, cluster: Cluster, tally: Tally, figures: dict, *, drained: bool, load: float, drain: float) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    command = "make cluster-demo" if os.environ.get("MAKELEVEL") else "python -m tests.cluster"
    say("")
    say(f"command: {command}{' --short' if args.short else ''}")
    say(
        f"machine: {platform.platform(terse=True)}, {os.cpu_count()} cores, PostgreSQL {postgres}, "
        f"web nodes 2 x {WEB_WORKERS} gunicorn workers, Celery workers 2 x 1 prefork child, beat 1"
    )
    for event in cluster.events:
        say(f"fault: {event}")
    nodes = ", ".join(f"{name} {count}" for name, count in sorted(tally.by_node.items()))
    say(
        f"decisions made: {tally.made} ({nodes}); cases taken through {ROUNDS} approvals: {tally.cases_done}; "
        f"requests cut off by a node's death: {tally.cut_off}"
    )
    say(f"decisions failed: {len(tally.server_errors)} with 5xx, {len(tally.refused)} refused")
    for failure in (tally.server_errors + tally.refused)[:5]:
        say(f"  {failure}")
    say(
        f"notifications expected: {figures['expected']} ({figures['email']} email, {figures['in_app']} in-app); "
        f"delivered: {figures['delivered']}; lost: {figures['lost']}; duplicated: {figures['duplicated']}; "
        f"re-sent after a send cut off by a kill: {figures['resent']} (same Message-ID)"
    )
    if not drained:
        say(f"  the outbox had not drained after {drain:.0f} s: rows by status {figures['by_status']}")
    if figures["repeated"] or figures["unexpected"]:
        # Sent again with a second attempt: a send cut off by SIGKILL after the SMTP server accepted it and
        # before the row was marked sent (at-least-once email; the Message-ID lets a receiver drop it).
        repeated = ", ".join(f"{mid} x{n} (attempts {attempts})" for mid, n, attempts in figures["repeated"])
        say(f"  received more than once: {repeated or 'none'}; not from the outbox: {figures['unexpected']}")
    restarts = ", ".join(f"{what} {n}" for what, n in sorted(cluster.restarts.items()))
    say(f"restarts: {sum(cluster.restarts.values())} ({restarts})")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
