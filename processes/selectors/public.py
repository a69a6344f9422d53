"""Reads for the public pages (no log-in): only what is published, each list in a constant number of
queries. A nominee shows their name, unit and award form and nothing else personal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from viewflow.workflow.status import STATUS

from processes.models import Decision, Nomination
from workflow.models import ApprovalTask, StepKind

#: Rows on one page of each public list.
PUBLIC_PAGE_SIZE = 50

#: What the public pages read of a nomination, and nothing more (its stage: the state machine's
#: field is loaded with every row, or read one row at a time).
PUBLIC_NOMINATION_FIELDS = ("stage", "nominee__name", "unit__name", "award_form__name")


def objection_windows() -> QuerySet[ApprovalTask]:
    """Public posting windows that take objections now: open, their timer not yet fired."""
    return ApprovalTask.objects.filter(
        closed_at__isnull=True, step__kind=StepKind.POSTING, task__status=STATUS.SCHEDULED
    )


@dataclass(frozen=True)
class PostedNominee:
    nomination_id: int
    name: str
    unit: str
    award_form: str
    opened_at: datetime
    ends_at: datetime


def _nomination_windows() -> QuerySet[ApprovalTask]:
    return objection_windows().filter(process__subject_type=ContentType.objects.get_for_model(Nomination))


def _posted(rows: list[dict]) -> list[PostedNominee]:
    nominations = (
        Nomination.objects.select_related("nominee", "unit", "award_form")
        .only(*PUBLIC_NOMINATION_FIELDS)
        .in_bulk([row["process__subject_id"] for row in rows])
    )
    found = []
    for row in rows:
        nomination = nominations.get(row["process__subject_id"])
        if nomination is not None:
            found.append(
                PostedNominee(
                    nomination_id=nomination.pk,
                    name=nomination.nominee.name,
                    unit=nomination.unit.name,
                    award_form=nomination.award_form.name,
                    opened_at=row["opened_at"],
                    ends_at=row["due_at"],
                )
            )
    return found


_WINDOW_FIELDS = ("pk", "opened_at", "due_at", "process__subject_id")


def posted_nominees(
    *, after: int | None = None, limit: int = PUBLIC_PAGE_SIZE
) -> tuple[list[PostedNominee], int | None]:
    """The nominees in an open posting window, oldest window first, after the window ``after``; and the
    cursor of the next page (None on the last)."""
    windows = _nomination_windows().order_by("pk")
    if after:
        windows = windows.filter(pk__gt=after)
    rows = list(windows.values(*_WINDOW_FIELDS)[: limit + 1])
    following = rows[limit - 1]["pk"] if len(rows) > limit else None
    return _posted(rows[:limit]), following


def posted_nominee(nomination_id: int) -> PostedNominee | None:
    """The nominee of ``nomination_id`` if their posting window is open now, else None."""
    rows = list(_nomination_windows().filter(process__subject_id=nomination_id).values(*_WINDOW_FIELDS)[:1])
    found = _posted(rows)
    return found[0] if found else None


@dataclass(frozen=True)
class PublicAward:
    decision_id: int
    number: str
    signed_on: object
    name: str
    unit: str
    award_form: str


def awards_granted(
    *, match: Q | None = None, from_year: int = 0, after: int | None = None, limit: int = PUBLIC_PAGE_SIZE
) -> tuple[list[PublicAward], int | None]:
    """Awards granted (one row per awardee's decision), newest recorded first, matching ``match`` (a
    filter on ``Decision``), signed from ``from_year`` on (0: all); and the cursor of the next page."""
    rows = Decision.objects.order_by("-pk")
    if from_year:
        rows = rows.filter(signed_on__year__gte=from_year)
    if match is not None:
        rows = rows.filter(match)
    if after:
        rows = rows.filter(pk__lt=after)
    found = list(
        rows.select_related("nomination__nominee", "nomination__unit", "nomination__award_form").only(
            "number", "signed_on", *(f"nomination__{field}" for field in PUBLIC_NOMINATION_FIELDS)
        )[: limit + 1]
    )
    following = found[limit - 1].pk if len(found) > limit else None
    return [
        PublicAward(
            decision_id=decision.pk,
            number=decision.number,
            signed_on=decision.signed_on,
            name=decision.nomination.nominee.name,
            unit=decision.nomination.unit.name,
            award_form=decision.nomination.award_form.name,
        )
        for decision in found[:limit]
    ], following
