from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from celery.signals import after_task_publish, task_postrun, task_revoked

        from notifications import health, metrics
        from notifications.events import on_audit_entry
        from workflow.models import AuditEntry

        post_save.connect(on_audit_entry, sender=AuditEntry, dispatch_uid="notifications_on_audit_entry")
        post_save.connect(metrics.on_audit_entry, sender=AuditEntry, dispatch_uid="metrics_on_audit_entry")
        # Celery's signals hold weak references by default: these are module functions, kept alive.
        after_task_publish.connect(health.on_task_published, dispatch_uid="health_on_task_published")
        task_postrun.connect(metrics.on_task_postrun, dispatch_uid="metrics_on_task_postrun")
        task_revoked.connect(metrics.on_task_revoked, dispatch_uid="metrics_on_task_revoked")
