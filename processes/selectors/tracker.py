"""Reads of the case tracker: the scoped, filtered list in one of five orders, by keyset.

A page is one query for its rows (with nominee, unit, form, campaign and decision) and one for the open
steps of those rows with their holders, whatever the page size or the table's size: no COUNT, no OFFSET.
The filters themselves (``processes.filters.TrackerFilter``) narrow ``nominations_visible_to``; the
open-step conditions they use are the ``open_steps_of_row`` subquery below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from processes.models import Nomination, Stage
from workflow.models import ApprovalCandidate, ApprovalTask

PAGE_SIZE = 50
#: Rows read at a time by the export: the export's queries stay two per batch.
BATCH_SIZE = 500
#: Cases without an open step come after every due time in the "due" order.
NO_DUE_TIME = datetime(9999, 1, 1, tzinfo=UTC)

#: The lifecycle order of the stages, for the "stage" order.
STAGE_ORDER = [
    Stage.DISCOVER,
    Stage.CULTIVATE,
    Stage.SUMMARISE,
    Stage.RETURNED,
    Stage.REPLICATE,
    Stage.CLOSED,
    Stage.REJECTED,
    Stage.WITHDRAWN,
]


def open_steps_of_row() -> QuerySet[ApprovalTask]:
    """The open approval steps of the nomination in the outer query (``OuterRef("pk")``)."""
    return ApprovalTask.objects.filter(
        closed_at__isnull=True,
        process__subject_type=ContentType.objects.get_for_model(Nomination),
        process__subject_id=OuterRef("pk"),
    )


def with_open_steps(**conditions) -> QuerySet[ApprovalTask]:
    """The ids of nominations with an open approval step meeting ``conditions`` (``due_at__lt=…``), as a
    set to filter by (``pk__in``): the database reads the few matching open steps along their index by
    due time and joins them, where a per-row EXISTS under another order (newest change first) walks
    most of the table before it finds fifty overdue cases."""
    return ApprovalTask.objects.filter(
        closed_at__isnull=True,
        process__subject_type=ContentType.objects.get_for_model(Nomination),
        **conditions,
    ).values("process__subject_id")


def _text(value) -> str | None:
    return value if isinstance(value, str) and len(value) <= 255 else None


def _moment(value) -> datetime | None:
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well-formed but impossible, e.g. month 99
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _rank(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(STAGE_ORDER) else None


@dataclass(frozen=True)
class Sort:
    """One order of the list: the key it sorts on (then the id, in the same direction), how a cursor
    carries the key of the last row shown, and how it is read back."""

    label: str
    key: str
    descending: bool
    of_row: Callable[[Nomination], object]
    parse: Callable[[object], object | None]

    def annotate(self, rows: QuerySet[Nomination]) -> QuerySet[Nomination]:
        if self.key == "stage_rank":
            return rows.annotate(
                stage_rank=Case(
                    *[When(stage=stage, then=Value(rank)) for rank, stage in enumerate(STAGE_ORDER)],
                    default=Value(len(STAGE_ORDER)),
                    output_field=IntegerField(),
                )
            )
        if self.key == "due_key":
            first_due = Subquery(open_steps_of_row().order_by("due_at").values("due_at")[:1])
            return rows.annotate(due_key=Coalesce(first_due, Value(NO_DUE_TIME), output_field=DateTimeField()))
        return rows

    def order(self, rows: QuerySet[Nomination]) -> QuerySet[Nomination]:
        sign = "-" if self.descending else ""
        return rows.order_by(f"{sign}{self.key}", f"{sign}pk")

    def after(self, rows: QuerySet[Nomination], value, pk: int) -> QuerySet[Nomination]:
        beyond = "lt" if self.descending else "gt"
        return rows.filter(Q(**{f"{self.key}__{beyond}": value}) | Q(**{self.key: value, f"pk__{beyond}": pk}))

    def cursor_value(self, row: Nomination):
        value = self.of_row(row)
        return value.isoformat() if isinstance(value, datetime) else value


SORTS: dict[str, Sort] = {
    "updated": Sort(_("Last updated"), "updated_at", True, lambda row: row.updated_at, _moment),
    "name": Sort(_("Nominee's name"), "nominee__name", False, lambda row: row.nominee.name, _text),
    "unit": Sort(_("Proposing unit"), "unit__name", False, lambda row: row.unit.name, _text),
    "stage": Sort(_("Stage"), "stage_rank", False, lambda row: row.stage_rank, _rank),
    "due": Sort(_("Due time"), "due_key", False, lambda row: row.due_key, _moment),
}
DEFAULT_SORT = "updated"


@dataclass(frozen=True)
class TrackerPage:
    rows: list[Nomination]
    #: (sort, key of the last row, its id) for the next page, or None on the last page.
    next_after: tuple[str, object, int] | None


def tracker_page(
    rows: QuerySet[Nomination],
    *,
    sort: str = DEFAULT_SORT,
    after: tuple[object, int] | None = None,
    size: int = PAGE_SIZE,
) -> TrackerPage:
    """One page of ``rows`` (already scoped and filtered) in the order ``sort``, after the row whose
    key and id are ``after``."""
    order = SORTS[sort]
    rows = order.annotate(rows.select_related("nominee", "award_form", "unit", "campaign", "decision"))
    if after is not None:
        rows = order.after(rows, *after)
    found = list(order.order(rows)[: size + 1])
    has_more = len(found) > size
    found = found[:size]
    attach_open_steps(found)
    last = found[-1] if has_more else None
    return TrackerPage(rows=found, next_after=(sort, order.cursor_value(last), last.pk) if last else None)


def tracker_rows(rows: QuerySet[Nomination], *, batch: int = BATCH_SIZE) -> Iterator[list[Nomination]]:
    """Every row of ``rows``, newest change first, a batch (two queries) at a time: for the export."""
    after = None
    while True:
        page = tracker_page(rows, after=after, size=batch)
        if page.rows:
            yield page.rows
        if page.next_after is None:
            return
        after = (SORTS[DEFAULT_SORT].parse(page.next_after[1]), page.next_after[2])


def attach_open_steps(nominations: list[Nomination]) -> None:
    """Each row's open approval steps (step, due time, holders), for the whole page in two queries."""
    by_pk = {nomination.pk: nomination for nomination in nominations}
    for nomination in nominations:
        nomination.open_steps = []
    if not by_pk:
        return
    steps = (
        ApprovalTask.objects.filter(
            closed_at__isnull=True,
            process__subject_type=ContentType.objects.get_for_model(Nomination),
            process__subject_id__in=list(by_pk),
        )
        .select_related("step")
        .prefetch_related(
            Prefetch(
                "candidates",
                queryset=ApprovalCandidate.objects.filter(is_open=True).select_related("user").order_by("pk"),
                to_attr="open_holders",
            )
        )
        .annotate(subject_id=F("process__subject_id"))
        .order_by("due_at", "pk")
    )
    for step in steps:
        step.holder_names = ", ".join(
            candidate.user.get_full_name() or candidate.user.get_username() for candidate in step.open_holders
        )
        by_pk[step.subject_id].open_steps.append(step)
