"""Health of an installation: ``/health/live`` (this process answers) and ``/health/ready`` (the
database, the broker, the migrations, beat and the workers, the outbox all fit to work).

Beat publishes ``notifications.heartbeat`` every 30 seconds (a django-celery-beat row): the publish
records the beat's heartbeat (``after_task_publish``, in the beat process), the task records the
worker's when a worker runs it. Both are rows in the database, which every node reads, not keys in
Redis: a Redis outage must show as the broker's failure, with the heartbeats ageing behind it.

Each check answers ``{ok, detail, age_seconds}``; no detail names a host, a URL or a password.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Min
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from notifications.models import Heartbeat, Outbox

logger = logging.getLogger(__name__)

HEARTBEAT = "notifications.heartbeat"
#: How long the broker check waits for Redis before calling it unreachable.
BROKER_TIMEOUT_SECONDS = 2


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    detail: str = ""
    age_seconds: float | None = None


def heartbeat_record(*, component: str) -> None:
    Heartbeat.objects.update_or_create(component=component, defaults={"at": timezone.now()})


def on_task_published(sender=None, **kwargs) -> None:
    """``after_task_publish``: beat handed the heartbeat to the broker (it runs in the publishing
    process, beat's, whose connection may have outlived a database restart)."""
    if sender != HEARTBEAT:
        return
    if not connections[DEFAULT_DB_ALIAS].in_atomic_block:  # a caller's transaction is left alone
        close_old_connections()
    try:
        heartbeat_record(component=Heartbeat.Component.BEAT)
    except Exception:
        logger.exception("could not record beat's heartbeat")


def _failure(exc: BaseException) -> str:
    """The kind of failure, not its message: a driver's message may carry a host or a user name."""
    return f"unavailable ({type(exc).__name__})"


def check_database() -> Check:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return Check(False, _failure(exc))
    return Check(True, connections[DEFAULT_DB_ALIAS].vendor)


def check_broker() -> Check:
    """Redis answers a PING; the embedded broker's folders are there and writable."""
    if settings.REDIS_URL:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=BROKER_TIMEOUT_SECONDS, socket_timeout=BROKER_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        except Exception as exc:
            return Check(False, _failure(exc))
        finally:
            client.close()
        return Check(True, "redis")
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    folders = [options.get("data_folder_in"), options.get("data_folder_out"), options.get("control_folder")]
    missing = [folder for folder in folders if not folder or not os.access(folder, os.W_OK | os.X_OK)]
    if missing:
        return Check(False, "the embedded broker's folders are missing or not writable")
    return Check(True, "filesystem")


def check_migrations() -> Check:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        first = plan[0][0]
        return Check(False, f"{len(plan)} unapplied, first {first.app_label}.{first.name}")
    return Check(True, "all applied")


def check_heartbeat(component: str) -> Check:
    row = Heartbeat.objects.filter(component=component).first()
    if row is None:
        return Check(False, "never recorded")
    age = max((timezone.now() - row.at).total_seconds(), 0.0)
    limit = settings.HEALTH_HEARTBEAT_MAX_AGE
    return Check(age <= limit, f"limit {limit} s", round(age, 1))


def outbox_oldest_due_age() -> float | None:
    """Seconds since the oldest pending row was due to be sent (its ``next_attempt_at``), or None.

    Due, not created: a digest row waits for its hour and a failed send for its backoff by design;
    what counts is how long delivery has been late. One look at the pending partial index.
    """
    now = timezone.now()
    oldest = Outbox.objects.filter(status=Outbox.Status.PENDING, next_attempt_at__lte=now).aggregate(
        oldest=Min("next_attempt_at")
    )["oldest"]
    return None if oldest is None else max((now - oldest).total_seconds(), 0.0)


def check_outbox() -> Check:
    age = outbox_oldest_due_age()
    limit = settings.HEALTH_OUTBOX_MAX_AGE
    if age is None:
        return Check(True, f"nothing due; limit {limit} s", 0.0)
    return Check(age <= limit, f"oldest due row; limit {limit} s", round(age, 1))


def _guarded(check, *args) -> Check:
    try:
        return check(*args)
    except Exception as exc:
        logger.exception("health check %s failed", getattr(check, "__name__", check))
        return Check(False, _failure(exc))


def readiness() -> dict[str, Check]:
    """Every check by name. Without the database, the checks that read it are not run (each would
    wait for its own connection attempt) and say why."""
    checks = {"database": _guarded(check_database), "broker": _guarded(check_broker)}
    database_checks = {
        "migrations": (check_migrations,),
        "beat": (check_heartbeat, Heartbeat.Component.BEAT),
        "worker": (check_heartbeat, Heartbeat.Component.WORKER),
        "outbox": (check_outbox,),
    }
    for name, (check, *args) in database_checks.items():
        checks[name] = _guarded(check, *args) if checks["database"].ok else Check(False, "database unavailable")
    return checks


@login_not_required
@never_cache
@require_GET
def live(request):
    """The process answers; nothing else is touched (no database, no broker)."""
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_GET
def ready(request):
    checks = readiness()
    healthy = all(check.ok for check in checks.values())
    body = {"status": "ok" if healthy else "fail", "checks": {name: asdict(check) for name, check in checks.items()}}
    return JsonResponse(body, status=200 if healthy else 503)
