"""Celery tasks: delivery of one outbox row, the sweeper, the reminder scan, the health heartbeat."""

from celery import shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from notifications import health, outbox
from notifications.models import Heartbeat
from notifications.reminders import scan


@shared_task(name=outbox.DELIVER, ignore_result=True)
def deliver(pk: int) -> str:
    return outbox.deliver(pk)


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep() -> int:
    return outbox.sweep()


@shared_task(name="notifications.scan_reminders", ignore_result=True)
def scan_reminders(now: str | None = None) -> int:
    return scan(now=parse_datetime(now) if now else timezone.now())


@shared_task(name=health.HEARTBEAT, ignore_result=True)
def heartbeat() -> None:
    """Published by beat every 30 seconds (beat's heartbeat, recorded on publishing); a worker ran it."""
    health.heartbeat_record(component=Heartbeat.Component.WORKER)
