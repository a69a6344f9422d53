"""The forms of signing a decision: the cases chosen (as on My work, ``<task id>:<version>``), the
signing date and the confirmation a weekend or holiday date needs; the page of the decisions list."""

from __future__ import annotations

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes.models import Nomination
from processes.text import plain
from processes.work_forms import Chosen, StepVersionField, chosen_steps
from workflow.calendar import is_working_day
from workflow.models import ApprovalTask


class SignDecisionForm(forms.Form):
    tasks = StepVersionField(
        label=_("Cases"),
        allowed=None,
        widget=forms.MultipleHiddenInput,
        error_messages={
            "required": _("Choose at least one case to sign."),
            "invalid_choice": _("A chosen case is not awaiting your signature; nothing was signed. Reload the page."),
        },
    )
    signed_on = forms.DateField(
        label=_("Signing date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    confirm_non_working_day = forms.BooleanField(
        label=_("I confirm signing on a day that is not a working day"), required=False
    )
    comment = forms.CharField(
        label=_("Comment for every case (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {"signed_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["tasks"].allowed = self._allowed
        self.chosen: list[Chosen] = []

    def _allowed(self, task_ids: set[int]) -> set[int]:
        """Steps this user holds or held (a step signed meanwhile is then refused by name); any other
        id, forged or of someone else's step, refuses the form."""
        return set(
            ApprovalTask.objects.filter(
                pk__in=task_ids,
                process__subject_type=ContentType.objects.get_for_model(Nomination),
                candidates__user=self.user,
            )
            .values_list("pk", flat=True)
            .distinct()
        )

    def clean_signed_on(self):
        return self.cleaned_data["signed_on"] or timezone.localdate()

    def clean_comment(self):
        return plain(self.cleaned_data["comment"])

    def clean(self):
        cleaned = super().clean()
        self.chosen = chosen_steps(cleaned.get("tasks") or [])
        return cleaned

    @property
    def off_day(self) -> bool:
        """The signing date (typed, or today) is not a working day: the page asks to confirm it."""
        day = self.cleaned_data.get("signed_on") if hasattr(self, "cleaned_data") else None
        return not is_working_day(day or timezone.localdate())


class DecisionPageForm(forms.Form):
    page = forms.IntegerField(min_value=1, max_value=100_000, required=False)
