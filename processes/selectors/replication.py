"""Reads of the replicate stage: a case's replication plan (or the defaults), how far it has got, and
the units that may adopt its model."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from processes.models import ActivityKind, DisseminationActivity, Nomination, OrganisationUnit, ReplicationPlan


@dataclass(frozen=True)
class ReplicationProgress:
    plan: ReplicationPlan  # unsaved, with the model's defaults, while nobody has set one
    activities: int  # activities of any kind, adoptions included
    adopting_units: int  # distinct units that adopted the model

    @property
    def planned(self) -> bool:
        return self.plan.pk is not None

    @property
    def met(self) -> bool:
        return self.activities >= self.plan.activities_required and self.adopting_units >= self.plan.adoptions_required


def replication_plan_of(nomination: Nomination) -> ReplicationPlan:
    """The plan set for ``nomination``, or an unsaved one with the defaults."""
    return ReplicationPlan.objects.filter(nomination=nomination).first() or ReplicationPlan(nomination=nomination)


def replication_progress(nomination: Nomination) -> ReplicationProgress:
    """The plan and the activities counted against it: two queries."""
    counts = DisseminationActivity.objects.filter(nomination=nomination).aggregate(
        activities=Count("pk"),
        adopting_units=Count("adopting_unit", distinct=True, filter=Q(kind=ActivityKind.ADOPTION)),
    )
    return ReplicationProgress(
        plan=replication_plan_of(nomination),
        activities=counts["activities"],
        adopting_units=counts["adopting_units"],
    )


def own_unit_ids(nomination: Nomination) -> set[int]:
    """The exemplar's own units (the proposing unit and the nominee's), which cannot adopt its model."""
    return {nomination.unit_id, nomination.nominee.unit_id}


def adopting_unit_choices(nomination: Nomination) -> QuerySet[OrganisationUnit]:
    """Any unit but the exemplar's own."""
    return OrganisationUnit.objects.exclude(pk__in=own_unit_ids(nomination)).order_by("name", "pk")


def activities_of(nomination: Nomination) -> QuerySet[DisseminationActivity]:
    """The case's activities with their adopting unit, recorder and evidence: three queries in all."""
    return (
        DisseminationActivity.objects.filter(nomination=nomination)
        .select_related("adopting_unit", "recorded_by")
        .prefetch_related("evidence")
    )
