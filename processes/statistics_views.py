"""The annual statistics (form 0603.N): the figures on a page and as an .xlsx, for the Board, the
administrators and the leaders, each over what they lead (``permissions.statistics_units``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from processes.forms import errors_text
from processes.models import OrganisationUnit, UnitKind
from processes.permissions import HEAD_ROLES, statistics_units, user_scope
from processes.selectors.statistics import COLUMNS, annual_statistics
from processes.statistics import CONTENT_TYPE, statistics_workbook, workbook_filename


class StatisticsForm(forms.Form):
    year = forms.IntegerField(
        label=_("Year"),
        min_value=2000,
        max_value=2100,
        required=False,
        error_messages={"invalid": _("Give the year as four digits, for example 2026.")},
    )


def _reporting_unit(scope, units) -> str:
    """Who reports: the city for a city-wide count, else the units the leader leads."""
    if units is None:
        city = OrganisationUnit.objects.filter(kind=UnitKind.CITY).order_by("pk").first()
        return city.name if city else ""
    led = [unit_id for unit_id, held in scope.roles.items() if held & set(HEAD_ROLES) and unit_id in units]
    return ", ".join(sorted(OrganisationUnit.objects.filter(pk__in=led).values_list("name", flat=True)))


def _figures(request):
    scope = user_scope(request.user)
    units = statistics_units(request.user, scope=scope)
    if units == frozenset():
        raise PermissionDenied
    form = StatisticsForm(request.GET)
    valid = form.is_valid()
    year = (form.cleaned_data.get("year") if valid else None) or timezone.localdate().year
    return form, valid, annual_statistics(year=year, units=units), _reporting_unit(scope, units)


@require_GET
def statistics(request):
    return _page(request, *_figures(request))


def _page(request, form, valid, figures, reporting_unit):
    if not valid:
        messages.error(request, errors_text(form))
    groups = []
    for column in COLUMNS:
        if groups and groups[-1][0] == column.group:
            groups[-1][1] += 1
        else:
            groups.append([column.group, 1])
    return render(
        request,
        "processes/statistics.html",
        {
            "form": form,
            "figures": figures,
            "columns": COLUMNS,
            "groups": groups,
            "reporting_unit": reporting_unit,
        },
        status=200 if valid else 400,
    )


@require_GET
def statistics_download(request):
    form, valid, figures, reporting_unit = _figures(request)
    if not valid:  # the page again, saying why, rather than another year's figures
        return _page(request, form, valid, figures, reporting_unit)
    response = HttpResponse(statistics_workbook(figures, reporting_unit=reporting_unit), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{workbook_filename(figures.year)}"'
    return response
