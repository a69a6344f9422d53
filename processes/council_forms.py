"""The council's two forms: opening a session (the Board) and a member's ballot.

Both only accept what the page offered: the cases awaiting a council the user may convene, and a
choice on each case of the agenda the member may vote on. Anything else (a forged or foreign id,
"²", a number beyond any id, a choice on a case the member is conflicted on) is refused with a
message, and the page is shown again with what was typed.
"""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflow.models import Ballot, VoteItem, VoteRecusal

#: Day first, as Vietnamese write dates; the ISO form is what a browser's date picker sends.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
#: The hour voting closes on the chosen day.
CLOSING_HOUR = time(17, 0)
ITEM_PREFIX = "item-"


class SessionOpenForm(forms.Form):
    task = forms.MultipleChoiceField(
        label=_("Cases"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one case for the agenda."),
            "invalid_choice": _(
                "A chosen case is not awaiting a council you may convene (it may have been put on another "
                "session's agenda meanwhile); reload the page."
            ),
        },
    )
    title = forms.CharField(
        label=_("Session title"),
        max_length=255,
        validators=[RegexValidator(r"[\x00-\x1f\x7f]", _("A title is one line of text."), inverse_match=True)],
        error_messages={"required": _("Give the session a title.")},
    )
    closes_on = forms.DateField(
        label=_("Voting closes on (17:00)"),
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(
            format="%d/%m/%Y", attrs={"placeholder": _("dd/mm/yyyy"), "inputmode": "numeric", "size": 10}
        ),
        error_messages={
            "required": _("Give the closing date."),
            "invalid": _("Give the closing date as day/month/year, for example 31/12/2026."),
        },
    )

    def __init__(self, *args, waiting, **kwargs):
        """``waiting``: (task, label) of the cases the user may put on an agenda."""
        super().__init__(*args, **kwargs)
        self.waiting = {str(task.pk): task for task, _label in waiting}
        self.fields["task"].choices = [(str(task.pk), label) for task, label in waiting]

    def clean_task(self):
        return [self.waiting[pk] for pk in self.cleaned_data["task"]]

    def clean_closes_on(self):
        day = self.cleaned_data["closes_on"]
        if timezone.make_aware(datetime.combine(day, CLOSING_HOUR)) <= timezone.now():
            raise forms.ValidationError(_("Voting must close in the future: choose a later day."))
        return day

    @property
    def closes_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.cleaned_data["closes_on"], CLOSING_HOUR))

    def chosen(self) -> set[str]:
        """The case ids ticked (as sent), to show them ticked again."""
        value = self["task"].value() or []
        return {str(pk) for pk in value}


class BallotForm(forms.Form):
    """A choice (for, against, abstain) on each case of the agenda the member may vote on."""

    def __init__(self, *args, items: list[VoteItem], recused: dict[int, str], **kwargs):
        """``recused``: item id → ``VoteRecusal.Reason`` of the cases this member does not vote on."""
        super().__init__(*args, **kwargs)
        self.items = items
        self.recused = recused
        for item in items:
            if item.pk not in recused:
                self.fields[f"{ITEM_PREFIX}{item.pk}"] = forms.ChoiceField(
                    label=item.subject_label,
                    choices=Ballot.Choice.choices,
                    widget=forms.RadioSelect,
                    error_messages={
                        "required": _("Choose for, against or abstain on this case."),
                        "invalid_choice": _("Choose for, against or abstain on this case."),
                    },
                )

    def clean(self):
        data = super().clean()
        on_agenda = {f"{ITEM_PREFIX}{item.pk}": item for item in self.items}
        for name in self.data:
            if not name.startswith(ITEM_PREFIX) or name in self.fields:
                continue
            item = on_agenda.get(name)
            if item is None:
                raise forms.ValidationError(
                    _("Your ballot names a case that is not on this session's agenda; reload the page.")
                )
            raise forms.ValidationError(
                _("You do not vote on “%(case)s”: %(reason)s."),
                params={"case": item.subject_label, "reason": VoteRecusal.Reason(self.recused[item.pk]).label},
            )
        return data

    def choices(self) -> dict[int, str]:
        return {int(name.removeprefix(ITEM_PREFIX)): choice for name, choice in self.cleaned_data.items()}

    def rows(self):
        """Each case of the agenda: (item, its field or None, why this member does not vote on it)."""
        for item in self.items:
            name = f"{ITEM_PREFIX}{item.pk}"
            if name in self.fields:
                yield item, self[name], ""
            else:
                yield item, None, VoteRecusal.Reason(self.recused[item.pk]).label
