"""Objections to a posted list and agencies' consultations: recorded through the services, shown here."""

from __future__ import annotations

from django.contrib import admin

from processes.models import Consultation, Objection
from workflow.admin import ReadOnlyAdminMixin


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Recorded through the services (checks and audit entries); shown here, never edited."""

    list_display = ("nomination", "author", "source", "recorded_at", "recorded_by", "resolved_at")
    list_filter = ("source", "recorded_at")
    list_select_related = ("nomination__nominee", "recorded_by")
    search_fields = ("author", "nomination__nominee__name")


@admin.register(Consultation)
class ConsultationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Asked and answered through the services; shown here, never edited."""

    list_display = ("nomination", "agency_name", "requested_at", "due_at", "answered_at", "via_board")
    list_filter = ("answered_at", "via_board")
    list_select_related = ("nomination__nominee",)
    search_fields = ("agency_name", "nomination__nominee__name")
