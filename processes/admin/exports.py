"""The tracker's large exports: written by the Celery task, shown here read-only (who asked, when,
how far it got), so an administrator can see an export that failed."""

from django.contrib import admin

from processes.models import ExportJob
from workflow.admin import ReadOnlyAdminMixin


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "status", "done", "total", "finished_at")
    list_filter = ("status", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__username",)
