"""Celery tasks of the engine."""

from celery import shared_task
from viewflow.workflow.timers import fire_due_timers

from workflow.checkpoints import audit_checkpoint_write

#: How many times one run fires the timers that became due while it fired others.
ROUNDS = 5


@shared_task(name="workflow.fire_due_timers", ignore_result=True)
def fire_timers() -> int:
    """Fire viewflow's due timers: posting windows ending, council sessions reaching their closing
    time, a session's tally once its ballots are all in. Run every minute by beat (a
    django-celery-beat row made by a data migration). A timer may make another one due at once (the
    last ballot's closing time makes the tally due): it fires again until none is due, a few rounds
    at most."""
    fired = 0
    for _round in range(ROUNDS):
        now_fired = fire_due_timers()
        fired += now_fired
        if not now_fired:
            break
    return fired


@shared_task(name="workflow.audit_checkpoint", ignore_result=True)
def audit_checkpoint() -> int | None:
    """Write a signed checkpoint of the audit chains' heads outside the database, if one moved; safe
    to run twice (the second finds nothing moved). Run every 5 minutes by beat (a data migration's
    django-celery-beat row). Returns the checkpoint's number, or None when nothing was written."""
    written = audit_checkpoint_write()
    return written[0].number if written else None
