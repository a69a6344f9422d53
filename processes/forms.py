"""Every input of the product's screens, parsed and checked here before a view or a service sees it.

A value a form refuses becomes a message on the page (or a 400), never a server error: digits that
``str.isdigit`` accepts but ``int`` refuses ("²"), ids beyond 64 bits, NUL and other control
characters, over-long text. Views read ``request.GET`` and ``request.POST`` only through these forms.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from processes.models import AwardForm, Campaign, Nominee, OrganisationUnit, Procedure, UnitKind
from processes.services import AGENCY_MAX_WORKING_DAYS, NOMINEE_FIELDS
from processes.text import NameFormField, normalise, validate_text
from workflow.models import StepAction

#: The largest id any of our tables can hold (a signed 64-bit integer).
MAX_ID = 2**63 - 1
ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
COMMENT_MAX_LENGTH = 4000


class IdField(forms.IntegerField):
    """A database id typed or carried in a link: ASCII digits only, within 64 bits."""

    default_error_messages = {"invalid": _("This is not a valid number.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not ASCII_DIGITS.fullmatch(text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)


class VersionField(IdField):
    """The version of a case a form was opened at (hidden)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 2**31 - 1)
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(**kwargs)


class TextField(forms.CharField):
    """Free text a person types (a comment, a reason): bounded, composed (NFC), without invisible
    characters (``processes.text``)."""

    default_validators = [validate_text]

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", COMMENT_MAX_LENGTH)
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalise(value) if isinstance(value, str) else value


class LineField(NameFormField):
    """One line of text: a name, a decision number."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 255)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class CursorField(forms.CharField):
    """A keyset cursor ``<ISO time>|<id>`` carried in a "next page" link."""

    default_error_messages = {"invalid": _("This page link is not valid; start again from the first page.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 80)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        stamp, separator, pk = value.rpartition("|")
        try:
            moment = parse_datetime(stamp) if separator else None
        except ValueError:  # well-formed but impossible, e.g. month 99
            moment = None
        if moment is None or not ASCII_DIGITS.fullmatch(pk) or int(pk) > MAX_ID:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment, int(pk)


class KeysetCursorField(forms.CharField):
    """An opaque "next page" cursor of a list with several orders: base64 of ``[order, key, id]``.
    Only its shape is checked here (an order name, a JSON scalar, an id within 64 bits); the list
    reads the key back for its order and refuses a key that does not fit it."""

    default_error_messages = CursorField.default_error_messages

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 1200)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            decoded = json.loads(base64.urlsafe_b64decode(value.encode("ascii") + b"=" * (-len(value) % 4)))
        except (ValueError, UnicodeError):
            decoded = None
        if not (
            isinstance(decoded, list)
            and len(decoded) == 3
            and isinstance(decoded[0], str)
            and isinstance(decoded[1], str | int)
            and isinstance(decoded[2], int)
            and not isinstance(decoded[2], bool)
            and 1 <= decoded[2] <= MAX_ID
        ):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return tuple(decoded)


def keyset_cursor(order: str, key, pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([order, key, pk]).encode()).decode("ascii").rstrip("=")


def cursor_of(moment: datetime, pk: int) -> str:
    return f"{moment.isoformat()}|{pk}"


def errors_text(form: forms.Form) -> str:
    """A form's errors as one line for a message: "Field: problem; ...", for forms shown as buttons."""
    parts = []
    for name, problems in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        text = " ".join(str(problem) for problem in problems)
        parts.append(f"{label}: {text}" if label else text)
    return "; ".join(parts)


# --- lists -----------------------------------------------------------------------------------------


class PageForm(forms.Form):
    cursor = CursorField()


# --- a case ------------------------------------------------------------------------------------------


class TransitionForm(forms.Form):
    """A stage move from the case page's "next steps" (or a decision taken through it)."""

    action = forms.ChoiceField(
        choices=[
            (name, name)
            for name in (
                "start_cultivation",
                "submit",
                "submit_simplified",
                "return_for_completion",
                "resubmit",
                "reject",
                "award",
                "close",
                "withdraw",
            )
        ]
    )
    comment = TextField(label=_("Reason"))
    decision_number = LineField(label=_("Decision number"), max_length=60)
    # A form without a version is treated as stale rather than trusted.
    expected_version = VersionField(required=False)


class StepDecisionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Your decision"), choices=[(action, StepAction(action).label) for action in StepAction.values]
    )
    comment = TextField(label=_("Comment"))
    # At the signing step the product numbers the decision; a date off needs the signer's confirmation.
    confirm_non_working_day = forms.BooleanField(required=False)
    expected_version = VersionField(required=False)


class ReassignForm(forms.Form):
    to = IdField(label=_("Give this step to"))
    reason = LineField(label=_("Reason"), max_length=1000, required=True)


class NominationEditForm(forms.Form):
    achievement_summary = TextField(
        label=_("Achievement summary"), widget=forms.Textarea(attrs={"rows": 5}), max_length=20000
    )
    cultivation_goals = TextField(
        label=_("Cultivation goals"), widget=forms.Textarea(attrs={"rows": 3}), max_length=20000
    )
    mentor = LineField(label=_("Mentor"))
    expected_version = VersionField()


class ObjectionForm(forms.Form):
    author = LineField(label=_("Raised by"), required=True)
    content = TextField(label=_("Objection"), required=True)


class ConsultationForm(forms.Form):
    agency = forms.ModelChoiceField(
        label=_("Agency in the organisation"),
        queryset=OrganisationUnit.objects.filter(kind=UnitKind.DEPARTMENT).order_by("name"),
        required=False,
    )
    agency_name = LineField(label=_("or an agency outside it"))
    working_days = forms.IntegerField(
        label=_("Answer within (working days)"), min_value=1, max_value=AGENCY_MAX_WORKING_DAYS, initial=10
    )
    question = TextField(label=_("Question"), required=True)

    def clean(self):
        data = super().clean()
        if not data.get("agency") and not (data.get("agency_name") or "").strip():
            raise forms.ValidationError(_("Choose an agency or write its name."))
        return data


class ConsultationAnswerForm(forms.Form):
    answer = TextField(label=_("The agency's opinion"), required=True, widget=forms.Textarea(attrs={"rows": 6}))


# --- starting a case ------------------------------------------------------------------------------


class NomineeForm(forms.ModelForm):
    class Meta:
        model = Nominee
        fields = ["unit", *NOMINEE_FIELDS]
        # A date input holds ISO dates whatever the language shows: format the initial value so.
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class NominationForm(forms.Form):
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.all())
    award_form = forms.ModelChoiceField(label=_("Award form"), queryset=AwardForm.objects.filter(is_active=True))
    procedure = forms.ChoiceField(label=_("Procedure"), choices=Procedure.choices)
    nominee = forms.ModelChoiceField(label=_("Nominee"), queryset=Nominee.objects.none())
    unit = forms.ModelChoiceField(label=_("Proposing unit"), queryset=OrganisationUnit.objects.none())
    achievement_summary = TextField(
        label=_("Achievement summary"), widget=forms.Textarea(attrs={"rows": 5}), max_length=20000
    )

    def __init__(self, *args, units, nominees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["nominee"].queryset = nominees


class NomineeChoiceForm(forms.Form):
    """``?nominee=`` on the new-nomination page (from the new-nominee page)."""

    nominee = IdField(required=False)
