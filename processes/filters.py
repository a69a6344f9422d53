"""The case tracker's query string, parsed by django-filter: every filter, the search, the order and
the page cursor. A refused value becomes a message and is left out; the others still apply."""

from __future__ import annotations

from datetime import datetime, time

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes.forms import KeysetCursorField, LineField
from processes.models import (
    AwardForm,
    Campaign,
    Nomination,
    Nominee,
    NomineeKind,
    OrganisationUnit,
    Stage,
)
from processes.permissions import UserScope, nominations_visible_to
from processes.priorities import PRIORITY_CHOICES, PRIORITY_FILTERS
from processes.selectors.tracker import DEFAULT_SORT, SORTS, open_steps_of_row, with_open_steps
from processes.text import search_words
from workflow.calendar import working_calendar
from workflow.models import ApprovalCandidate, ApprovalProcess, TemplateStep

SEARCH_MAX_LENGTH = 100
DUE_WITHIN_MAX = 60
#: A Vietnamese ID number: 9 digits (old card) or 12 (citizen identity card).
ID_NUMBER_LENGTHS = (9, 12)


def words_filter(query: str, *, field: str = "search_text") -> Q | None:
    """Rows whose ``field`` (a ``searchable`` column: nominee, unit, decision number) has a word starting
    with each typed word, without case, diacritics or Unicode form; None when nothing was typed."""
    words = search_words(query)
    if not words:
        return None
    found = Q()
    for word in words:
        found &= Q(**{f"{field}__contains": f" {word}"})
    return found


def search_filter(query: str) -> Q | None:
    """Nominations whose nominee, unit or decision number has a word starting with each typed word
    (without case, diacritics or Unicode form), or whose nominee has this ID number (spaces ignored)."""
    found = words_filter(query)
    if found is None:
        return None
    digits = "".join(query.split())
    if digits.isascii() and digits.isdigit() and len(digits) in ID_NUMBER_LENGTHS:
        found |= Q(nominee__in=Nominee.objects.filter(id_number=digits).values("pk"))
    return found


def step_choices() -> list[tuple[str, str]]:
    """The steps of every template, by code (one entry per code, the latest version's name)."""
    names = dict(TemplateStep.objects.order_by("code", "version_id").values_list("code", "name"))
    return sorted(names.items(), key=lambda item: item[1])


def holder_choices(request=None):
    """Everyone holding an open step now."""
    return (
        get_user_model()
        .objects.filter(pk__in=ApprovalCandidate.objects.filter(is_open=True).values("user"))
        .order_by("first_name", "last_name", "username")
    )


class HolderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class TrackerForm(forms.Form):
    """The order and the page cursor, beside the filters django-filter adds."""

    sort = forms.ChoiceField(
        label=_("Sort by"), choices=[(name, order.label) for name, order in SORTS.items()], required=False
    )
    cursor = KeysetCursorField()

    def clean(self):
        data = super().clean()
        data["sort"] = data.get("sort") or DEFAULT_SORT
        cursor = data.get("cursor")
        if cursor is not None:
            order, key, pk = cursor
            value = SORTS[order].parse(key) if order == data["sort"] else None
            if value is None:
                self.add_error("cursor", KeysetCursorField.default_error_messages["invalid"])
                data["cursor"] = None
            else:
                data["cursor"] = (value, pk)
        return data


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class SearchFilter(django_filters.CharFilter):
    field_class = LineField


class HolderFilter(django_filters.ModelChoiceFilter):
    field_class = HolderChoiceField


