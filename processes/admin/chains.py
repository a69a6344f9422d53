"""Which chain each award form walks, and who stands in for a head."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError

from processes import services
from processes.admin.mixins import LastDayColumn
from processes.models import ChainAssignment, Delegation
from workflow.errors import WorkflowError


@admin.register(ChainAssignment)
class ChainAssignmentAdmin(admin.ModelAdmin):
    """Which process template each award form (and procedure) walks; a new case takes the
    template's version in force on its start date."""

    list_display = ("award_form", "procedure", "template")
    list_filter = ("procedure", "template")
    list_select_related = ("award_form", "template")
    search_fields = ("award_form__code", "award_form__name", "template__code", "template__name")
    autocomplete_fields = ("award_form",)
    fields = ("award_form", "procedure", "template")


@admin.register(Delegation)
class DelegationAdmin(LastDayColumn, admin.ModelAdmin):
    """A head's stand-in for a period: tasks made in it go to the delegate, on the head's behalf."""

    list_display = ("delegator", "delegate", "unit", "valid_from", "until_the_end_of")
    list_filter = ("valid_from",)
    list_select_related = ("delegator", "delegate", "unit")
    search_fields = ("delegator__username", "delegate__username", "unit__code", "unit__name")
    autocomplete_fields = ("unit",)
    raw_id_fields = ("delegator", "delegate")
    fields = ("unit", "delegator", "delegate", "valid_from", "valid_to", "reason")
    date_hierarchy = "valid_from"

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return tuple("until_the_end_of" if name == "valid_to" else name for name in self.fields)

    def get_readonly_fields(self, request, obj=None):
        # A delegation is a record of what was decided: made through the service, never edited.
        return self.get_fields(request, obj) if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form

        class CheckedDelegationForm(form):
            def clean(self):
                data = super().clean()
                if all(data.get(name) for name in ("delegator", "delegate", "unit", "valid_from")):
                    try:
                        services.delegation_check(
                            by=request.user,
                            delegator=data["delegator"],
                            delegate=data["delegate"],
                            unit=data["unit"],
                            valid_from=data["valid_from"],
                        )
                    except WorkflowError as error:
                        raise ValidationError(str(error)) from error
                return data

        return CheckedDelegationForm

    def save_model(self, request, obj, form, change):
        if change:
            return
        created = services.delegation_create(
            by=request.user,
            delegator=obj.delegator,
            delegate=obj.delegate,
            unit=obj.unit,
            valid_from=obj.valid_from,
            valid_to=obj.valid_to,
            reason=obj.reason,
        )
        obj.pk = created.pk
