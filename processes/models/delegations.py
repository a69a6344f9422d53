"""A head's stand-in for a period."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from processes.choices import Role
from processes.models.organisation import (
    Dated,
    DatedQuerySet,
    Membership,
    OrganisationUnit,
    end_date_field,
    valid_period,
)

DELEGATE_IS_DELEGATOR = _("A head cannot delegate to themselves.")


class Delegation(Dated, models.Model):
    """A head names someone of the unit to act for them over a period (leave, a mission).

    Tasks created in the period go to the delegate, marked as on the head's behalf; tasks created
    before or after stay with the head.
    """

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="delegations_given",
        verbose_name=_("delegating head"),
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="delegations_received",
        verbose_name=_("delegate"),
    )
    unit = models.ForeignKey(
        OrganisationUnit, on_delete=models.CASCADE, related_name="delegations", verbose_name=_("unit")
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = end_date_field()
    reason = models.TextField(_("reason"), blank=True)

    objects = DatedQuerySet.as_manager()

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-valid_from", "-id"]
        indexes = [models.Index(fields=["unit", "delegator", "valid_from"], name="delegation_lookup")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(delegator=models.F("delegate")),
                name="delegation_not_self",
                violation_error_message=DELEGATE_IS_DELEGATOR,
            ),
            valid_period("delegation_period_valid"),
        ]

    def __str__(self):
        return f"{self.delegator} → {self.delegate} ({self.unit}, {self.period})"

    def clean(self):
        if self.delegator_id and self.delegator_id == self.delegate_id:
            raise ValidationError({"delegate": DELEGATE_IS_DELEGATOR})
        self.clean_period()
        if not (self.unit_id and self.valid_from and self.delegator_id and self.delegate_id):
            return
        on_start = Membership.objects.on(self.valid_from).filter(unit_id=self.unit_id)
        if not on_start.filter(user_id=self.delegator_id, role=Role.HEAD).exists():
            raise ValidationError({"delegator": _("Only the head of the unit on the first day can delegate.")})
        if not on_start.filter(user_id=self.delegate_id).exists():
            raise ValidationError(
                {"delegate": _("The delegate must belong to the unit on the first day of the delegation.")}
            )