class TrackerFilter(django_filters.FilterSet):
    q = SearchFilter(label=_("Name, unit, ID or decision number"), max_length=SEARCH_MAX_LENGTH, method="filter_search")
    campaign = django_filters.ModelChoiceFilter(label=_("Campaign"), queryset=Campaign.objects.all())
    award_form = django_filters.ModelChoiceFilter(label=_("Award form"), queryset=AwardForm.objects.all())
    unit = django_filters.ModelChoiceFilter(
        label=_("Unit (and the units below it)"),
        queryset=OrganisationUnit.objects.order_by("name"),
        method="filter_unit",
    )
    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=Stage.choices)
    step = django_filters.ChoiceFilter(label=_("Current step"), choices=step_choices, method="filter_step")
    holder = HolderFilter(label=_("Held by"), queryset=holder_choices, method="filter_holder")
    overdue = django_filters.BooleanFilter(label=_("Overdue only"), widget=forms.CheckboxInput, method="filter_overdue")
    due_within = IntegerFilter(
        label=_("Due within (working days)"), min_value=0, max_value=DUE_WITHIN_MAX, method="filter_due_within"
    )
    submitted = django_filters.DateFromToRangeFilter(
        label=_("Submitted between"),
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
        method="filter_submitted",
    )
    updated = django_filters.DateFromToRangeFilter(
        label=_("Updated between"),
        field_name="updated_at",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    kind = django_filters.ChoiceFilter(label=_("Nominee kind"), field_name="nominee__kind", choices=NomineeKind.choices)
    priority = django_filters.ChoiceFilter(
        label=_("Priority group"), choices=PRIORITY_CHOICES, method="filter_priority"
    )

    class Meta:
        model = Nomination
        fields: list[str] = []
        form = TrackerForm

    def __init__(self, data=None, *, user, scope: UserScope, **kwargs):
        self.scope = scope
        super().__init__(data, queryset=nominations_visible_to(user, scope=scope), **kwargs)

    def filter_queryset(self, queryset):
        # The form also holds the order and the cursor, which are not filters.
        for name, value in self.form.cleaned_data.items():
            if name in self.filters:
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    # -- the methods: each narrows the scoped rows by one value --------------------------------------

    def filter_search(self, rows, name, value):
        found = search_filter(value or "")
        return rows if found is None else rows.filter(found)

    def filter_unit(self, rows, name, value):
        return rows.filter(unit_id__in=self.scope.tree.descendants(value.pk))

    def filter_step(self, rows, name, value):
        return rows.filter(Exists(open_steps_of_row().filter(step__code=value)))

    def filter_holder(self, rows, name, value):
        return rows.filter(Exists(open_steps_of_row().filter(candidates__user=value, candidates__is_open=True)))

    def filter_overdue(self, rows, name, value):
        if not value:
            return rows
        return rows.filter(pk__in=with_open_steps(due_at__lt=timezone.now()))

    def filter_due_within(self, rows, name, value):
        if value is None:
            return rows
        today = timezone.localdate()
        last_day = working_calendar().add_working_days(today, value)
        end = timezone.make_aware(datetime.combine(last_day, time.max))
        return rows.filter(pk__in=with_open_steps(due_at__lte=end))

    def filter_submitted(self, rows, name, value):
        """Cases with an approval run started (submitted) in the range."""
        if not value or (value.start is None and value.stop is None):
            return rows
        runs = ApprovalProcess.objects.filter(
            subject_type=ContentType.objects.get_for_model(Nomination), subject_id=OuterRef("pk")
        )
        if value.start is not None:
            runs = runs.filter(created__gte=value.start)
        if value.stop is not None:
            runs = runs.filter(created__lte=value.stop)
        return rows.filter(Exists(runs))

    def filter_priority(self, rows, name, value):
        return rows.filter(PRIORITY_FILTERS[value]) if value in PRIORITY_FILTERS else rows

    # -- what the view and the export read -----------------------------------------------------------

    @property
    def sort(self) -> str:
        data = getattr(self.form, "cleaned_data", {}) if self.is_bound else {}
        return data.get("sort") or DEFAULT_SORT

    @property
    def after(self):
        data = getattr(self.form, "cleaned_data", {}) if self.is_bound else {}
        return data.get("cursor")
