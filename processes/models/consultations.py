"""Opinions asked of other agencies during appraisal."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from processes.models.organisation import OrganisationUnit
from workflow.models import ApprovalTask


class Consultation(models.Model):
    """An opinion asked of another agency (tax, social insurance, environment) during appraisal."""

    nomination = models.ForeignKey(
        "Nomination", on_delete=models.CASCADE, related_name="consultations", verbose_name=_("nomination")
    )
    approval_task = models.ForeignKey(
        ApprovalTask, on_delete=models.PROTECT, related_name="+", verbose_name=_("appraisal step")
    )
    agency = models.ForeignKey(
        OrganisationUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations",
        verbose_name=_("agency in the organisation"),
    )
    agency_name = models.CharField(_("agency"), max_length=255)
    question = models.TextField(_("question"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("asked by")
    )
    requested_at = models.DateTimeField(_("asked at"))
    due_at = models.DateTimeField(_("answer due"))
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answer recorded by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    via_board = models.BooleanField(_("letter recorded by the Board"), default=False)

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["requested_at", "pk"]
        indexes = [
            models.Index(fields=["agency", "due_at"], condition=Q(answered_at__isnull=True), name="consultation_open")
        ]

    def __str__(self):
        return f"{self.agency_name} · {self.nomination_id}"
