"""Versioned process templates: ordered steps an engine walks; a published version never changes."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from workflow.subject import subject_adapter

# ---------------------------------------------------------------------------------------------------
# Versioned process templates: ordered steps an engine walks; a published version never changes
# ---------------------------------------------------------------------------------------------------


class TemplateImmutable(Exception):
    """A published template version (or one of its steps) was about to be changed or deleted."""


class ProcessTemplate(models.Model):
    """A named chain, e.g. ``city_regular``. Its content lives in numbered versions."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=255)

    class Meta:
        verbose_name = _("process template")
        verbose_name_plural = _("process templates")
        ordering = ["code"]

    def __str__(self):
        return self.name


class TemplateVersion(models.Model):
    """One numbered version of a template. Draft until published; then frozen for good, because
    running cases point to it (PROTECT) and must finish on the route they started on."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    template = models.ForeignKey(
        ProcessTemplate, on_delete=models.PROTECT, related_name="versions", verbose_name=_("template")
    )
    number = models.PositiveIntegerField(_("version number"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateField(
        _("effective from"),
        null=True,
        blank=True,
        help_text=_("Cases started on or after this date use this version (set when publishing)."),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("template version")
        verbose_name_plural = _("template versions")
        ordering = ["template_id", "-number"]
        indexes = [models.Index(fields=["template", "status", "effective_from"], name="template_version_in_force")]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"],
                name="template_version_number_unique",
                violation_error_message=_("This template already has a version with this number."),
            ),
            models.UniqueConstraint(
                fields=["template"],
                condition=models.Q(status="draft"),
                name="template_version_one_draft",
                violation_error_message=_("This template already has a draft version: edit or publish that one."),
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(effective_from__isnull=False),
                name="template_version_published_has_date",
                violation_error_message=_("A published version needs the date it takes effect."),
            ),
        ]

    def __str__(self):
        return f"{self.template} v{self.number} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        # Publishing is the one write allowed to turn draft into published; after that, nothing.
        if self._stored_status() == self.Status.PUBLISHED:
            raise TemplateImmutable(f"{self} is published and cannot be changed; make a new draft instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_status() == self.Status.PUBLISHED:
            raise TemplateImmutable(f"{self} is published and cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def _stored_status(self) -> str | None:
        if self.pk is None:
            return None
        return type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()


class StepAction(models.TextChoices):
    APPROVE = "approve", _("Approve")
    RETURN = "return", _("Return for completion")
    REJECT = "reject", _("Reject")
    VOTE = "vote", _("Vote")
    # Taken by the engine, never offered on a step: a vote without quorum sends a case back.
    SEND_BACK = "send_back", _("Sent back to an earlier step")


class StepKind(models.TextChoices):
    DECISION = "decision", _("A decision by the step's holder")
    VOTE = "vote", _("A vote of a body in a session (secret ballot)")
    POSTING = "posting", _("Public posting for a number of working days; objections go to the step's holder")


def approver_rule_choices() -> list[tuple[str, str]]:
    """The approver rules a step may name: the domain's (``Subject.approver_rules``)."""
    return subject_adapter().approver_rules()


def escalation_rule_choices() -> list[tuple[str, str]]:
    """Who an overdue step may be escalated to: the domain's (``Subject.escalation_rules``)."""
    return subject_adapter().escalation_rules()


def default_escalation_rule() -> str:
    return subject_adapter().escalation_rules()[0][0]


def _no_published_version(version_id) -> bool:
    return not TemplateVersion.objects.filter(pk=version_id, status=TemplateVersion.Status.PUBLISHED).exists()


