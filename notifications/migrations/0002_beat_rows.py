"""The outbox's periodic tasks as django-celery-beat rows that admins can see and tune (not in
``CELERY_BEAT_SCHEDULE``, which beat would re-impose over their edits at every start)."""

from django.db import migrations

ROWS = [
    ("Notifications: deliver what is due, recover expired leases", "notifications.sweep", 1),
    ("Notifications: reminders, due today, escalations", "notifications.scan_reminders", 5),
]


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minutes in ROWS:
        every, _created = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": every, "enabled": True})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task__in=[row[1] for row in ROWS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_outbox"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
