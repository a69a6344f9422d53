"""Reads of the dashboard: the figures leaders read at a glance, over the nominations a user may count
(``permissions.dashboard_nominations``), and the below-target warning on a forwarding step.

Every figure is one aggregate query (``values`` + ``Count``, conditional counts for the shares), whatever
the number of cases; the median working days per step is the one figure counted in Python, over one
query's (step, opened, closed) rows, because working days follow the product's calendar (holidays,
make-up Saturdays, local days off), which the database does not know.

Definitions, so that each figure can be checked by hand:

- **awarded**: a nomination in the replicate or closed stage (only an award decision leads there);
- **shares of awards**: direct workers (worker or farmer) and women as a share of the *individuals*
  awarded (a collective has neither a gender nor a category); remote and island (the nominee's flag, or
  the proposing unit's) as a share of *every* award; a target is met when the share is at least the
  campaign's ``target_*_percent``;
- **decided on time**: a step closed with a decision (``action`` set) at or before its due time;
- **working days of a step**: the working days from the local day it opened to the local day it closed
  (``WorkingCalendar.working_days_between``: a step decided on the day it opened took 0);
- **overdue**: an open step whose due time has passed; by holder, a step held by a group counts once
  for each of its holders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from processes.choices import ApproverRule
from processes.models import (
    ActivityKind,
    Campaign,
    Nomination,
    NomineeKind,
    OrganisationUnit,
    Stage,
)
from processes.priorities import DIRECT_WORKER, PRIORITY_FILTERS, REMOTE, WOMAN
from processes.selectors.tracker import STAGE_ORDER
from workflow.calendar import working_calendar
from workflow.models import ApprovalCandidate, ApprovalTask, StepAction, TemplateStep

AWARDED_STAGES = (Stage.REPLICATE, Stage.CLOSED)
#: The units with the most cases, shown by name; the others are summed in the totals only.
TOP_UNITS = 10
#: The exemplars adopted by the most units.
TOP_EXEMPLARS = 20
#: The width of the longest bar, in the chart's own units (its view box is ``CHART_WIDTH`` wide).
BAR_SCALE = 440
CHART_WIDTH = 600
ROW_HEIGHT = 46

GROUP_LABELS = {
    DIRECT_WORKER: _("Direct workers (workers and farmers)"),
    WOMAN: _("Women"),
    REMOTE: _("Remote and island areas"),
}
#: Each group's campaign target field and the count its share is taken of.
TARGET_FIELDS = {
    DIRECT_WORKER: "target_direct_workers_percent",
    WOMAN: "target_women_percent",
    REMOTE: "target_remote_percent",
}
OF_INDIVIDUALS = {DIRECT_WORKER: True, WOMAN: True, REMOTE: False}

#: Steps a level takes to pass a case upward: a head's approval (of the proposing unit, or of the
#: department or district above it) that is not the chain's last step.
FORWARDING_RULES = (ApproverRule.SUBJECT_UNIT_HEAD, ApproverRule.ANCESTOR_HEAD)


# --- charts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    url: str = ""
    #: Where the bar sits in the chart: its top, and its length in the chart's units.
    y: int = 0
    width: float = 0

    @property
    def label_y(self) -> int:
        return self.y + 17

    @property
    def bar_y(self) -> int:
        return self.y + 24

    @property
    def value_x(self) -> float:
        return self.width + 6

    @property
    def value_y(self) -> int:
        return self.y + 37


@dataclass(frozen=True)
class Chart:
    """Horizontal bars drawn by the server as SVG (``processes/_bar_chart.html``): each row a label, a
    bar with its ``<title>``, and the number written beside it."""

    bars: list[Bar]
    height: int
    width: int = CHART_WIDTH

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)


def bar_chart(rows: Iterable[tuple[str, int] | tuple[str, int, str]]) -> Chart:
    rows = list(rows)
    largest = max((row[1] for row in rows), default=0) or 1
    bars = [
        Bar(
            label=str(row[0]),
            value=row[1],
            url=row[2] if len(row) > 2 else "",
            y=index * ROW_HEIGHT,
            width=round(BAR_SCALE * row[1] / largest, 1),
        )
        for index, row in enumerate(rows)
    ]
    return Chart(bars=bars, height=max(len(bars), 1) * ROW_HEIGHT)


# --- the figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    group: str
    label: str
    count: int
    of: int
    target: int | None
    y: int = 0  # its row in the campaign's chart

    @property
    def percent(self) -> float | None:
        return round(100 * self.count / self.of, 1) if self.of else None

    @property
    def below_target(self) -> bool:
        # Compared exactly, in whole numbers: 1 of 3 (33.3%) is below a target of 34, not of 33.
        return self.target is not None and self.of > 0 and 100 * self.count < self.target * self.of

    @property
    def bar_width(self) -> float:
        return round(BAR_SCALE * (self.percent or 0) / 100, 1)

    @property
    def target_x(self) -> float | None:
        return round(BAR_SCALE * self.target / 100, 1) if self.target is not None else None

    @property
    def label_y(self) -> int:
        return self.y + 17

    @property
    def bar_y(self) -> int:
        return self.y + 24

    @property
    def value_x(self) -> float:
        # Beside the bar, and past the target's mark when that is further right.
        return max(self.bar_width, self.target_x or 0) + 6

    @property
    def value_y(self) -> int:
        return self.y + 37


@dataclass(frozen=True)
class CampaignShares:
    campaign_id: int
    name: str
    awards: int
    individuals: int
    shares: list[Share]

    @property
    def below_target(self) -> bool:
        return any(share.below_target for share in self.shares)

    @property
    def chart_height(self) -> int:
        return len(self.shares) * ROW_HEIGHT


@dataclass(frozen=True)
class StepTiming:
    label: str
    decided: int
    on_time: int
    median_working_days: float | None

    @property
    def on_time_percent(self) -> float | None:
        return round(100 * self.on_time / self.decided, 1) if self.decided else None


@dataclass(frozen=True)
class Exemplar:
    nomination_id: int
    name: str
    unit: str
    adopting_units: int


@dataclass
class Dashboard:
    total: int = 0
    by_stage: Chart = field(default_factory=lambda: bar_chart([]))
    by_award_form: Chart = field(default_factory=lambda: bar_chart([]))
    by_campaign: Chart = field(default_factory=lambda: bar_chart([]))
    by_unit: Chart = field(default_factory=lambda: bar_chart([]))
    decided: int = 0
    decided_on_time: int = 0
    step_timings: list[StepTiming] = field(default_factory=list)
    overdue_by_step: Chart = field(default_factory=lambda: bar_chart([]))
    overdue_by_holder: Chart = field(default_factory=lambda: bar_chart([]))
    shares: list[CampaignShares] = field(default_factory=list)
    awarded: int = 0
    adopted: int = 0
    exemplars: Chart = field(default_factory=lambda: bar_chart([]))

    @property
    def on_time_percent(self) -> float | None:
        return round(100 * self.decided_on_time / self.decided, 1) if self.decided else None

    @property
    def overdue(self) -> int:
        return self.overdue_by_step.total


def filtered(
    nominations: QuerySet[Nomination],
    *,
    campaign: Campaign | None = None,
    year: int | None = None,
    units: Iterable[int] | None = None,
) -> QuerySet[Nomination]:
    """``nominations`` of one campaign, opened in one year (local time), proposed by one of ``units``."""
    if campaign is not None:
        nominations = nominations.filter(campaign=campaign)
    if year is not None:
        tz = timezone.get_current_timezone()
        nominations = nominations.filter(
            created_at__gte=datetime(year, 1, 1, tzinfo=tz), created_at__lt=datetime(year + 1, 1, 1, tzinfo=tz)
        )
    if units is not None:
        nominations = nominations.filter(unit_id__in=list(units))
    return nominations


def _steps_of(nominations: QuerySet[Nomination]) -> QuerySet[ApprovalTask]:
    return ApprovalTask.objects.filter(
        process__subject_type=ContentType.objects.get_for_model(Nomination),
        process__subject_id__in=nominations.values("pk"),
    )


def _share_counts() -> dict:
    """The conditional counts the shares need, for ``aggregate`` or ``annotate`` over nominations."""
    return {
        "awards": Count("pk"),
        "individuals": Count("pk", filter=Q(nominee__kind=NomineeKind.INDIVIDUAL)),
        **{group: Count("pk", filter=condition) for group, condition in PRIORITY_FILTERS.items()},
    }


def _shares(counts: dict, campaign) -> list[Share]:
    """The three shares of one row of ``_share_counts``, against ``campaign``'s targets (a Campaign or a
    dict of its target fields)."""
    if not isinstance(campaign, dict):
        campaign = {name: getattr(campaign, name) for name in TARGET_FIELDS.values()}
    return [
        Share(
            group=group,
            label=str(GROUP_LABELS[group]),
            count=counts[group],
            of=counts["individuals"] if OF_INDIVIDUALS[group] else counts["awards"],
            target=campaign[TARGET_FIELDS[group]],
            y=index * ROW_HEIGHT,
        )
        for index, group in enumerate(GROUP_LABELS)
    ]


def _holder_name(row: dict) -> str:
    full = f"{row['user__first_name']} {row['user__last_name']}".strip()
    return full or row["user__username"]


def _working_days(opened: datetime, closed: datetime, calendar) -> int:
    return calendar.working_days_between(timezone.localdate(opened), timezone.localdate(closed))


def dashboard(nominations: QuerySet[Nomination], *, now: datetime | None = None) -> Dashboard:
    """The figures over ``nominations`` (already scoped and filtered): a constant number of queries."""
    now = now or timezone.now()
    by_stage = dict(nominations.order_by().values_list("stage").annotate(n=Count("pk")))
    figures = Dashboard(total=sum(by_stage.values()))
    figures.by_stage = bar_chart((stage.label, by_stage[stage]) for stage in STAGE_ORDER if by_stage.get(stage))
    figures.by_award_form = bar_chart(
        nominations.order_by()
        .values_list("award_form__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "award_form__name")
    )
    figures.by_campaign = bar_chart(
        nominations.order_by().values_list("campaign__name").annotate(n=Count("pk")).order_by("-n", "campaign__name")
    )
    figures.by_unit = bar_chart(
        nominations.order_by()
        .values_list("unit__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "unit__name")[:TOP_UNITS]
    )

    # Deadlines.
    steps = _steps_of(nominations)
    decided = steps.filter(closed_at__isnull=False).exclude(action="")
    per_step = {
        row["step__name"]: row
        for row in decided.order_by()
        .values("step__name")
        .annotate(decided=Count("pk"), on_time=Count("pk", filter=Q(closed_at__lte=F("due_at"))))
    }
    calendar = working_calendar()
    days = defaultdict(list)
    for label, opened, closed in decided.values_list("step__name", "opened_at", "closed_at").iterator():
        days[label].append(_working_days(opened, closed, calendar))
    figures.step_timings = [
        StepTiming(
            label=label,
            decided=row["decided"],
            on_time=row["on_time"],
            median_working_days=median(days[label]) if days[label] else None,
        )
        for label, row in sorted(per_step.items())
    ]
    figures.decided = sum(timing.decided for timing in figures.step_timings)
    figures.decided_on_time = sum(timing.on_time for timing in figures.step_timings)
    overdue = steps.filter(closed_at__isnull=True, due_at__lt=now)
    figures.overdue_by_step = bar_chart(
        overdue.order_by().values_list("step__name").annotate(n=Count("pk")).order_by("-n", "step__name")
    )
    figures.overdue_by_holder = bar_chart(
        (_holder_name(row), row["n"])
        for row in ApprovalCandidate.objects.filter(is_open=True, approval_task__in=overdue)
        .values("user_id", "user__first_name", "user__last_name", "user__username")
        .annotate(n=Count("approval_task", distinct=True))
        .order_by("-n", "user__first_name", "user__username")
    )

    # Shares of awards against each campaign's targets.
    awarded = nominations.filter(stage__in=AWARDED_STAGES)
    targets = list(TARGET_FIELDS.values())
    figures.shares = [
        CampaignShares(
            campaign_id=row["campaign_id"],
            name=row["campaign__name"],
            awards=row["awards"],
            individuals=row["individuals"],
            shares=_shares(row, {name: row[f"campaign__{name}"] for name in targets}),
        )
        for row in awarded.order_by()
        .values("campaign_id", "campaign__name", *(f"campaign__{name}" for name in targets))
        .annotate(**_share_counts())
        .order_by("campaign__name", "campaign_id")
    ]

    # Exemplars spread: distinct units that adopted each awarded exemplar.
    adoption = Q(activities__kind=ActivityKind.ADOPTION)
    totals = awarded.aggregate(awarded=Count("pk", distinct=True), adopted=Count("pk", distinct=True, filter=adoption))
    figures.awarded, figures.adopted = totals["awarded"], totals["adopted"]
    figures.exemplars = bar_chart(
        (
            f"{row['nominee__name']} · {row['unit__name']}",
            row["adopting_units"],
            reverse("processes:nomination-detail", args=[row["pk"]]),
        )
        for row in awarded.order_by()
        .annotate(adopting_units=Count("activities__adopting_unit", filter=adoption, distinct=True))
        .filter(adopting_units__gt=0)
        .values("pk", "nominee__name", "unit__name", "adopting_units")
        .order_by("-adopting_units", "nominee__name", "pk")[:TOP_EXEMPLARS]
    )
    return figures


# --- the below-target warning on a forwarding step ------------------------------------------------


def has_targets(campaign: Campaign) -> bool:
    return any(getattr(campaign, name) is not None for name in TARGET_FIELDS.values())


def _forwarding() -> Q:
    later = TemplateStep.objects.filter(
        version_id=OuterRef("step__version_id"), position__gt=OuterRef("step__position")
    )
    return Q(step__approver_rule__in=FORWARDING_RULES) & Q(Exists(later))


def sent_up_by(*, unit_id: int, campaign_id: int) -> QuerySet[Nomination]:
    """The list a level sends up for a campaign: the nominations of the campaign with a *forwarding
    step* held at that level (``ApprovalTask.unit_id``, the unit whose head takes the step: the proposing
    unit for its head's confirmation, the department or district for its director's or chairman's
    submission) that is either open (the level is approving it) or was approved (the level approved
    it), whatever became of the case afterwards.

    A forwarding step is a head's step (``FORWARDING_RULES``) with a later step in its template version,
    so a department director's *decision* on a unit-level award, the chain's last step, sends nothing
    up. A case returned to the unit and approved again counts once."""
    forwarded = ApprovalTask.objects.filter(
        _forwarding(),
        Q(closed_at__isnull=True) | Q(action=StepAction.APPROVE),
        process__subject_type=ContentType.objects.get_for_model(Nomination),
        unit_id=unit_id,
    )
    return Nomination.objects.filter(campaign_id=campaign_id, pk__in=forwarded.values("process__subject_id"))


def _below_target_texts(*, unit_id: int, campaign: Campaign, unit_name: str) -> list[str]:
    counts = sent_up_by(unit_id=unit_id, campaign_id=campaign.pk).aggregate(**_share_counts())
    return [
        str(
            _(
                "Below target: in the list %(unit)s sends up for “%(campaign)s”, %(group)s are %(percent)s%% "
                "(%(count)s of %(of)s), against the campaign's target of %(target)s%%. You may still approve."
            )
            % {
                "unit": unit_name,
                "campaign": campaign.name,
                "group": share.label.lower(),
                "percent": number_format(share.percent, 1),
                "count": share.count,
                "of": share.of,
                "target": share.target,
            }
        )
        for share in _shares(counts, campaign)
        if share.below_target
    ]


def forwarding_target_warnings(items: Iterable[tuple[ApprovalTask, Nomination]]) -> dict[int, list[str]]:
    """For each ``(step, its nomination)`` about to be approved: the warnings that the list the step's
    level sends up for the nomination's campaign (``sent_up_by``) is below one of the campaign's
    targets, by step id; steps with nothing to warn of are left out. It warns; it never blocks.

    No query when no step is a head's; else one for the campaigns, one for which steps forward, and one
    aggregate per (level, campaign) with targets."""
    candidates = [(task, nomination) for task, nomination in items if task.step.approver_rule in FORWARDING_RULES]
    if not candidates:
        return {}
    campaigns = Campaign.objects.in_bulk({nomination.campaign_id for _task, nomination in candidates})
    candidates = [
        (task, nomination)
        for task, nomination in candidates
        if task.unit_id is not None and has_targets(campaigns[nomination.campaign_id])
    ]
    if not candidates:
        return {}
    forwarding = set(
        ApprovalTask.objects.filter(_forwarding(), pk__in=[task.pk for task, _n in candidates]).values_list(
            "pk", flat=True
        )
    )
    found: dict[int, list[str]] = {}
    lists: dict[tuple[int, int], list[str]] = {}
    for task, nomination in candidates:
        if task.pk not in forwarding:
            continue
        key = (task.unit_id, nomination.campaign_id)
        if key not in lists:
            lists[key] = _below_target_texts(
                unit_id=task.unit_id,
                campaign=campaigns[nomination.campaign_id],
                unit_name=task.unit_label or _unit_name(task.unit_id),
            )
        if lists[key]:
            found[task.pk] = lists[key]
    return found


def _unit_name(unit_id: int) -> str:
    unit = OrganisationUnit.objects.filter(pk=unit_id).first()
    return unit.name if unit else str(_("this level"))