class TemplateStep(models.Model):
    version = models.ForeignKey(
        TemplateVersion, on_delete=models.CASCADE, related_name="steps", verbose_name=_("template version")
    )
    position = models.PositiveSmallIntegerField(
        _("order"), help_text=_("Steps are taken in this order, smallest first.")
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=10, choices=StepKind.choices, default=StepKind.DECISION)
    approver_rule = models.CharField(_("approver rule"), max_length=30, choices=approver_rule_choices)
    approver_param = models.CharField(
        _("approver parameter"),
        max_length=200,
        blank=True,
        help_text=_("What the approver rule needs to find its holders (each rule says what it takes)."),
    )
    actions = models.JSONField(_("allowed actions"), default=list)
    deadline_working_days = models.PositiveSmallIntegerField(_("deadline (working days)"))
    reminder_offsets = models.JSONField(_("reminders (working days before the deadline)"), default=list, blank=True)
    escalation_rule = models.CharField(
        _("escalation"), max_length=20, choices=escalation_rule_choices, default=default_escalation_rule
    )
    escalation_param = models.CharField(_("escalation parameter"), max_length=200, blank=True)
    condition = models.CharField(
        _("only when"),
        max_length=40,
        blank=True,
        help_text=_("Take this step only for cases with this mark (the domain names the marks); blank: always."),
    )

    class Meta:
        verbose_name = _("template step")
        verbose_name_plural = _("template steps")
        ordering = ["version_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "position"],
                name="template_step_position_unique",
                violation_error_message=_("This version already has a step at this position."),
            ),
            models.UniqueConstraint(
                fields=["version", "code"],
                name="template_step_code_unique",
                violation_error_message=_("This version already has a step with this code."),
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.name}"

    def save(self, *args, **kwargs):
        if self.version_id and not _no_published_version(self.version_id):
            raise TemplateImmutable(f"The steps of a published version cannot be changed ({self.version_id}).")
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("version_id", flat=True).first()
            if stored is not None and stored != self.version_id and not _no_published_version(stored):
                raise TemplateImmutable("A step cannot be moved out of a published version.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not _no_published_version(self.version_id):
            raise TemplateImmutable(f"The steps of a published version cannot be deleted ({self.version_id}).")
        return super().delete(*args, **kwargs)

    def clean(self):
        errors = {}
        actions = self.actions
        if not isinstance(actions, list) or not actions or not all(isinstance(action, str) for action in actions):
            errors["actions"] = _("List one or more actions.")
        else:
            unknown = sorted(set(actions) - set(StepAction.values))
            if unknown:
                errors["actions"] = _("Unknown actions: %(actions)s.") % {"actions": ", ".join(unknown)}
            elif len(set(actions)) != len(actions):
                errors["actions"] = _("An action is listed twice.")
            elif StepAction.VOTE in actions and len(actions) > 1:
                errors["actions"] = _("A vote step allows no other action.")
            elif StepAction.SEND_BACK in actions:
                errors["actions"] = _("Sending back is the council's outcome, not an action of a step.")
            elif (StepAction.VOTE in actions) != (self.kind == StepKind.VOTE):
                errors["actions"] = _("A vote step, and only a vote step, has the action “vote”.")
        offsets = self.reminder_offsets
        if not isinstance(offsets, list) or not all(
            isinstance(offset, int) and not isinstance(offset, bool) and offset > 0 for offset in offsets
        ):
            errors["reminder_offsets"] = _("Reminders are whole numbers of working days, each above zero.")
        elif self.deadline_working_days is not None and any(offset >= self.deadline_working_days for offset in offsets):
            errors["reminder_offsets"] = _("A reminder must fall after the step starts, before its deadline.")
        if self.deadline_working_days is not None and self.deadline_working_days < 1:
            errors["deadline_working_days"] = _("A deadline is at least one working day.")
        # What a rule's parameter must be is the domain's to say.
        errors.update(subject_adapter().check_step(step=self))
        if errors:
            raise ValidationError(errors)


# ``Model.delete`` is not called by queryset deletes (the admin's bulk action) or cascades; the
# pre_delete signal is, for every row, so these receivers close that way round the guard too.
@receiver(pre_delete, sender=TemplateVersion, dispatch_uid="workflow_template_version_frozen")
def _refuse_deleting_published_version(sender, instance, **kwargs):
    if instance.status == TemplateVersion.Status.PUBLISHED:
        raise TemplateImmutable(f"{instance} is published and cannot be deleted.")


@receiver(pre_delete, sender=TemplateStep, dispatch_uid="workflow_template_step_frozen")
def _refuse_deleting_published_step(sender, instance, **kwargs):
    if not _no_published_version(instance.version_id):
        raise TemplateImmutable(f"The steps of a published version cannot be deleted ({instance.version_id}).")
