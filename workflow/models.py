import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process, Task

from workflow.subject import subject_adapter


class AuditChain(models.Model):
    """The head of one subject's audit chain: the last sequence number and hash.

    Appends lock this row, so writers for one subject queue up while writers for different
    subjects never wait on each other; and because the head remembers the last hash, deleting
    the newest entry is detected, which a chain of entries alone cannot show.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("subject type"))
    object_id = models.PositiveBigIntegerField(_("subject id"))
    last_seq = models.PositiveIntegerField(_("last sequence"), default=0)
    last_hash = models.CharField(_("last hash"), max_length=64, default="")

    class Meta:
        verbose_name = _("audit chain")
        verbose_name_plural = _("audit chains")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                name="audit_chain_subject_unique",
                violation_error_message=_("This subject already has an audit chain."),
            ),
        ]

    def __str__(self):
        return f"{self.content_type.app_label}.{self.content_type.model}:{self.object_id}"


class AuditEntry(models.Model):
    """One append-only row per transition or decision; hashed with its predecessor's hash."""

    chain = models.ForeignKey(AuditChain, on_delete=models.PROTECT, related_name="entries", verbose_name=_("chain"))
    seq = models.PositiveIntegerField(_("sequence"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(_("action"), max_length=100)
    from_state = models.CharField(_("from"), max_length=40, blank=True)
    to_state = models.CharField(_("to"), max_length=40, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"))
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["chain_id", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "seq"],
                name="audit_entry_chain_seq_unique",
                violation_error_message=_("This audit chain already has an entry with this sequence number."),
            ),
        ]

    def __str__(self):
        return f"{self.chain} #{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are append-only.")


