"""Time one reminder scan over many open tasks (the DESIGN target: 100,000 open tasks, ≤ 2 s).

Builds the tasks in bulk in its own database (refuses to run on one holding real cases unless told),
then times ``notifications.reminders.scan`` once, beside a baseline in the same run: the bare
index query of the open tasks due in the scan's windows.

    manage.py bench_reminder_scan --tasks 100000
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from notifications.bench import build_open_tasks
from notifications.models import Outbox
from notifications.reminders import scan
from workflow.models import ApprovalTask


class Command(BaseCommand):
    help = "Time one reminder scan over N open tasks (built in bulk first)."

    def add_arguments(self, parser):
        parser.add_argument("--tasks", type=int, default=100_000)
        parser.add_argument("--yes", action="store_true", help="Run even where cases already exist.")

    def handle(self, *, tasks: int, yes: bool, **options):
        if ApprovalTask.objects.exists() and not yes:
            raise CommandError("This database already holds approval tasks; pass --yes to add bench tasks to it.")
        now = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))  # a Wednesday
        started = time.perf_counter()
        with transaction.atomic():
            build_open_tasks(tasks, around=now)
        self.stdout.write(f"built {tasks} open tasks in {time.perf_counter() - started:.1f} s ({connection.vendor})")

        started = time.perf_counter()
        due = ApprovalTask.objects.filter(closed_at__isnull=True, due_at__lt=now + timedelta(days=3)).count()
        baseline = time.perf_counter() - started
        Outbox.objects.all().delete()
        started = time.perf_counter()
        written = scan(now=now)
        took = time.perf_counter() - started
        self.stdout.write(f"baseline: index count of tasks due within 3 days: {due} rows in {baseline:.3f} s")
        self.stdout.write(f"scan: {written} outbox rows written in {took:.3f} s (target ≤ 2 s on 2 cores, PostgreSQL)")
