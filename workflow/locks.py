"""The flow lock: one row lock per process, waited for (not polled), with a bounded wait.

viewflow's ``SelectForUpdateLock`` with ``nowait=False`` waits on the process row; on PostgreSQL a
``lock_timeout`` bounds that wait so a stuck transaction turns into a clear error instead of a hung
request. On SQLite (the embedded default) ``BEGIN IMMEDIATE`` already serialises writers.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction
from viewflow.workflow.exceptions import FlowLockFailed

#: How long a decision waits for another one on the same case before giving up.
LOCK_TIMEOUT_MS = 5000


class ProcessRowLock:
    def __init__(self, timeout_ms: int = LOCK_TIMEOUT_MS):
        self.timeout_ms = timeout_ms

    @contextmanager
    def __call__(self, flow_class, process_pk):
        with transaction.atomic():
            if connection.vendor == "sqlite":
                # SQLite has no row locks (Django drops FOR UPDATE there); the write lock that BEGIN
                # IMMEDIATE took for this transaction already serialises every writer.
                yield
                return
            rows = flow_class.process_class._default_manager.filter(pk=process_pk)
            postgres = connection.vendor == "postgresql"
            try:
                if postgres:
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = %s", [f"{int(self.timeout_ms)}ms"])
                # A savepoint, so a timed-out wait leaves the caller's transaction usable.
                with transaction.atomic():
                    rows.select_for_update(nowait=False).exists()
            except DatabaseError as exc:
                raise FlowLockFailed(f"Lock on process {process_pk} not obtained in {self.timeout_ms} ms") from exc
            finally:
                if postgres:
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = DEFAULT")
            yield
