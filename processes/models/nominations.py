"""Nominations: the four-stage cycle, cultivation milestones and award decisions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from processes import guards
from processes.choices import Procedure, Stage
from processes.models.nominees import Nominee
from processes.models.organisation import OrganisationUnit
from processes.models.reference import AwardForm, Campaign


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
        return f"#{self.pk} {self.nominee} — {self.award_form}"

    @property
    def is_simplified(self) -> bool:
        return self.procedure == Procedure.AD_HOC

    def save_moved(self, *, seen_version: int, fields=("stage",)) -> None:
        """Write ``fields`` with the next version and the time, only if the row still has the stage
        and the version this object was read with: one UPDATE, no lock taken. Otherwise
        ``ConcurrentTransition`` (the services turn it into a stale-page message)."""
        self._seen_version = seen_version
        self.version = seen_version + 1
        self.updated_at = timezone.now()
        try:
            self.save(update_fields=[*fields, "version", "updated_at"])
        finally:
            self._seen_version = None

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update, *args, **kwargs):
        # The stage is compared by ConcurrentTransitionMixin; the version the writer saw, here.
        seen = getattr(self, "_seen_version", None)
        if seen is not None:
            base_qs = base_qs.filter(version=seen)
        return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update, *args, **kwargs)

    # -- transitions: called only by processes.services, which first ask processes.permissions
    # (can_transition) who may take them; they carry no ``permission=`` of their own, because
    # django-fsm checks it only where asked and the permission module reads these models.

    @transition(field=stage, source=Stage.DISCOVER, target=Stage.CULTIVATE)
    def start_cultivation(self):
        pass

    @transition(
        field=stage,
        source=Stage.CULTIVATE,
        target=Stage.SUMMARISE,
        conditions=guards.ENTER_SUMMARISE,
    )
    def submit(self):
        pass

    @transition(
        field=stage,
        source=Stage.DISCOVER,
        target=Stage.SUMMARISE,
        conditions=[guards.simplified_procedure, *guards.ENTER_SUMMARISE],
    )
    def submit_simplified(self):
        pass

    @transition(field=stage, source=Stage.SUMMARISE, target=Stage.RETURNED)
    def return_for_completion(self):
        pass

    @transition(
        field=stage,
        source=Stage.RETURNED,
        target=Stage.SUMMARISE,
        conditions=guards.ENTER_SUMMARISE,
    )
    def resubmit(self):
        pass

    @transition(field=stage, source=Stage.SUMMARISE, target=Stage.REJECTED)
    def reject(self):
        pass

    @transition(
        field=stage,
        source=Stage.SUMMARISE,
        target=Stage.REPLICATE,
        conditions=guards.ENTER_REPLICATE,
    )
    def award(self):
        pass

    @transition(field=stage, source=Stage.REPLICATE, target=Stage.CLOSED)
    def close(self):
        pass

    @transition(
        field=stage,
        source=[Stage.DISCOVER, Stage.CULTIVATE, Stage.SUMMARISE, Stage.RETURNED],
        target=Stage.WITHDRAWN,
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
