"""The replicate stage's records: plans, activities and their evidence are written through the services
(checks, evidence stored as dossier files, audit entries, the case closing when its plan is met);
shown here, never edited."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from processes.models import ActivityEvidence, DisseminationActivity, ReplicationPlan
from workflow.admin import ReadOnlyAdminMixin


@admin.register(ReplicationPlan)
class ReplicationPlanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("nomination", "activities_required", "adoptions_required", "updated_by", "updated_at")
    list_select_related = ("nomination__nominee", "nomination__award_form", "updated_by")
    search_fields = ("nomination__nominee__name",)


@admin.register(DisseminationActivity)
class DisseminationActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("title", "nomination", "kind", "held_on", "adopting_unit", "recorded_by")
    list_filter = ("kind", "held_on")
    list_select_related = ("nomination__nominee", "nomination__award_form", "adopting_unit", "recorded_by")
    search_fields = ("title", "nomination__nominee__name", "adopting_unit__name")


@admin.register(ActivityEvidence)
class ActivityEvidenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The stored file has no URL: it is opened through the permission-checked download view."""

    list_display = ("original_name", "activity", "size", "uploaded_by", "uploaded_at", "download")
    list_select_related = ("activity", "uploaded_by")
    search_fields = ("original_name", "sha256")
    fields = ("original_name", "activity", "content_type", "size", "sha256", "uploaded_by", "uploaded_at", "download")
    readonly_fields = fields

    @admin.display(description=_("download"))
    def download(self, evidence):
        return format_html(
            '<a href="{}">{}</a>', reverse("processes:evidence-download", args=[evidence.pk]), _("download")
        )
