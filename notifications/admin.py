from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.models import InAppNotification, Outbox, Preference
from notifications.outbox import enqueue, retry_failed
from workflow.admin import ReadOnlyAdminMixin


@admin.register(Outbox)
class OutboxAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written by the outbox and its worker; shown here, never edited (failed rows can be retried)."""

    list_display = ("pk", "recipient", "event", "channel", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "event", "channel")
    list_select_related = ("recipient",)
    search_fields = ("recipient__username", "subject")
    actions = ["retry"]

    @admin.action(description=_("Send the failed ones again"))
    def retry(self, request, queryset):
        ids = list(queryset.filter(status=Outbox.Status.FAILED).values_list("pk", flat=True))
        count = retry_failed(ids)
        enqueue(ids)
        self.message_user(
            request,
            ngettext("%(count)d notification queued again.", "%(count)d notifications queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def has_change_permission(self, request, obj=None):
        # The retry action needs change permission on the list; single rows stay read-only.
        return obj is None and request.user.is_superuser


@admin.register(InAppNotification)
class InAppNotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("title", "recipient", "created_at", "read_at")
    list_select_related = ("recipient",)
    search_fields = ("recipient__username", "title")


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "event", "in_app", "email", "digest")
    list_filter = ("event",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)
