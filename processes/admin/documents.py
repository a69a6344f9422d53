"""Numbered award decisions and their counters, read-only: a decision is signed on the signing page
(``decision_sign``), and a number is never typed, edited or taken back here."""

from django.contrib import admin

from processes.models import AwardDecision, DecisionCounter
from workflow.admin import ReadOnlyAdminMixin


@admin.register(AwardDecision)
class AwardDecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "issuer", "signed_on", "signer", "on_behalf")
    list_filter = ("year", "on_behalf", "issuer")
    list_select_related = ("issuer", "signer")
    search_fields = ("symbol", "issuer__name", "awards__nomination__nominee__name")
    date_hierarchy = "signed_on"


@admin.register(DecisionCounter)
class DecisionCounterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("issuer", "year", "last_number")
    list_filter = ("year",)
    list_select_related = ("issuer",)
