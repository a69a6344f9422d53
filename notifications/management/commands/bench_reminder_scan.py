"""Time one reminder scan over many open tasks (the DESIGN target: 100,000 open tasks, ≤ 2 s).

Builds the tasks in bulk in a throwaway database (Django's test database beside the configured one,
created and dropped by the command), then times, in the same process:

- baseline: the bare indexed read of the open tasks the scan looks at, as plain values;
- the scan (reading, writing its outbox rows) up to its commit;
- publishing the new rows after commit (to an in-memory broker here: the broker is not measured);
- the scan again: nothing new, since the outbox's unique key deduplicates.

    manage.py bench_reminder_scan --tasks 100000
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import kombu.pools
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from notifications.bench import build_open_tasks
from notifications.reminders import scan
from notifications.tasks import deliver
from workflow.models import ApprovalTask


class Command(BaseCommand):
    help = "Time one reminder scan over N open tasks, in a throwaway database."

    def add_arguments(self, parser):
        parser.add_argument("--tasks", type=int, default=100_000)

    def handle(self, *, tasks: int, **options):
        app = deliver.app
        # What is measured is the scan, not a broker. The app reads Django's CELERY_ keys first.
        app.conf.update(CELERY_BROKER_URL="memory://", CELERY_BROKER_TRANSPORT_OPTIONS={})
        kombu.pools.reset()
        app._pool = None
        real_name = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        try:
            self.measure(tasks)
        finally:
            connection.creation.destroy_test_db(real_name, verbosity=0)

    def measure(self, tasks: int) -> None:
        now = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))  # a Wednesday
        started = time.perf_counter()
        with transaction.atomic():
            build_open_tasks(tasks, around=now)
        self.line(f"built {tasks:,} open tasks in {time.perf_counter() - started:.1f} s ({connection.vendor})")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.vendor != "sqlite" else "ANALYZE main")

        started = time.perf_counter()
        read = len(
            ApprovalTask.objects.filter(closed_at__isnull=True, due_at__lt=now + timedelta(days=5)).values_list(
                "pk", "due_at", "candidates__user_id", "step__name", "process__subject_id"
            )
        )
        baseline = time.perf_counter() - started
        self.line(f"baseline: read {read:,} open tasks due within 5 days, as values, in {baseline:.3f} s")

        started = time.perf_counter()
        with transaction.atomic():
            written = scan(now=now)
            took = time.perf_counter() - started
            started = time.perf_counter()
        published = time.perf_counter() - started
        self.line(f"scan: {written:,} outbox rows written in {took:.3f} s (target ≤ 2 s on 2 cores, PostgreSQL)")
        self.line(f"      then committed and published in {published:.3f} s")
        started = time.perf_counter()
        again = scan(now=now)
        self.line(f"scan again: {again} new rows in {time.perf_counter() - started:.3f} s")

    def line(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()
