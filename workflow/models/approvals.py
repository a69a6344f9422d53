"""Running approvals: the process, its steps and who may act on them."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process, Task

from workflow.models.templates import StepAction, TemplateStep, TemplateVersion

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
