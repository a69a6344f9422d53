"""The periodic audit checkpoint, as a django-celery-beat row admins can see and tune (not in
``CELERY_BEAT_SCHEDULE``, which beat would re-impose over their edits at every start)."""

from django.db import migrations

TASK = "workflow.audit_checkpoint"
NAME = "Audit log: signed checkpoint of every chain head (written when one moved)"
MINUTES = 5


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _created = IntervalSchedule.objects.get_or_create(every=MINUTES, period="minutes")
    PeriodicTask.objects.get_or_create(name=NAME, defaults={"task": TASK, "interval": every, "enabled": True})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0010_audit_append_only_triggers"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
