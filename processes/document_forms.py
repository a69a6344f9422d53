"""The choice of a unit's papers (proposal, summary list): a unit and a campaign among those of the
cases the user may see."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from processes.documents import PROPOSED_STAGES
from processes.models import Campaign, Nomination, OrganisationUnit


class UnitPapersForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Proposing unit"), queryset=OrganisationUnit.objects.none())
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none())

    def __init__(self, *args, nominations: QuerySet[Nomination], **kwargs):
        super().__init__(*args, **kwargs)
        proposed = nominations.filter(stage__in=PROPOSED_STAGES).order_by()
        self.fields["unit"].queryset = OrganisationUnit.objects.filter(pk__in=proposed.values("unit_id")).order_by(
            "name"
        )
        self.fields["campaign"].queryset = Campaign.objects.filter(pk__in=proposed.values("campaign_id"))
