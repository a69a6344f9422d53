import os
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from processes import guards
from processes.periods import PERIOD_ENDS_BEFORE_IT_STARTS, EndDateField, check_period, last_day, period_label
from processes.text import NameField
from workflow.models import ApprovalTask, FailedQuorum, VoteRules

# ---------------------------------------------------------------------------------------------------
# Organisation: units, dated parent links, dated memberships
# ---------------------------------------------------------------------------------------------------


class UnitKind(models.TextChoices):
    CITY = "city", _("City People's Committee")
    DEPARTMENT = "department", _("Department")
    DISTRICT = "district", _("District")
    COMMUNE = "commune", _("Commune / ward")
    UNIT = "unit", _("Base unit")
    BOARD = "board", _("Emulation and Commendation Board")
    COUNCIL = "council", _("Emulation and Commendation Council")


#: Kinds whose head decides unit-level awards (a commune chairman after the 2025 reform).
DECIDING_LEVEL_KINDS = (UnitKind.DEPARTMENT, UnitKind.DISTRICT, UnitKind.COMMUNE)


class OrganisationUnit(models.Model):
    code = models.CharField(_("code"), max_length=50, unique=True)
    name = NameField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    remote_or_island = models.BooleanField(_("remote or island area"), default=False)

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


class Role(models.TextChoices):
    HEAD = "head", _("Head")
    DEPUTY = "deputy", _("Deputy")
    SECRETARY = "secretary", _("Secretary")
    MEMBER = "member", _("Member")


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


# ---------------------------------------------------------------------------------------------------
# Reference data: award forms, required documents, eligibility rules, campaigns
# ---------------------------------------------------------------------------------------------------


class DecisionLevel(models.TextChoices):
    CITY_CHAIRMAN = "city_chairman", _("City People's Committee Chairman")
    UNIT_LEVEL_HEAD = "unit_level_head", _("Department director / district or commune chairman")


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
    ACHIEVEMENT_REPORT = "achievement_report"

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
        return f"{self.award_form.code}: {self.document_type}"


class EligibilityRule(models.Model):
    """An eligibility condition kept as data, because several are uncertain in law."""

    class Kind(models.TextChoices):
        PRIOR_AWARD_STREAK = "prior_award_streak", _("Consecutive earlier awards")

    class Enforcement(models.TextChoices):
        BLOCK = "block", _("Blocks entering summarise")
        WARN = "warn", _("Warning only")
        OFF = "off", _("Not applied")

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
        return f"{self.award_form.code}: {self.get_kind_display()}"

    def clean(self):
        if self.kind == self.Kind.PRIOR_AWARD_STREAK and self.enforcement != self.Enforcement.OFF:
            problems = {}
            if self.required_form_id is None:
                problems["required_form"] = _("Name the earlier award form the streak counts.")
            if not self.years:
                problems["years"] = _("A streak is at least one year.")
            if problems:
                raise ValidationError(problems)


class CampaignKind(models.TextChoices):
    REGULAR = "regular", _("Regular")
    THEMATIC = "thematic", _("Thematic")


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


# ---------------------------------------------------------------------------------------------------
# Nominees and their earlier awards
# ---------------------------------------------------------------------------------------------------


class NomineeKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    COLLECTIVE = "collective", _("Collective")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class IndividualCategory(models.TextChoices):
    LEADER = "leader", _("Leader")
    MANAGER = "manager", _("Manager")
    WORKER = "worker", _("Direct worker: worker")
    FARMER = "farmer", _("Direct worker: farmer")
    ENTREPRENEUR = "entrepreneur", _("Entrepreneur")
    OTHER = "other", _("Other")


class CollectiveType(models.TextChoices):
    STATE_BODY = "state_body", _("State body")
    ENTERPRISE = "enterprise", _("Enterprise")
    HOUSEHOLD = "household", _("Household")


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
        return f"{self.award_form.code} {self.year}"


# ---------------------------------------------------------------------------------------------------
# Nominations: the four-stage cycle
# ---------------------------------------------------------------------------------------------------


class Stage(models.TextChoices):
    DISCOVER = "discover", _("Discover")
    CULTIVATE = "cultivate", _("Cultivate")
    SUMMARISE = "summarise", _("Summarise")
    REPLICATE = "replicate", _("Replicate")
    CLOSED = "closed", _("Closed")
    RETURNED = "returned", _("Returned for completion")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: A nominee may hold one nomination per form and campaign unless the earlier one was dropped.
DROPPED_STAGES = (Stage.REJECTED, Stage.WITHDRAWN)
FINAL_STAGES = (Stage.CLOSED, Stage.REJECTED, Stage.WITHDRAWN)


class Procedure(models.TextChoices):
    REGULAR = "regular", _("Regular")
    THEMATIC = "thematic", _("Thematic")
    AD_HOC = "ad_hoc", _("Ad-hoc (simplified procedure)")
    SENIORITY = "seniority", _("Seniority")
    CONTRIBUTION = "contribution", _("Lifetime contribution")


def _may(action):
    """An FSM ``permission=`` callable that asks the one per-object permission module."""

    def check(instance, user):
        from processes.permissions import can_transition

        return can_transition(user, instance, action)

    check.__name__ = f"may_{action}"
    return check


