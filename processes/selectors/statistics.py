"""The annual award statistics (modelled on form 0603.N of Circular 02/2023/TT-BNV): awards whose
decision was signed in the year, counted by award form, by recipient (collective, household,
individual), by individual category and by award type. Two aggregate queries whatever the rows: one
per award form, one for the totals (counted in the database, not summed here)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from processes.choices import CollectiveType, IndividualCategory, NomineeKind, Procedure
from processes.models import Decision

_NOMINEE = "nomination__nominee__"
_INDIVIDUAL = Q(**{f"{_NOMINEE}kind": NomineeKind.INDIVIDUAL})
_HOUSEHOLD = Q(**{f"{_NOMINEE}kind": NomineeKind.COLLECTIVE, f"{_NOMINEE}collective_type": CollectiveType.HOUSEHOLD})


#: The categories with a column of their own; "Others" counts the rest (other, or none given).
_NAMED_CATEGORIES = [
    IndividualCategory.LEADER,
    IndividualCategory.MANAGER,
    IndividualCategory.WORKER,
    IndividualCategory.FARMER,
    IndividualCategory.ENTREPRENEUR,
]


def _category(*categories) -> Q:
    return _INDIVIDUAL & Q(**{f"{_NOMINEE}category__in": categories})


def _procedure(procedure) -> Q:
    return Q(nomination__procedure=procedure)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    group: str  # the heading above it in the form
    rule: Q | None  # which awards it counts; None: all of them
    always_zero: bool = False  # kept for the form, never recorded by this product (foreign awards)


RECIPIENT, CATEGORY, AWARD_TYPE = _("By recipient"), _("Individuals by category"), _("By award type")

#: The columns of the form, in its order; each is one filtered count over the year's awards.
COLUMNS = (
    Column("total", _("Total"), "", None),
    Column("collective", _("Collectives"), RECIPIENT, Q(**{f"{_NOMINEE}kind": NomineeKind.COLLECTIVE}) & ~_HOUSEHOLD),
    Column("household", _("Households"), RECIPIENT, _HOUSEHOLD),
    Column("individual", _("Individuals"), RECIPIENT, _INDIVIDUAL),
    Column("leader", _("Leaders"), CATEGORY, _category(IndividualCategory.LEADER)),
    Column("manager", _("Managers"), CATEGORY, _category(IndividualCategory.MANAGER)),
    Column(
        "direct_worker",
        _("Direct workers (workers and farmers)"),
        CATEGORY,
        _category(IndividualCategory.WORKER, IndividualCategory.FARMER),
    ),
    Column("entrepreneur", _("Entrepreneurs"), CATEGORY, _category(IndividualCategory.ENTREPRENEUR)),
    Column(
        "other",
        _("Others"),
        CATEGORY,
        _INDIVIDUAL & ~Q(**{f"{_NOMINEE}category__in": _NAMED_CATEGORIES}),
    ),
    Column("regular", _("Regular"), AWARD_TYPE, _procedure(Procedure.REGULAR)),
    Column("thematic", _("Thematic"), AWARD_TYPE, _procedure(Procedure.THEMATIC)),
    Column("ad_hoc", _("Ad-hoc"), AWARD_TYPE, _procedure(Procedure.AD_HOC)),
    Column("seniority", _("Seniority"), AWARD_TYPE, _procedure(Procedure.SENIORITY)),
    Column("contribution", _("Lifetime contribution"), AWARD_TYPE, _procedure(Procedure.CONTRIBUTION)),
    Column("foreign", _("Foreign"), AWARD_TYPE, None, always_zero=True),
)


@dataclass(frozen=True)
class StatisticsRow:
    award_form: str
    counts: dict[str, int]

    def values(self) -> list[int]:
        return [self.counts[column.key] for column in COLUMNS]


@dataclass(frozen=True)
class AnnualStatistics:
    year: int
    rows: list[StatisticsRow]  # one per award form given that year, in the forms' order
    totals: StatisticsRow


def _counts():
    return {column.key: Count("pk", filter=column.rule) for column in COLUMNS if not column.always_zero}


def _with_zeros(counts: dict) -> dict[str, int]:
    return {column.key: counts.get(column.key) or 0 for column in COLUMNS}


def annual_statistics(*, year: int, units: frozenset[int] | None) -> AnnualStatistics:
    """The year's figures for the awards proposed by ``units`` (None: the whole city)."""
    awards = Decision.objects.filter(signed_on__year=year)
    if units is not None:
        awards = awards.filter(nomination__unit_id__in=units)
    by_form = (
        awards.values("nomination__award_form__code", "nomination__award_form__name")
        .annotate(**_counts())
        .order_by("nomination__award_form__code")
    )
    rows = [StatisticsRow(award_form=row["nomination__award_form__name"], counts=_with_zeros(row)) for row in by_form]
    totals = StatisticsRow(award_form=str(_("Total")), counts=_with_zeros(awards.aggregate(**_counts())))
    return AnnualStatistics(year=year, rows=rows, totals=totals)
