from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from notifications.events import on_audit_entry
        from workflow.models import AuditEntry

        post_save.connect(on_audit_entry, sender=AuditEntry, dispatch_uid="notifications_on_audit_entry")
