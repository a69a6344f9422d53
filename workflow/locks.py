"""The flow lock: one row lock per process, waited for (not polled), with a bounded wait.

viewflow's ``SelectForUpdateLock`` with ``nowait=False`` waits on the process row; on PostgreSQL the
connection's ``lock_timeout`` (``settings.DATABASE_LOCK_TIMEOUT_MS``, set once per connection) bounds
that wait, so a stuck transaction turns into a clear error instead of a hung request. On SQLite (the
embedded default) ``BEGIN IMMEDIATE`` already serialises writers. A decision takes this lock in the
statement that reads its step (``workflow.approvals.take_open_step``); this class serves the rest.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction
from viewflow.workflow.exceptions import FlowLockFailed


class ProcessRowLock:
    @contextmanager
    def __call__(self, flow_class, process_pk):
        # No savepoint of its own: a lock that cannot be had fails the whole write, as it should.
        with transaction.atomic(savepoint=False):
            if connection.vendor != "sqlite":
                # SQLite has no row locks (Django drops FOR UPDATE there); the write lock that BEGIN
                # IMMEDIATE took for this transaction already serialises every writer.
                try:
                    flow_class.process_class._default_manager.filter(pk=process_pk).select_for_update().exists()
                except DatabaseError as exc:
                    raise FlowLockFailed(f"Lock on process {process_pk} not obtained") from exc
            yield
