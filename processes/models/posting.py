"""Objections received while a nominee is publicly posted."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from processes.text import NameField
from workflow.models import ApprovalTask


class Objection(models.Model):
    """An objection to a publicly posted nominee, recorded while the posting window is open: by the
    Board (a letter, a call) or sent by anyone through the public posting page."""

    class Source(models.TextChoices):
        BOARD = "board", _("recorded by the Board")
        PUBLIC = "public", _("sent through the public posting page")

    nomination = models.ForeignKey(
        "Nomination", on_delete=models.CASCADE, related_name="objections", verbose_name=_("nomination")
    )
    window = models.ForeignKey(
        ApprovalTask, on_delete=models.PROTECT, related_name="+", verbose_name=_("posting window")
    )
    author = NameField(_("raised by"), max_length=255)
    content = models.TextField(_("objection"))
    # How to reach whoever raised it (optional; given on the public page only).
    contact = models.CharField(_("contact"), max_length=255, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.BOARD)
    # Empty for an objection sent through the public page: nobody signed in recorded it.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # Where a public objection came from, kept with it (not in the permanent audit log) for abuse.
    client_address = models.GenericIPAddressField(_("sent from address"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["recorded_at", "pk"]

    def __str__(self):
        return f"{self.author}: {self.content[:60]}"

    @property
    def is_public(self) -> bool:
        return self.source == self.Source.PUBLIC
