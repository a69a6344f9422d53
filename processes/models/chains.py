"""Which template a case walks, and who stands in for a head."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from processes.choices import Procedure
from processes.models.reference import AwardForm


class ChainAssignment(models.Model):
    """Award form (and optionally procedure) → the process template its cases walk.

    A blank procedure is the form's default; a row for the exact procedure wins over it.
    """

    award_form = models.ForeignKey(
        AwardForm, on_delete=models.CASCADE, related_name="chain_assignments", verbose_name=_("award form")
    )
    procedure = models.CharField(
        _("procedure"),
        max_length=20,
        choices=Procedure.choices,
        blank=True,
        help_text=_("Leave blank for every procedure without a row of its own."),
    )
    template = models.ForeignKey(
        "workflow.ProcessTemplate",
        on_delete=models.PROTECT,
        related_name="chain_assignments",
        verbose_name=_("process template"),
    )

    class Meta:
        verbose_name = _("chain assignment")
        verbose_name_plural = _("chain assignments")
        ordering = ["award_form__code", "procedure"]
        constraints = [
            models.UniqueConstraint(
                fields=["award_form", "procedure"],
                name="chain_assignment_form_procedure_unique",
                violation_error_message=_("This award form already has a chain for this procedure."),
            ),
        ]

    def __str__(self):
        procedure = self.get_procedure_display() if self.procedure else _("any procedure")
        return f"{self.award_form} / {procedure} → {self.template}"
