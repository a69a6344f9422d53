"""Signed award decisions and their number counters, read-only: decisions are signed through
``processes.services`` (the number is issued there), never typed in here."""

from django.contrib import admin

from processes.models import AwardDecision, Decision, DecisionCounter
from workflow.admin import ReadOnlyAdminMixin


class AwardInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Decision
    fields = ("nomination", "number", "signed_on")
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("nomination__nominee", "nomination__award_form")


@admin.register(AwardDecision)
class AwardDecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "issuer", "signed_on", "signer", "on_behalf")
    list_filter = ("year", "on_behalf", "issuer")
    list_select_related = ("issuer", "signer")
    search_fields = ("symbol", "issuer__name")
    date_hierarchy = "signed_on"
    inlines = [AwardInline]


@admin.register(DecisionCounter)
class DecisionCounterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("issuer", "year", "last_number")
    list_filter = ("year",)
    list_select_related = ("issuer",)
