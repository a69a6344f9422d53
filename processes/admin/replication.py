"""The replicate stage's plans and activities, read-only: they are recorded on the case's page,
through ``processes.services``, which closes the case when its plan is met."""

from django.contrib import admin

from processes.models import DisseminationActivity, ReplicationPlan
from workflow.admin import ReadOnlyAdminMixin


@admin.register(ReplicationPlan)
class ReplicationPlanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("nomination", "activities_required", "adoptions_required", "updated_by", "updated_at")
    list_select_related = ("nomination__nominee", "nomination__award_form", "updated_by")


@admin.register(DisseminationActivity)
class DisseminationActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("title", "kind", "held_on", "nomination", "adopting_unit")
    list_filter = ("kind", "held_on")
    list_select_related = ("nomination__nominee", "nomination__award_form", "adopting_unit")
    search_fields = ("title", "nomination__nominee__name")
