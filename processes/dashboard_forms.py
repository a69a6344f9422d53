"""The dashboard's filters: a campaign, a year, a unit within the user's remit."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from processes.models import Campaign, OrganisationUnit, UnitKind
from processes.permissions import UserScope

FIRST_YEAR, LAST_YEAR = 2000, 2100


class DashboardForm(forms.Form):
    campaign = forms.ModelChoiceField(
        label=_("Campaign"), queryset=Campaign.objects.order_by("-period_start", "name"), required=False
    )
    year = forms.IntegerField(
        label=_("Year the case was opened"), min_value=FIRST_YEAR, max_value=LAST_YEAR, required=False
    )
    unit = forms.ModelChoiceField(label=_("Unit (and the units below it)"), queryset=None, required=False)

    def __init__(self, *args, scope: UserScope, **kwargs):
        super().__init__(*args, **kwargs)
        units = OrganisationUnit.objects.exclude(kind__in=(UnitKind.BOARD, UnitKind.COUNCIL)).order_by("name")
        # The Board counts city-level forms from every unit; anyone else, the units they lead or serve.
        if not (scope.is_admin or scope.board):
            units = units.filter(pk__in=scope.staff_units)
        self.fields["unit"].queryset = units