class CalendarOverride(models.Model):
    """A local exception to the national working-day calendar, entered by an admin.

    The ``holidays`` package supplies weekends, public holidays and the government's make-up
    Saturdays; this table adds what only the city knows (a city holiday, a typhoon closure, an
    extra working day). An override beats the national calendar on its date. Read through
    ``workflow.calendar``, never directly.
    """

    class Kind(models.TextChoices):
        DAY_OFF = "day_off", _("Extra day off")
        WORKING_DAY = "working_day", _("Extra working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%d/%m/%Y}: {self.get_kind_display()}"


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
    position = models.PositiveSmallIntegerField(_("position"))
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


# --- running approvals ---------------------------------------------------------------------------
#
# viewflow keeps its own Process and Task rows (its timers and locks only see those); these add
# what the product reads and filters by: the template version and structure date a case keeps,
# the step each human task carries, its due time, who may act and what was decided.


class ApprovalProcess(Process):
    """One run of a template for one subject (a nomination), on the version and tree of its start."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("subject type"))
    subject_id = models.PositiveBigIntegerField(_("subject id"))
    version = models.ForeignKey(
        TemplateVersion, on_delete=models.PROTECT, related_name="processes", verbose_name=_("template version")
    )
    structure_on = models.DateField(_("organisation as of"))
    position = models.PositiveSmallIntegerField(_("current step"), null=True, blank=True)
    last_action = models.CharField(_("last action"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("approval process")
        verbose_name_plural = _("approval processes")
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="approval_process_subject")]

    def __str__(self):
        return f"{self.version} #{self.pk}"


class ApprovalTask(models.Model):
    """The product's view of one human task of viewflow: step, scope, due time, decision."""

    task = models.OneToOneField(
        Task, on_delete=models.CASCADE, primary_key=True, related_name="approval", verbose_name=_("task")
    )
    process = models.ForeignKey(
        ApprovalProcess, on_delete=models.CASCADE, related_name="approval_tasks", verbose_name=_("process")
    )
    step = models.ForeignKey(TemplateStep, on_delete=models.PROTECT, related_name="+", verbose_name=_("step"))
    unit_id = models.PositiveBigIntegerField(_("unit id"), null=True, blank=True)
    unit_label = models.CharField(_("unit"), max_length=255, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    assignment_note = models.TextField(_("how it was assigned"), blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    due_at = models.DateTimeField(_("due at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    action = models.CharField(_("decision"), max_length=20, blank=True, choices=StepAction.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    comment = models.TextField(_("comment"), blank=True)
    # Decided by an administrator stepping in for the step's holders (with a reason), not by a holder.
    intervention = models.BooleanField(_("administrator's intervention"), default=False)

    class Meta:
        verbose_name = _("approval task")
        verbose_name_plural = _("approval tasks")
        indexes = [
            # The reminder scan: open tasks by due time.
            models.Index(fields=["due_at"], condition=models.Q(closed_at__isnull=True), name="approval_task_open_due"),
        ]

    def __str__(self):
        return f"{self.step.name} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ApprovalCandidate(models.Model):
    """Who may act on a task: one row for a person, several for a group. The inbox reads this."""

    approval_task = models.ForeignKey(
        ApprovalTask, on_delete=models.CASCADE, related_name="candidates", verbose_name=_("task")
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    is_open = models.BooleanField(_("open"), default=True)
    due_at = models.DateTimeField(_("due at"))

    class Meta:
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")
        constraints = [
            models.UniqueConstraint(
                fields=["approval_task", "user"],
                name="approval_candidate_unique",
                violation_error_message=_("This user already holds this step."),
            )
        ]
        indexes = [
            models.Index(
                fields=["user", "due_at", "approval_task"],
                condition=models.Q(is_open=True),
                name="approval_candidate_inbox",
            )
        ]

    def __str__(self):
        return f"{self.user} → {self.approval_task_id}"


# --- council votes -------------------------------------------------------------------------------


class VoteRules(models.TextChoices):
    """What the threshold is a share of."""

    MEMBERS = "members", _("All members of the council")
    CAST = "cast", _("Votes cast")


class FailedQuorum(models.TextChoices):
    BACK = "back", _("Back to the nearest earlier step held by a group")
    REJECT = "reject", _("Rejected")


class VoteSession(Process):
    """A council sitting: the cases awaiting the council, one ballot task per member who may vote on
    at least one of them, a closing time.

    ``member_count``: the council's members on the day the session opened (its roster); who holds a
    ballot is in ``data["members"]``. Secret ballot: a vote is kept sealed (``SealedBallot``) until the
    tally, which writes the choices as ``Ballot`` rows naming no voter, in random order, in its own
    transaction; ``BallotReceipt`` records only that a member voted.
    """

    title = models.CharField(_("title"), max_length=255)
    council_unit_id = models.PositiveBigIntegerField(_("voting body's unit id"))
    council_label = models.CharField(_("voting body"), max_length=255)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by")
    )
    opened_at = models.DateTimeField(_("opened at"))
    closes_at = models.DateTimeField(_("voting closes at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    member_count = models.PositiveSmallIntegerField(_("members"))

    @property
    def ballot_count(self) -> int:
        """How many members hold a ballot (those conflicted on every case hold none)."""
        return len(self.data.get("members", []))

    class Meta:
        verbose_name = _("council session")
        verbose_name_plural = _("council sessions")

    def __str__(self):
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class VoteItem(models.Model):
    """One case on a session's agenda, with the rules of its award form, how many members may vote on
    it and, once closed, its tally."""

    class Outcome(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Not passed")
        NO_QUORUM = "no_quorum", _("No quorum")

    session = models.ForeignKey(VoteSession, on_delete=models.CASCADE, related_name="items", verbose_name=_("session"))
    approval_task = models.OneToOneField(
        ApprovalTask, on_delete=models.PROTECT, related_name="vote_item", verbose_name=_("council step")
    )
    subject_label = models.CharField(_("case"), max_length=255)
    quorum_percent = models.PositiveSmallIntegerField(_("quorum (percent of members)"))
    threshold_percent = models.PositiveSmallIntegerField(_("threshold (percent)"))
    threshold_of = models.CharField(_("threshold counts"), max_length=10, choices=VoteRules.choices)
    failed_quorum = models.CharField(_("without quorum"), max_length=10, choices=FailedQuorum.choices)
    eligible_count = models.PositiveSmallIntegerField(
        _("eligible voters"),
        help_text=_(
            "Members of the council on the session's day who may vote on this case: its quorum and "
            "threshold are counted over them."
        ),
    )
    yes = models.PositiveSmallIntegerField(_("for"), null=True, blank=True)
    no = models.PositiveSmallIntegerField(_("against"), null=True, blank=True)
    abstain = models.PositiveSmallIntegerField(_("abstentions"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)

    class Meta:
        verbose_name = _("case on the agenda")
        verbose_name_plural = _("cases on the agenda")
        ordering = ["session_id", "pk"]

    def __str__(self):
        return self.subject_label


class VoteRecusal(models.Model):
    """A member of the session's roster who does not vote on one case, and why (a conflict of interest)."""

    class Reason(models.TextChoices):
        SUBJECT = "subject", _("the case is about them")
        UNIT = "unit", _("member of the proposing unit")

    item = models.ForeignKey(VoteItem, on_delete=models.CASCADE, related_name="recusals", verbose_name=_("case"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)

    class Meta:
        verbose_name = _("recusal")
        verbose_name_plural = _("recusals")
        constraints = [
            models.UniqueConstraint(
                fields=["item", "user"],
                name="vote_recusal_once",
                violation_error_message=_("This member is already recused from this case."),
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.item_id}"


class SealedBallot(models.Model):
    """A member's ballot between their vote and the tally: encrypted (``workflow.ballot_seal``) with a
    key kept outside the database, naming no voter, no time. Written in the voter's transaction beside
    their receipt; the tally opens every sealed ballot of the session, writes the choices as ``Ballot``
    rows in random order and deletes these."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(VoteSession, on_delete=models.CASCADE, related_name="sealed_ballots")
    payload = models.BinaryField()

    class Meta:
        verbose_name = _("sealed ballot")
        verbose_name_plural = _("sealed ballots")

    def __str__(self):
        return str(self.id)


class Ballot(models.Model):
    """One member's choice on one case, written by the tally. Deliberately without voter and time: the
    key is random, and every ballot of a session is inserted at once, shuffled, by the tally's own
    transaction, so neither order nor transaction ties a choice to a receipt."""

    class Choice(models.TextChoices):
        YES = "yes", _("For")
        NO = "no", _("Against")
        ABSTAIN = "abstain", _("Abstain")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(VoteItem, on_delete=models.CASCADE, related_name="ballots")
    choice = models.CharField(max_length=10, choices=Choice.choices)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")

    def __str__(self):
        return str(self.id)


class BallotReceipt(models.Model):
    """That a member voted in a session (never what)."""

    session = models.ForeignKey(VoteSession, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    voted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ballot receipt")
        verbose_name_plural = _("ballot receipts")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user"],
                name="ballot_receipt_once",
                violation_error_message=_("This member has already voted in this session."),
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.session_id}"
