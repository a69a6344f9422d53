"""The other apps' admin pages: what administrators should not touch is hidden or read-only, and
what stays is named in Vietnamese.

- django-celery-beat's rows are rewritten from ``CELERY_BEAT_SCHEDULE`` every time beat starts: an
  edit there would be lost, so they are not shown.
- viewflow's Process and Task rows are the engine's bookkeeping; the approvals (workflow's admin)
  show where each case stands, read-only.
- django-axes's log-in records are read-only; an access attempt may still be deleted, which is how
  an administrator lifts a lock early.
"""

from __future__ import annotations

# Imported for their registrations, which must have happened before they are undone below.
import django_celery_beat.admin  # noqa: F401
import viewflow.workflow.admin  # noqa: F401
from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from viewflow.workflow.models import Process, Task

#: Names axes marks for translation but ships no Vietnamese for: our catalogue translates them.
AXES_NAMES = (
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("Username"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Logout Time"),
    gettext_noop("Failed Logins"),
    gettext_noop("Access lock out"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Form Data"),
    gettext_noop("Locked Out"),
    gettext_noop("Clean up expired attempts"),
)

for model in (PeriodicTask, IntervalSchedule, CrontabSchedule, SolarSchedule, ClockedSchedule, Process, Task):
    if admin.site.is_registered(model):
        admin.site.unregister(model)

# axes's app config names no verbose name: its heading on the index would read "Axes".
apps.get_app_config("axes").verbose_name = _("Log-in throttling")


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AccessAttemptRecordAdmin(ReadOnly, AccessAttemptAdmin):
    """Read-only; deleting an attempt lifts its lock."""


class AccessLogRecordAdmin(ReadOnly, AccessLogAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


class AccessFailureLogRecordAdmin(ReadOnly, AccessFailureLogAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


for model, model_admin in (
    (AccessAttempt, AccessAttemptRecordAdmin),
    (AccessLog, AccessLogRecordAdmin),
    (AccessFailureLog, AccessFailureLogRecordAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
