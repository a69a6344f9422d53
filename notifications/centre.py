"""The notification centre's reads and writes, for its page and the API: a user's own in-app
notifications, newest first, and marking them read."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from notifications.models import InAppNotification


def notifications_of(user) -> QuerySet[InAppNotification]:
    """``user``'s own notifications, newest first; nobody else's exist for them."""
    return InAppNotification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def notification_mark_read(*, notification: InAppNotification) -> None:
    """Mark one read (once: a second call keeps the first time)."""
    if notification.read_at is None:
        InAppNotification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())


def notifications_mark_all_read(*, user) -> int:
    return InAppNotification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
