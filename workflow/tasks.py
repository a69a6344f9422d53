"""Celery tasks of the engine."""

from celery import shared_task
from viewflow.workflow.timers import fire_due_timers


@shared_task(name="workflow.fire_due_timers", ignore_result=True)
def fire_timers() -> int:
    """Fire viewflow's due timers: posting windows ending, council sessions reaching their closing
    time. Run every minute by beat (a django-celery-beat row made by a data migration)."""
    return fire_due_timers()
