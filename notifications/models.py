"""The outbox: one row per (recipient, event, object, slot, channel), written in the transaction of
the event it tells of, delivered after commit by a Celery task that claims it with a lease.

    pending ──claim──▶ sending ──sent──▶ sent
       ▲                  │
       └──retry (backoff)─┘──too many attempts──▶ failed (an admin may retry)

The unique key makes every writer idempotent: a scan run twice, a signal replayed, an event seen by
two workers all leave one row. Delivery claims a row (pending → sending, ``lease_until``) and commits
before sending, so a crashed worker's row comes back to pending when its lease expires (the sweeper);
``next_attempt_at`` keeps retries in the row, never in long Celery countdowns.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    TASK_ASSIGNED = "task_assigned", _("A step is assigned to you")
    REMINDER = "reminder", _("A step of yours is due soon")
    DUE_TODAY = "due_today", _("A step of yours is due today")
    OVERDUE = "overdue", _("A step is overdue (escalation)")
    RETURNED = "returned", _("A case was returned for completion")
    REJECTED = "rejected", _("A case was rejected")
    DECIDED = "decided", _("A case was decided")
    BALLOT = "ballot", _("A council vote awaits your ballot")
    OPINION_ASKED = "opinion_asked", _("An opinion is asked of your agency")
    OPINION_ANSWERED = "opinion_answered", _("An agency answered a consultation on your step")
    CAMPAIGN_DEADLINE = "campaign_deadline", _("Your unit has not yet submitted to a campaign whose deadline is near")
    PROCEEDINGS = "proceedings", _("Proceedings are pending against the nominee of a step you hold")


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the application")
    EMAIL = "email", _("Email")


class Outbox(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("recipient")
    )
    event = models.CharField(_("event"), max_length=20, choices=Event.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    object_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, verbose_name=_("about"))
    object_id = models.PositiveBigIntegerField(_("object id"))
    slot = models.CharField(_("slot"), max_length=40, blank=True, help_text=_("Which repetition: a date, an offset."))
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("text"))
    link = models.CharField(_("link"), max_length=255, blank=True)
    digest = models.BooleanField(_("in the daily digest"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    lease_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    published_at = models.DateTimeField(
        _("handed to the broker at"),
        null=True,
        blank=True,
        help_text=_("Empty while no delivery message is out; the sweeper publishes again after the lease time."),
    )
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing notification")
        verbose_name_plural = _("outgoing notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event", "channel", "object_type", "object_id", "slot"], name="outbox_dedupe"
            )
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_pending_due"),
            models.Index(fields=["lease_until"], condition=Q(status="sending"), name="outbox_sending_lease"),
        ]

    def __str__(self):
        return f"{self.get_event_display()} → {self.recipient} ({self.get_channel_display()})"

    @property
    def message_id(self) -> str:
        return f"<outbox-{self.pk}@{settings.NOTIFICATION_MESSAGE_ID_HOST}>"


class InAppNotification(models.Model):
    """The notification centre's row; one per in-app outbox row, so a redelivery never shows twice."""

    outbox = models.OneToOneField(Outbox, on_delete=models.CASCADE, related_name="in_app")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=255)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "created_at"], condition=Q(read_at__isnull=True), name="inapp_unread")
        ]

    def __str__(self):
        return self.title


class Preference(models.Model):
    """A user's choice for one event: which channels, and whether email comes as a daily digest."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(_("event"), max_length=20, choices=Event.choices)
    in_app = models.BooleanField(_("in the application"), default=True)
    email = models.BooleanField(_("by email"), default=True)
    digest = models.BooleanField(_("email as a daily digest"), default=False)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [models.UniqueConstraint(fields=["user", "event"], name="preference_once")]

    def __str__(self):
        return f"{self.user} · {self.event}"


class Heartbeat(models.Model):
    """When beat last published the heartbeat task and when a worker last ran it: one row per
    component, in the database every node reads, so ``/health/ready`` on any web node sees them and
    a Redis outage stays a broker failure of its own (``notifications.health``)."""

    class Component(models.TextChoices):
        BEAT = "beat", _("Celery beat (heartbeat published)")
        WORKER = "worker", _("Celery worker (heartbeat run)")

    component = models.CharField(_("component"), max_length=20, primary_key=True, choices=Component.choices)
    at = models.DateTimeField(_("last seen at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self):
        return f"{self.get_component_display()} · {self.at:%Y-%m-%d %H:%M:%S}"
