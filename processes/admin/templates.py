"""The template editor with the award domain's vocabularies: who decides a step is picked from
lists (unit kinds, units, the marks a step may ask for), never typed as codes.

``workflow`` knows a step's approver and escalation parameters only as text; what that text means
is the domain's (``processes.approvers``). This module turns it into boxes and lists, and back:

- kinds, e.g. ``department,district``: the nearest unit of those kinds above the proposing unit
  (head rule and council), or every unit of those kinds (group rule);
- ``above:`` and kinds: for a group, the nearest unit of those kinds above the proposing unit;
- unit codes, e.g. ``HP.SNV.BTDKT``: those units (group rule, and whom an escalation tells).

The stored text is unchanged, so the engine and running cases read it as before.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from processes.approvers import ABOVE_PREFIX
from processes.chains import COUNCIL_VOTE, PUBLIC_POSTING
from processes.choices import RULES_WITHOUT_PARAM, ApproverRule, EscalationRule, UnitKind
from processes.models import OrganisationUnit
from workflow.admin import TemplateStepForm, TemplateStepInline, TemplateVersionAdmin
from workflow.models import TemplateStep, TemplateVersion

#: The marks of a case an optional step may ask for (``CaseSubject.flags``).
STEP_CONDITIONS = [
    ("", _("Always")),
    (COUNCIL_VOTE, _("Only for award forms the council votes on")),
    (PUBLIC_POSTING, _("Only for award forms that are publicly posted")),
]

NEAREST, EVERY = "nearest", "every"
SCOPES = [
    (NEAREST, _("the nearest unit of these kinds above the proposing unit")),
    (EVERY, _("every unit of these kinds")),
]


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def read_param(param: str) -> tuple[list[str], str, list[str]]:
    """The stored parameter as (kinds, scope, unit codes)."""
    param = (param or "").strip()
    if param.startswith(ABOVE_PREFIX):
        return _split(param.removeprefix(ABOVE_PREFIX)), NEAREST, []
    items = _split(param)
    if items and set(items) <= set(UnitKind.values):
        return items, "", []
    return [], "", items


def _in_order(kinds) -> list[str]:
    return [kind for kind in UnitKind.values if kind in set(kinds)]


class UnitChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, unit):
        return unit.name


class StepForm(TemplateStepForm):
    """The step form with the approver's and the escalation's parameters as choices."""

    condition = forms.ChoiceField(label=_("only when"), choices=STEP_CONDITIONS, required=False)
    approver_kinds = forms.MultipleChoiceField(
        label=_("unit kinds"),
        choices=UnitKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "For the head of the nearest unit above, the council of a level, or a group of units of these kinds."
        ),
    )
    approver_scope = forms.ChoiceField(
        label=_("which units of these kinds (a group)"),
        choices=SCOPES,
        widget=forms.RadioSelect,
        initial=EVERY,
        required=False,
    )
    approver_units = UnitChoiceField(
        label=_("or these units (a group)"),
        queryset=OrganisationUnit.objects.order_by("name"),
        to_field_name="code",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    escalation_units = UnitChoiceField(
        label=_("units told of an overdue step"),
        queryset=OrganisationUnit.objects.order_by("name"),
        to_field_name="code",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("For the escalation “every member of the given unit(s)”."),
    )

    class Meta(TemplateStepForm.Meta):
        fields = [name for name in TemplateStepForm.Meta.fields if name not in ("approver_param", "escalation_param")]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds, scope, codes = read_param(self.instance.approver_param)
        self.initial.setdefault("approver_kinds", kinds)
        self.initial.setdefault("approver_scope", scope or EVERY)
        self.initial.setdefault("approver_units", codes)
        self.initial.setdefault("escalation_units", _split(self.instance.escalation_param))

    def clean(self):
        data = super().clean()
        self.instance.approver_param = self.approver_param(data)
        self.instance.escalation_param = (
            ",".join(unit.code for unit in data.get("escalation_units") or [])
            if data.get("escalation_rule") == EscalationRule.UNIT_MEMBERS
            else ""
        )
        return data

    def approver_param(self, data) -> str:
        rule = data.get("approver_rule")
        kinds = _in_order(data.get("approver_kinds") or [])
        units = [unit.code for unit in data.get("approver_units") or []]
        if rule in RULES_WITHOUT_PARAM or not rule:
            # The rule needs nothing: boxes left ticked from another rule are not kept.
            return ""
        if rule == ApproverRule.UNIT_MEMBERS:
            if kinds and units:
                self.add_error("approver_units", _("Choose unit kinds or units for the group, not both."))
                return ""
            if units:
                return ",".join(units)
            if not kinds:
                self.add_error("approver_kinds", _("Choose the unit kinds or the units whose members decide."))
                return ""
            scope = data.get("approver_scope") or EVERY
            return (ABOVE_PREFIX if scope == NEAREST else "") + ",".join(kinds)
        if units:
            self.add_error("approver_units", _("This approver rule takes unit kinds, not units."))
            return ""
        if rule == ApproverRule.ANCESTOR_HEAD and not kinds:
            self.add_error("approver_kinds", _("Choose the kinds of unit whose head decides."))
        return ",".join(kinds)

    def _update_errors(self, errors):
        # The model names parameters the form shows as lists: its messages go on those lists.
        if hasattr(errors, "error_dict"):
            for name, target in (("approver_param", "approver_kinds"), ("escalation_param", "escalation_units")):
                if name in errors.error_dict:
                    errors.error_dict.setdefault(target, []).extend(errors.error_dict.pop(name))
        super()._update_errors(errors)


class StepInline(TemplateStepInline):
    form = StepForm
    fieldsets = (
        (None, {"fields": (("position", "name", "code"), ("kind", "condition"))}),
        (_("Who decides"), {"fields": ("approver_rule", "approver_kinds", "approver_scope", "approver_units")}),
        (_("What they may decide"), {"fields": ("actions",)}),
        (
            _("Deadline, reminders and escalation"),
            {"fields": (("deadline_working_days", "reminder_offsets"), ("escalation_rule", "escalation_units"))},
        ),
    )


def _kind_labels(kinds) -> str:
    labels = dict(UnitKind.choices)
    return ", ".join(str(labels.get(kind, kind)) for kind in kinds)


admin.site.unregister(TemplateVersion)


@admin.register(TemplateVersion)
class DomainTemplateVersionAdmin(TemplateVersionAdmin):
    """The engine's version admin, its steps edited with the domain's lists."""

    inlines = (StepInline,)

    def step_value(self, step: TemplateStep, name: str) -> str:
        if name == "condition":
            return str(dict(STEP_CONDITIONS).get(step.condition, step.condition))
        if name == "escalation_param":
            return self.unit_names(_split(step.escalation_param)) or "—"
        if name != "approver_param":
            return super().step_value(step, name)
        kinds, scope, codes = read_param(step.approver_param)
        if codes:
            return self.unit_names(codes)
        if not kinds:
            return "—"
        if scope == NEAREST or step.approver_rule != ApproverRule.UNIT_MEMBERS:
            return _("nearest above: %(kinds)s") % {"kinds": _kind_labels(kinds)}
        return _("every unit: %(kinds)s") % {"kinds": _kind_labels(kinds)}

    def unit_names(self, codes: list[str]) -> str:
        names = dict(OrganisationUnit.objects.filter(code__in=codes).values_list("code", "name"))
        return ", ".join(names.get(code, code) for code in codes)
