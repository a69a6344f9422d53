"""Prometheus metrics at ``/metrics``: request latency, decisions, Celery task outcomes (counted in
the process where they happen), and overdue steps and the outbox (read from the database at scrape).

Under gunicorn each worker process counts its own requests: with ``PROMETHEUS_MULTIPROC_DIR`` set
(an empty folder shared by the web and Celery processes of one machine, in their environment before
they start) prometheus_client keeps the counts in files there and a scrape adds them up. Without
it, a scrape shows the answering process's counts only (the embedded run, a single process).

Off (404) unless ``METRICS_TOKEN`` (``Authorization: Bearer …``) or ``METRICS_ALLOWED_NETWORKS``
(CIDRs, matched against the client address as ``processes.network`` finds it) is set; either admits.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from functools import partial

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from notifications import health
from notifications.models import Outbox
from processes import actions
from processes.network import client_address
from workflow.models import ApprovalTask

logger = logging.getLogger(__name__)

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")

REQUEST_LATENCY = Histogram(
    "thidua_http_request_duration_seconds",
    "Time from the request reaching the application to its response, by view, method and status class.",
    ["view", "method", "status"],
)
DECISIONS = Counter(
    "thidua_decisions",
    "Decisions committed on approval steps, by action.",
    ["action"],
)
CELERY_TASKS = Counter(
    "thidua_celery_tasks",
    "Celery tasks finished, by task name and final state.",
    ["task", "state"],
)

#: The audit actions that record a decision on a step → the ``action`` label.
DECISION_ACTIONS = {
    actions.STEP_APPROVED: "approve",
    actions.AWARDED: "award",
    actions.RETURNED: "return",
    actions.REJECTED: "reject",
    actions.SENT_BACK: "send_back",
}
#: Methods named as themselves; anything else is "other" (a label value per made-up verb would
#: let any client grow the series without bound).
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class RequestMetricsMiddleware:
    """First in the chain, so the time includes every other middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None else "<unresolved>"  # a route without a name: its function
        method = request.method if request.method in METHODS else "other"
        REQUEST_LATENCY.labels(view=view, method=method, status=f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response


def on_audit_entry(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """A decision's audit entry: counted once its transaction commits (a refused or rolled-back
    decision is not one)."""
    if not created or raw:
        return
    action = DECISION_ACTIONS.get(instance.action)
    if action is not None:
        transaction.on_commit(partial(DECISIONS.labels(action=action).inc))


def on_task_postrun(sender=None, state=None, **kwargs) -> None:
    """``task_postrun``, in the process that ran the task: SUCCESS, FAILURE, RETRY, …"""
    name = getattr(sender, "name", None) or "unknown"
    CELERY_TASKS.labels(task=name, state=state or "UNKNOWN").inc()


def on_task_revoked(sender=None, request=None, terminated=False, expired=False, **kwargs) -> None:
    name = getattr(sender, "name", None) or "unknown"
    CELERY_TASKS.labels(task=name, state="EXPIRED" if expired else "REVOKED").inc()


class DatabaseCollector:
    """Gauges read at scrape time, each from an indexed query; the same on every node. Without the
    database the scrape still answers, with ``thidua_metrics_database_up 0``."""

    def collect(self):
        up = GaugeMetricFamily("thidua_metrics_database_up", "Whether the database gauges could be read.")
        try:
            now = timezone.now()
            # approval_task_open_due: open tasks by due time.
            overdue = ApprovalTask.objects.filter(closed_at__isnull=True, due_at__lt=now).count()
            # outbox_pending_due and outbox_sending_lease: partial indexes on exactly these rows.
            pending = Outbox.objects.filter(status=Outbox.Status.PENDING).count()
            sending = Outbox.objects.filter(status=Outbox.Status.SENDING).count()
            oldest = health.outbox_oldest_due_age()
        except Exception:
            logger.exception("metrics: could not read the database gauges")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("thidua_overdue_steps", "Open approval steps past their due time.", value=overdue)
        depth = GaugeMetricFamily("thidua_outbox_depth", "Outbox rows not yet sent, by status.", labels=["status"])
        depth.add_metric([Outbox.Status.PENDING.value], pending)
        depth.add_metric([Outbox.Status.SENDING.value], sending)
        yield depth
        yield GaugeMetricFamily(
            "thidua_outbox_oldest_unsent_age_seconds",
            "Seconds since the oldest pending outbox row was due to be sent (0 when none is).",
            value=oldest or 0.0,
        )


def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry, strict=False) for entry in settings.METRICS_ALLOWED_NETWORKS]


def _refusal(request) -> HttpResponse | None:
    """None when the request may read the metrics; else the answer it gets."""
    token = settings.METRICS_TOKEN
    networks = _networks()
    if not token and not networks:
        raise Http404
    address = client_address(request)
    if networks and address is not None and any(ipaddress.ip_address(address) in net for net in networks):
        return None
    if token:
        scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and given:
            if hmac.compare_digest(given.strip().encode(), token.encode()):
                return None
            return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse("Forbidden\n", status=403, content_type="text/plain")


def _registry() -> CollectorRegistry:
    """The process's metrics (or, in multi-process mode, every process's from their files)."""
    registry = CollectorRegistry()
    if MULTIPROCESS_DIR:
        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in (REQUEST_LATENCY, DECISIONS, CELERY_TASKS):
            registry.register(metric)
    registry.register(DatabaseCollector())
    return registry


@login_not_required
@never_cache
@require_GET
def metrics(request):
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
