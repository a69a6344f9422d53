"""The replicate stage's inputs (a plan, an activity with its evidence, a close with a reason) and the
case page's replication section built from them."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from processes.council_forms import DATE_INPUT_FORMATS
from processes.forms import LineField, TextField, VersionField
from processes.models import ActivityKind, Nomination, OrganisationUnit, ReplicationPlan, Stage
from processes.permissions import UserScope, may_close_replication, may_record_activity
from processes.selectors.replication import (
    ReplicationProgress,
    activities_of,
    adopting_unit_choices,
    replication_progress,
)
from processes.services.replication import MAX_REQUIRED

#: At most this many evidence files with one activity.
MAX_EVIDENCE_FILES = 10
ADOPTION_NEEDS_UNIT = _("An adoption names the unit that adopted the model.")


class _MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """Several files in one input (the pattern Django documents); each is checked by the service."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", _MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if len(files) > MAX_EVIDENCE_FILES:
            raise forms.ValidationError(_("At most %(count)s files with one activity.") % {"count": MAX_EVIDENCE_FILES})
        one = super().clean  # not inside the comprehension: its own scope has no super()
        return [one(item, initial) for item in files]


class ActivityForm(forms.Form):
    # The files come last: the upload size limit stops reading the request at a file too large, so a
    # field after it would not arrive.
    kind = forms.ChoiceField(label=_("Kind of activity"), choices=ActivityKind.choices)
    held_on = forms.DateField(
        label=_("Date"),
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(
            format="%d/%m/%Y", attrs={"placeholder": _("dd/mm/yyyy"), "inputmode": "numeric", "size": 10}
        ),
        error_messages={"invalid": _("Give the date as day/month/year, for example 31/12/2026.")},
    )
    title = LineField(label=_("Title"), required=True)
    description = TextField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}))
    adopting_unit = forms.ModelChoiceField(
        label=_("Adopting unit (for an adoption)"),
        queryset=OrganisationUnit.objects.none(),
        required=False,
    )
    evidence = EvidenceField(label=_("Evidence files"))

    def __init__(self, *args, nomination: Nomination, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["adopting_unit"].queryset = adopting_unit_choices(nomination)

    def clean(self):
        data = super().clean()
        if data.get("kind") == ActivityKind.ADOPTION and not data.get("adopting_unit"):
            self.add_error("adopting_unit", ADOPTION_NEEDS_UNIT)
        elif data.get("kind") and data.get("kind") != ActivityKind.ADOPTION and data.get("adopting_unit"):
            self.add_error("adopting_unit", _("Only an adoption names an adopting unit; leave it empty for this kind."))
        return data


class PlanForm(forms.Form):
    activities_required = forms.IntegerField(
        label=_("Dissemination activities required"), min_value=1, max_value=MAX_REQUIRED
    )
    adoptions_required = forms.IntegerField(label=_("Adopting units required"), min_value=0, max_value=MAX_REQUIRED)
    notes = TextField(label=_("Plan"), widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(forms.Form):
    reason = TextField(
        label=_("Reason for closing"),
        required=True,
        error_messages={"required": _("Please give the reason for closing the case before its plan is met.")},
    )
    expected_version = VersionField(required=False)


@dataclass
class ReplicationPanel:
    """What the case page's replication section shows: the plan, its progress, the activities and the
    forms the user may use (None where they may not)."""

    progress: ReplicationProgress
    activities: list
    activity_form: ActivityForm | None
    plan_form: PlanForm | None
    close_form: CloseForm | None


def _plan_initial(plan: ReplicationPlan) -> dict:
    return {
        "activities_required": plan.activities_required,
        "adoptions_required": plan.adoptions_required,
        "notes": plan.notes,
    }


def replication_panel(
    user,
    nomination: Nomination,
    scope: UserScope,
    *,
    activity_form: ActivityForm | None = None,
    plan_form: PlanForm | None = None,
    close_form: CloseForm | None = None,
) -> ReplicationPanel | None:
    """The section for a case in replicate (or closed with activities recorded); None for the others.
    Forms given (bound, with their errors) are shown in place of fresh ones."""
    if nomination.stage not in (Stage.REPLICATE, Stage.CLOSED):
        return None
    progress = replication_progress(nomination)
    activities = list(activities_of(nomination))
    if nomination.stage == Stage.CLOSED and not activities and not progress.planned:
        return None
    recorder = may_record_activity(user, nomination, scope=scope)
    return ReplicationPanel(
        progress=progress,
        activities=activities,
        activity_form=(activity_form or ActivityForm(nomination=nomination)) if recorder else None,
        plan_form=(plan_form or PlanForm(initial=_plan_initial(progress.plan))) if recorder else None,
        close_form=(
            (close_form or CloseForm(initial={"expected_version": nomination.version}))
            if may_close_replication(user, nomination, scope=scope)
            else None
        ),
    )