class Nomination(ConcurrentTransitionMixin, models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="nominations", verbose_name=_("campaign")
    )
    award_form = models.ForeignKey(
        AwardForm, on_delete=models.PROTECT, related_name="nominations", verbose_name=_("award form")
    )
    procedure = models.CharField(_("procedure"), max_length=20, choices=Procedure.choices)
    nominee = models.ForeignKey(
        Nominee, on_delete=models.PROTECT, related_name="nominations", verbose_name=_("nominee")
    )
    unit = models.ForeignKey(
        OrganisationUnit,
        on_delete=models.PROTECT,
        related_name="nominations",
        verbose_name=_("proposing unit"),
    )
    stage = FSMField(_("stage"), default=Stage.DISCOVER, choices=Stage.choices, protected=True, max_length=20)
    # ConcurrentTransitionMixin guards only ``stage``; every other write compares this.
    version = models.PositiveIntegerField(_("version"), default=1)
    achievement_summary = models.TextField(_("achievement summary"), blank=True)
    cultivation_goals = models.TextField(_("cultivation goals"), blank=True)
    mentor = models.CharField(_("mentor"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "stage", "-updated_at"], name="nomination_unit_stage"),
            models.Index(fields=["stage", "-updated_at"], name="nomination_stage_updated"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["nominee", "award_form", "campaign"],
                condition=~Q(stage__in=["rejected", "withdrawn"]),
                name="nomination_one_open_per_nominee_form_campaign",
                violation_error_message=_(
                    "This nominee already has a nomination for this award form in this campaign that is not "
                    "rejected or withdrawn."
                ),
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.nominee} — {self.award_form.code}"

    @property
    def is_simplified(self) -> bool:
        return self.procedure == Procedure.AD_HOC

    # -- transitions: called only by processes.services -------------------------------------------

    @transition(field=stage, source=Stage.DISCOVER, target=Stage.CULTIVATE, permission=_may("start_cultivation"))
    def start_cultivation(self):
        pass

    @transition(
        field=stage,
        source=Stage.CULTIVATE,
        target=Stage.SUMMARISE,
        conditions=guards.ENTER_SUMMARISE,
        permission=_may("submit"),
    )
    def submit(self):
        pass

    @transition(
        field=stage,
        source=Stage.DISCOVER,
        target=Stage.SUMMARISE,
        conditions=[guards.simplified_procedure, *guards.ENTER_SUMMARISE],
        permission=_may("submit_simplified"),
    )
    def submit_simplified(self):
        pass

    @transition(field=stage, source=Stage.SUMMARISE, target=Stage.RETURNED, permission=_may("return_for_completion"))
    def return_for_completion(self):
        pass

    @transition(
        field=stage,
        source=Stage.RETURNED,
        target=Stage.SUMMARISE,
        conditions=guards.ENTER_SUMMARISE,
        permission=_may("resubmit"),
    )
    def resubmit(self):
        pass

    @transition(field=stage, source=Stage.SUMMARISE, target=Stage.REJECTED, permission=_may("reject"))
    def reject(self):
        pass

    @transition(
        field=stage,
        source=Stage.SUMMARISE,
        target=Stage.REPLICATE,
        conditions=guards.ENTER_REPLICATE,
        permission=_may("award"),
    )
    def award(self):
        pass

    @transition(field=stage, source=Stage.REPLICATE, target=Stage.CLOSED, permission=_may("close"))
    def close(self):
        pass

    @transition(
        field=stage,
        source=[Stage.DISCOVER, Stage.CULTIVATE, Stage.SUMMARISE, Stage.RETURNED],
        target=Stage.WITHDRAWN,
        permission=_may("withdraw"),
    )
    def withdraw(self):
        pass


class CultivationMilestone(models.Model):
    nomination = models.ForeignKey(
        Nomination, on_delete=models.CASCADE, related_name="milestones", verbose_name=_("nomination")
    )
    title = models.CharField(_("milestone"), max_length=255)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        verbose_name = _("cultivation milestone")
        verbose_name_plural = _("cultivation milestones")
        ordering = ["due_on", "id"]

    def __str__(self):
        return self.title


class Decision(models.Model):
    """The signed award decision that moves a nomination to replicate."""

    nomination = models.OneToOneField(
        Nomination, on_delete=models.PROTECT, related_name="decision", verbose_name=_("nomination")
    )
    number = models.CharField(_("decision number"), max_length=60)
    signed_on = models.DateField(_("signed on"))
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("signer")
    )
    on_behalf = models.BooleanField(_("signed on the chairman's behalf"), default=False)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self):
        return self.number


# ---------------------------------------------------------------------------------------------------
# Dossier files
# ---------------------------------------------------------------------------------------------------


class DossierStorage(FileSystemStorage):
    """Files under ``settings.DOSSIER_ROOT``, read when used rather than at import, and no URL:
    dossiers are served only through the permission-checked download view."""

    def __init__(self):
        super().__init__(base_url=None)

    @property
    def base_location(self):
        return settings.DOSSIER_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


def _dossier_storage():
    return DossierStorage()


def _dossier_path(instance, filename):
    # The client's name never reaches the disk: a random name with the extension of the detected type.
    return f"{instance.nomination_id}/{uuid.uuid4().hex}.{instance.extension}"


class DossierFile(models.Model):
    nomination = models.ForeignKey(
        Nomination, on_delete=models.PROTECT, related_name="files", verbose_name=_("nomination")
    )
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, verbose_name=_("document type"))
    file = models.FileField(_("file"), storage=_dossier_storage, upload_to=_dossier_path, max_length=200)
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
        verbose_name = _("dossier file")
        verbose_name_plural = _("dossier files")
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["nomination", "document_type"])]

    def __str__(self):
        return self.original_name


class DossierDownload(models.Model):
    file = models.ForeignKey(DossierFile, on_delete=models.PROTECT, related_name="downloads", verbose_name=_("file"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("dossier download")
        verbose_name_plural = _("dossier downloads")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.user} ← {self.file}"


# ---------------------------------------------------------------------------------------------------
# Approval chains: which template a case walks, and who stands in for a head
# ---------------------------------------------------------------------------------------------------


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
        return f"{self.award_form.code} / {procedure} → {self.template}"


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
