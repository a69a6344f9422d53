"""Nominees (people, collectives, households) and their earlier awards."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from processes.choices import CollectiveType, Gender, IndividualCategory, NomineeKind
from processes.models.organisation import OrganisationUnit
from processes.models.reference import AwardForm
from processes.text import NameField


class Nominee(models.Model):
    """A person or a collective who may be nominated. One table, so a nomination has one foreign key."""

    kind = models.CharField(_("kind"), max_length=20, choices=NomineeKind.choices)
    name = NameField(_("full name / name"), max_length=255)
    unit = models.ForeignKey(
        OrganisationUnit, on_delete=models.PROTECT, related_name="nominees", verbose_name=_("unit")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="nominee_profiles",
        verbose_name=_("user account"),
        help_text=_("Set when the nominee uses the system, so nobody decides on their own nomination."),
    )
    # Individuals
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=50, blank=True)
    position = models.CharField(_("position"), max_length=255, blank=True)
    id_number = models.CharField(
        _("ID number"),
        max_length=12,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{9}([0-9]{3})?$", _("An ID number has 9 or 12 digits."))],
    )
    category = models.CharField(_("category"), max_length=20, choices=IndividualCategory.choices, blank=True)
    # Collectives
    collective_type = models.CharField(_("collective type"), max_length=20, choices=CollectiveType.choices, blank=True)
    remote_or_island = models.BooleanField(_("remote or island area"), default=False)
    # Decree 152/2025: no award while any of these is pending.
    pending_discipline = models.BooleanField(_("discipline pending"), default=False)
    under_investigation = models.BooleanField(_("under investigation"), default=False)
    pending_complaint = models.BooleanField(_("unresolved complaint"), default=False)

    class Meta:
        verbose_name = _("nominee")
        verbose_name_plural = _("nominees")
        ordering = ["name"]
        constraints = [
            # The code "unique" puts the message on the id_number field (Model.validate_constraints).
            models.UniqueConstraint(
                fields=["id_number"],
                condition=~Q(id_number=""),
                name="nominee_id_number_unique",
                violation_error_code="unique",
                violation_error_message=_("A nominee with this ID number is already registered."),
            ),
            models.CheckConstraint(
                condition=(Q(kind="individual", collective_type="") | Q(kind="collective", id_number="", category="")),
                name="nominee_kind_fields",
                violation_error_message=_(
                    "An individual has no collective type; a collective has no ID number and no individual category."
                ),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def masked_id_number(self) -> str:
        if not self.id_number:
            return ""
        return "•" * (len(self.id_number) - 4) + self.id_number[-4:]

    @property
    def has_pending_proceedings(self) -> bool:
        return self.pending_discipline or self.under_investigation or self.pending_complaint

    @property
    def is_direct_worker(self) -> bool:
        return self.category in (IndividualCategory.WORKER, IndividualCategory.FARMER)


class PriorAward(models.Model):
    nominee = models.ForeignKey(
        Nominee, on_delete=models.CASCADE, related_name="prior_awards", verbose_name=_("nominee")
    )
    award_form = models.ForeignKey(AwardForm, on_delete=models.PROTECT, verbose_name=_("award form"))
    year = models.PositiveSmallIntegerField(_("year"))
    decision_number = models.CharField(_("decision number"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("earlier award")
        verbose_name_plural = _("earlier awards")
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["nominee", "award_form", "year"],
                name="prior_award_unique",
                violation_error_message=_("This earlier award is already recorded for this nominee and year."),
            ),
        ]

    def __str__(self):
        return f"{self.award_form} {self.year}"
