"""A decision waits for another one on the same case only so long; then it says why it did not go through."""

import threading

import pytest
from django.db import connection, transaction

from processes import services
from tests.factories import holders, open_step, submitted
from workflow.approvals import approval_lock
from workflow.errors import StepBusy, StepClosed


@pytest.mark.postgres
def test_a_decision_that_times_out_on_the_lock_is_told_so_and_later_who_decided(org):
    nomination = submitted(org)
    task = open_step(nomination)
    holder = holders(task)[0]
    locked, release = threading.Event(), threading.Event()

    def first():
        try:
            with transaction.atomic(), approval_lock(task.process_id):
                locked.set()
                release.wait(10)
                services.nomination_decide(task_id=task.pk, by=holder, action="approve")
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert locked.wait(10)
    with connection.cursor() as cursor:  # the connection's bound on a wait (DATABASE_LOCK_TIMEOUT_MS), shortened
        cursor.execute("SET lock_timeout = '200ms'")
    try:
        with pytest.raises(StepBusy):
            services.nomination_decide(task_id=task.pk, by=holder, action="reject", comment="Trùng")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    release.set()
    thread.join(10)
    with pytest.raises(StepClosed, match="already decided by"):
        services.nomination_decide(task_id=task.pk, by=holder, action="reject", comment="Trùng")
    assert open_step(nomination).step.code == "proposer_submit"
