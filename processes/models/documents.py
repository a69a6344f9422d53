"""Signed award decisions: one document for several awardees, numbered by the product.

Each issuing unit numbers its decisions from 1 every year, with no gap: the number is taken from
``DecisionCounter`` under a row lock in the transaction that records the decision, so a signing that
fails gives its number back and two signers at once get consecutive numbers.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes.models.organisation import OrganisationUnit


class DecisionCounter(models.Model):
    """The last decision number an issuer gave in a year (the row signers lock)."""

    issuer = models.ForeignKey(OrganisationUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("issuer"))
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number issued"), default=0)

    class Meta:
        verbose_name = _("decision number counter")
        verbose_name_plural = _("decision number counters")
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "year"],
                name="decision_counter_issuer_year",
                violation_error_message=_("This issuer already has a number counter for this year."),
            )
        ]

    def __str__(self):
        return f"{self.issuer} {self.year}: {self.last_number}"


class AwardDecision(models.Model):
    """A signed decision (quyết định): its number and symbol, who signed it and for whom; its
    awardees are the ``Decision`` rows pointing at it (``awards``)."""

    issuer = models.ForeignKey(
        OrganisationUnit, on_delete=models.PROTECT, related_name="award_decisions", verbose_name=_("issuer")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("number"))
    symbol = models.CharField(_("symbol"), max_length=30)
    signed_on = models.DateField(_("signed on"))
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("signer")
    )
    on_behalf = models.BooleanField(_("signed on the chairman's behalf"), default=False)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("award decision")
        verbose_name_plural = _("award decisions")
        ordering = ["-signed_on", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "year", "sequence"],
                name="award_decision_number_unique",
                violation_error_message=_("This issuer has already given this number this year."),
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        """The number and symbol as written on the paper: ``245/QĐ-UBND``."""
        return f"{self.sequence}/{self.symbol}"
