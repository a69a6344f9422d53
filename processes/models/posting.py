"""Objections received while a nominee is publicly posted."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from processes.text import NameField
from workflow.models import ApprovalTask


class Objection(models.Model):
    """An objection to a publicly posted nominee, recorded while the posting window is open."""

    nomination = models.ForeignKey(
        "Nomination", on_delete=models.CASCADE, related_name="objections", verbose_name=_("nomination")
    )
    window = models.ForeignKey(
        ApprovalTask, on_delete=models.PROTECT, related_name="+", verbose_name=_("posting window")
    )
    author = NameField(_("raised by"), max_length=255)
    content = models.TextField(_("objection"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["recorded_at", "pk"]

    def __str__(self):
        return f"{self.author}: {self.content[:60]}"
