"""The replicate stage as work: how an awarded exemplar is spread, and when that is enough."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes.models.dossiers import _dossier_storage
from processes.models.nominations import Nomination
from processes.models.organisation import OrganisationUnit


class ActivityKind(models.TextChoices):
    TALK = "talk", _("Talk or meeting")
    ARTICLE = "article", _("Article or broadcast")
    TRAINING = "training", _("Training")
    ADOPTION = "adoption", _("Adopted by another unit")


class ReplicationPlan(models.Model):
    """What spreading this exemplar takes before the case closes by itself."""

    nomination = models.OneToOneField(
        Nomination, on_delete=models.CASCADE, related_name="replication_plan", verbose_name=_("nomination")
    )
    activities_required = models.PositiveSmallIntegerField(_("dissemination activities required"), default=2)
    adoptions_required = models.PositiveSmallIntegerField(_("adopting units required"), default=1)
    notes = models.TextField(_("plan"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("updated by")
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("replication plan")
        verbose_name_plural = _("replication plans")

    def __str__(self):
        return str(self.nomination)


class DisseminationActivity(models.Model):
    """A talk, article, training or adoption that spread an awarded exemplar."""

    Kind = ActivityKind

    nomination = models.ForeignKey(
        Nomination, on_delete=models.PROTECT, related_name="activities", verbose_name=_("nomination")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices)
    held_on = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    adopting_unit = models.ForeignKey(
        OrganisationUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adopted_exemplars",
        verbose_name=_("adopting unit"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("dissemination activity")
        verbose_name_plural = _("dissemination activities")
        ordering = ["held_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="adoption", adopting_unit__isnull=False) | (~Q(kind="adoption")),
                name="activity_adoption_names_unit",
                violation_error_message=_("An adoption names the unit that adopted the model."),
            ),
        ]
        indexes = [models.Index(fields=["nomination", "kind"], name="activity_nomination_kind")]

    def __str__(self):
        return self.title


def _evidence_path(instance, filename):
    # Beside the case's dossier files, under a random name with the extension of the detected type:
    # the client's name never reaches the disk.
    return f"{instance.activity.nomination_id}/replication/{uuid.uuid4().hex}.{instance.extension}"


class ActivityEvidence(models.Model):
    """A file showing a dissemination activity took place (minutes, an article, a photo), stored and
    checked like a dossier file and served only through the permission-checked download view."""

    activity = models.ForeignKey(
        DisseminationActivity, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("activity")
    )
    file = models.FileField(_("file"), storage=_dossier_storage, upload_to=_evidence_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=120)
    extension = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("activity evidence")
        verbose_name_plural = _("activity evidence")
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.original_name
