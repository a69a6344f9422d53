"""Nominees and their earlier awards; an edit to a nominee goes through ``nominee_update``."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from processes import services
from processes.models import Nominee, PriorAward


class PriorAwardInline(admin.TabularInline):
    model = PriorAward
    extra = 0


@admin.register(Nominee)
class NomineeAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "masked_id", "unit", "category", "collective_type", "remote_or_island", "blocked")
    list_filter = (
        "kind",
        "category",
        "collective_type",
        "remote_or_island",
        "pending_discipline",
        "under_investigation",
        "pending_complaint",
    )
    list_select_related = ("unit",)
    # The full ID number finds a nominee, but lists only ever show its last digits.
    search_fields = ("name", "=id_number", "unit__name")
    autocomplete_fields = ("unit", "user")
    inlines = (PriorAwardInline,)
    fieldsets = (
        (None, {"fields": ("kind", "name", "unit", "user", "remote_or_island")}),
        (
            _("Individual"),
            {"fields": ("gender", "birth_date", "ethnicity", "position", "id_number", "category")},
        ),
        (_("Collective"), {"fields": ("collective_type",)}),
        (
            _("Pending proceedings (Decree 152/2025/ND-CP)"),
            {"fields": ("pending_discipline", "under_investigation", "pending_complaint")},
        ),
    )

    @admin.display(description=_("ID number"))
    def masked_id(self, nominee):
        return nominee.masked_id_number

    @admin.display(description=_("proceedings pending"), boolean=True)
    def blocked(self, nominee):
        return nominee.has_pending_proceedings

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # Through the service: a pending-proceedings flag set here reaches the open cases' logs and
        # the holders of their steps.
        edited = {name: form.cleaned_data[name] for name in form.changed_data if name in services.NOMINEE_FIELDS}
        if edited:
            services.nominee_update(nominee=obj, by=request.user, **edited)
        others = [name for name in form.changed_data if name not in services.NOMINEE_FIELDS]
        if others:
            obj.save(update_fields=others)
        return None


@admin.register(PriorAward)
class PriorAwardAdmin(admin.ModelAdmin):
    list_display = ("nominee", "award_form", "year", "decision_number")
    list_filter = ("award_form", "year")
    list_select_related = ("nominee", "award_form")
    search_fields = ("nominee__name", "decision_number")
    autocomplete_fields = ("nominee",)
