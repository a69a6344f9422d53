"""The forms of the public pages: an objection anyone may send, the awards lookup, a page cursor."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from processes.filters import SEARCH_MAX_LENGTH
from processes.forms import LineField, TextField

#: Longest objection accepted from the public page.
PUBLIC_OBJECTION_MAX_LENGTH = 4000


class PublicObjectionForm(forms.Form):
    author = LineField(label=_("Your name"), required=True)
    contact = LineField(label=_("How to reach you (telephone, email or address; optional)"))
    content = TextField(label=_("Your objection"), required=True, max_length=PUBLIC_OBJECTION_MAX_LENGTH)
    # Left empty by people (the page hides it); programs filling every field give themselves away.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    @property
    def from_a_program(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class PageForm(forms.Form):
    """The "next page" link of a public list: the last row's id."""

    after = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


class AwardsLookupForm(PageForm):
    q = LineField(label=_("Name, unit or decision number"), max_length=SEARCH_MAX_LENGTH)
