"""Nominations: the four-stage cycle, cultivation milestones and award decisions."""

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from processes import guards
from processes.choices import Procedure, Stage
from processes.models.nominees import Nominee
from processes.models.organisation import OrganisationUnit
from processes.models.reference import AwardForm, Campaign
from processes.text import searchable


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
    # The case tracker's search: nominee, unit and decision number through ``processes.text.searchable``,
    # kept in step on save (below); on PostgreSQL a trigram index serves it (migration 0011).
    search_text = models.TextField(_("search text"), blank=True, default="", editable=False)

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

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"nominee", "unit"} & set(update_fields):
            number = self.decision.number if self.pk and hasattr(self, "decision") else ""
            self.search_text = searchable(self.nominee.name, self.unit.name, number)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

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
    # The signed document this award is listed in (several awardees share one); empty for an award
    # recorded with a number typed in, before the product issued them.
    document = models.ForeignKey(
        "AwardDecision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="awards",
        verbose_name=_("award decision"),
    )

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self):
        return self.number


# --- the search column kept in step with the names it holds --------------------------------------------


def refresh_search_text(nominations: QuerySet[Nomination]) -> int:
    """Write ``search_text`` again for ``nominations`` (after a nominee or a unit was renamed): one
    read and one write per thousand rows. A bulk ``QuerySet.update`` of names bypasses this: call it."""
    rows = nominations.order_by().values_list("pk", "nominee__name", "unit__name", "decision__number")
    changed = [Nomination(pk=pk, search_text=searchable(*names)) for pk, *names in rows.iterator(chunk_size=2000)]
    Nomination.objects.bulk_update(changed, ["search_text"], batch_size=1000)
    return len(changed)


def _renamed(update_fields) -> bool:
    return update_fields is None or "name" in update_fields


def _nominee_saved(sender, instance, created, update_fields=None, **kwargs):
    if not created and _renamed(update_fields):
        refresh_search_text(Nomination.objects.filter(nominee=instance))


def _unit_saved(sender, instance, created, update_fields=None, **kwargs):
    if not created and _renamed(update_fields):
        refresh_search_text(Nomination.objects.filter(unit=instance))


def _decision_saved(sender, instance, **kwargs):
    # One statement on the award's path: the nomination the decision was made with is in hand.
    nomination = instance.nomination
    Nomination.objects.filter(pk=nomination.pk).update(
        search_text=searchable(nomination.nominee.name, nomination.unit.name, instance.number)
    )


post_save.connect(_nominee_saved, sender=Nominee, dispatch_uid="nomination_search_nominee")
post_save.connect(_unit_saved, sender=OrganisationUnit, dispatch_uid="nomination_search_unit")
post_save.connect(_decision_saved, sender=Decision, dispatch_uid="nomination_search_decision")
