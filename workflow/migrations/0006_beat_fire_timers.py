"""The periodic task that fires viewflow's timers, as a django-celery-beat row admins can see and tune.

Kept out of ``CELERY_BEAT_SCHEDULE`` on purpose: beat rewrites its rows from that setting at every
start, which would undo an admin's change.
"""

from django.db import migrations

TASK = "workflow.fire_due_timers"
NAME = "Fire workflow timers (posting windows, council closing times)"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _created = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(name=NAME, defaults={"task": TASK, "interval": every_minute, "enabled": True})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0005_council_posting_consultation"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
