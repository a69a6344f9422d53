"""Organisation: units, dated parent links, dated memberships."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from processes.choices import Role, UnitKind
from processes.periods import PERIOD_ENDS_BEFORE_IT_STARTS, EndDateField, check_period, last_day, period_label
from processes.text import NameField


class OrganisationUnit(models.Model):
    code = models.CharField(_("code"), max_length=50, unique=True)
    name = NameField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    remote_or_island = models.BooleanField(_("remote or island area"), default=False)
    # What its decisions carry (Decree 30/2020): the symbol after the number, the place before the date.
    decision_symbol = models.CharField(
        _("decision symbol"),
        max_length=30,
        blank=True,
        help_text=_("Written after the number of the decisions this unit issues, e.g. QĐ-UBND."),
    )
    place_name = models.CharField(
        _("place name"),
        max_length=100,
        blank=True,
        help_text=_("Written before the date of its documents, e.g. Hải Phòng."),
    )

    class Meta:
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")
        ordering = ["code"]

    def __str__(self):
        return self.name


class DatedQuerySet(models.QuerySet):
    def on(self, day):
        """Rows in force on ``day``: ``valid_from`` inclusive, ``valid_to`` exclusive."""
        return self.filter(valid_from__lte=day).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))

    def overlapping(self, valid_from, valid_to):
        """Rows whose period meets [valid_from, valid_to); ``valid_to=None`` is open-ended."""
        rows = self.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from))
        return rows if valid_to is None else rows.filter(valid_from__lt=valid_to)


def valid_period(name: str) -> models.CheckConstraint:
    """A dated row ends after it starts, or not at all (``valid_to`` is exclusive)."""
    return models.CheckConstraint(
        condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
        name=name,
        violation_error_message=PERIOD_ENDS_BEFORE_IT_STARTS,
    )


def end_date_field() -> EndDateField:
    """``valid_to``, exclusive in the database (see ``processes.periods``); forms show the last day."""
    return EndDateField(
        _("until the end of"),
        null=True,
        blank=True,
        help_text=_("The last day included. Leave empty while there is no end."),
    )


class Dated:
    """What the dated models share: the last day in force, and a period that ends after it starts."""

    @property
    def last_day(self):
        return last_day(self.valid_to)

    @property
    def period(self) -> str:
        return period_label(self.valid_from, self.valid_to)

    def clean_period(self) -> None:
        check_period(self.valid_from, self.valid_to)


class UnitLink(Dated, models.Model):
    """A unit's parent for a period. Reorganisations end links and start new ones; none is rewritten."""

    unit = models.ForeignKey(
        OrganisationUnit, on_delete=models.CASCADE, related_name="parent_links", verbose_name=_("unit")
    )
    parent = models.ForeignKey(
        OrganisationUnit, on_delete=models.PROTECT, related_name="child_links", verbose_name=_("parent unit")
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = end_date_field()

    objects = DatedQuerySet.as_manager()

    class Meta:
        verbose_name = _("parent link")
        verbose_name_plural = _("parent links")
        indexes = [models.Index(fields=["parent", "valid_from"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(unit=models.F("parent")),
                name="unit_link_not_self",
                violation_error_message=_("A unit cannot be its own parent."),
            ),
            valid_period("unit_link_period_valid"),
        ]

    def __str__(self):
        return f"{self.unit} → {self.parent} ({self.period})"

    def clean(self):
        self.clean_period()
        if (
            self.unit_id
            and self.valid_from
            and (
                UnitLink.objects.filter(unit_id=self.unit_id)
                .overlapping(self.valid_from, self.valid_to)
                .exclude(pk=self.pk)
                .exists()
            )
        ):
            raise ValidationError(_("This unit already has a parent for part of that period."))


class Membership(Dated, models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    unit = models.ForeignKey(
        OrganisationUnit, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("unit")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    valid_from = models.DateField(_("valid from"))
    valid_to = end_date_field()

    objects = DatedQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        indexes = [
            models.Index(fields=["user", "valid_from"]),
            models.Index(fields=["unit", "role", "valid_from"]),
        ]
        constraints = [
            valid_period("membership_period_valid"),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} — {self.unit}"

    def clean(self):
        self.clean_period()
        # "Who headed unit X on date D" must have one answer. PostgreSQL also enforces this with an
        # exclusion constraint (migration 0002); SQLite relies on this check and on the service.
        if (
            self.role == Role.HEAD
            and self.unit_id
            and self.valid_from
            and (
                Membership.objects.filter(unit_id=self.unit_id, role=Role.HEAD)
                .overlapping(self.valid_from, self.valid_to)
                .exclude(pk=self.pk)
                .exists()
            )
        ):
            raise ValidationError(_("This unit already has a head for part of that period."))
