"""Reference data: award forms, required documents, eligibility rules, campaigns."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from processes.choices import ACHIEVEMENT_REPORT, CampaignKind, DecisionLevel, EligibilityKind, Enforcement
from processes.models.organisation import OrganisationUnit
from processes.text import NameField
from workflow.models import FailedQuorum, VoteRules


class AwardForm(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = NameField(_("name"), max_length=255)
    name_en = NameField(_("English name"), max_length=255, blank=True)
    decision_level = models.CharField(_("decided by"), max_length=20, choices=DecisionLevel.choices)
    for_individual = models.BooleanField(_("for individuals"), default=False)
    for_collective = models.BooleanField(_("for collectives"), default=False)
    for_household = models.BooleanField(_("for households"), default=False)
    council_vote = models.BooleanField(_("council vote"), default=False)
    public_posting_working_days = models.PositiveSmallIntegerField(_("public posting (working days)"), default=0)
    council_quorum_percent = models.PositiveSmallIntegerField(
        _("council quorum (percent of members voting)"),
        default=67,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    council_threshold_percent = models.PositiveSmallIntegerField(
        _("council threshold (percent in favour)"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    council_threshold_of = models.CharField(
        _("the threshold is a share of"), max_length=10, choices=VoteRules.choices, default=VoteRules.CAST
    )
    council_failed_quorum = models.CharField(
        _("without quorum the case goes"), max_length=10, choices=FailedQuorum.choices, default=FailedQuorum.BACK
    )
    council_recuse_own_unit = models.BooleanField(
        _("council members of the proposing unit do not vote on its cases"),
        default=False,
        help_text=_(
            "The nominee never votes on their own case; with this set, neither does any council member who "
            "belongs to the proposing unit on the session's day."
        ),
    )
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("award form")
        verbose_name_plural = _("award forms")
        ordering = ["code"]

    def __str__(self):
        return self.name


class DocumentType(models.Model):
    ACHIEVEMENT_REPORT = ACHIEVEMENT_REPORT

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=255)

    class Meta:
        verbose_name = _("document type")
        verbose_name_plural = _("document types")
        ordering = ["name"]

    def __str__(self):
        return self.name


class RequiredDocument(models.Model):
    award_form = models.ForeignKey(
        AwardForm, on_delete=models.CASCADE, related_name="required_documents", verbose_name=_("award form")
    )
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, verbose_name=_("document type"))

    class Meta:
        verbose_name = _("required document")
        verbose_name_plural = _("required documents")
        constraints = [
            models.UniqueConstraint(
                fields=["award_form", "document_type"],
                name="required_document_unique",
                violation_error_message=_("This document is already required for this award form."),
            ),
        ]

    def __str__(self):
        return f"{self.award_form}: {self.document_type}"


class EligibilityRule(models.Model):
    """An eligibility condition kept as data, because several are uncertain in law."""

    Kind = EligibilityKind
    Enforcement = Enforcement

    award_form = models.ForeignKey(
        AwardForm, on_delete=models.CASCADE, related_name="eligibility_rules", verbose_name=_("award form")
    )
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    required_form = models.ForeignKey(
        AwardForm,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("earlier award form"),
    )
    years = models.PositiveSmallIntegerField(_("consecutive years"), default=1)
    enforcement = models.CharField(_("enforcement"), max_length=10, choices=Enforcement.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=255, blank=True)
    uncertain = models.BooleanField(_("uncertain in law"), default=False)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("eligibility rule")
        verbose_name_plural = _("eligibility rules")
        constraints = [
            # A streak of what? A rule that cannot be evaluated would block (or warn of) every case.
            models.CheckConstraint(
                condition=~Q(kind="prior_award_streak")
                | Q(enforcement="off")
                | Q(required_form__isnull=False, years__gte=1),
                name="eligibility_streak_complete",
                violation_error_message=_("A streak rule names the earlier award form and at least one year."),
            ),
        ]

    def __str__(self):
        return f"{self.award_form}: {self.get_kind_display()}"

    def clean(self):
        if self.kind == self.Kind.PRIOR_AWARD_STREAK and self.enforcement != self.Enforcement.OFF:
            problems = {}
            if self.required_form_id is None:
                problems["required_form"] = _("Name the earlier award form the streak counts.")
            if not self.years:
                problems["years"] = _("A streak is at least one year.")
            if problems:
                raise ValidationError(problems)


CAMPAIGN_ENDS_BEFORE_IT_STARTS = _("The campaign cannot end before it starts.")


class Campaign(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = NameField(_("name"), max_length=255)
    launching_unit = models.ForeignKey(
        OrganisationUnit, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("launching unit")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CampaignKind.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    submission_deadline = models.DateField(_("submission deadline"))
    # The directive's priorities: the share of awards an administrator expects to go to each group.
    target_direct_workers_percent = models.PositiveSmallIntegerField(
        _("target share of direct workers (%)"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    target_women_percent = models.PositiveSmallIntegerField(
        _("target share of women (%)"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    target_remote_percent = models.PositiveSmallIntegerField(
        _("target share of remote and island units (%)"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("emulation campaign")
        verbose_name_plural = _("emulation campaigns")
        ordering = ["-period_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="campaign_period_valid",
                violation_error_message=CAMPAIGN_ENDS_BEFORE_IT_STARTS,
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        # The constraint's own message would be a form-wide error; this one sits on the end date.
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": CAMPAIGN_ENDS_BEFORE_IT_STARTS})
