"""viewflow's timers are fired by a Celery task that beat runs from a database row admins can tune."""

import importlib

from django.apps import apps
from django_celery_beat.models import PeriodicTask

from tests.factories import approve_until, open_step, submitted
from workflow.models import StepKind
from workflow.tasks import fire_timers


def test_the_data_migration_makes_one_beat_row_running_the_timer_task_every_minute(db, settings):
    # Postgres tests empty the tables between tests, so the migration's function is run again here.
    migration = importlib.import_module("workflow.migrations.0006_beat_fire_timers")
    PeriodicTask.objects.filter(task="workflow.fire_due_timers").delete()
    migration.create(apps, None)
    migration.create(apps, None)
    row = PeriodicTask.objects.get(task="workflow.fire_due_timers")
    assert (row.enabled, row.interval.every, row.interval.period) == (True, 1, "minutes")
    assert settings.CELERY_BEAT_SCHEDULE == {}  # beat would overwrite an admin's edits from it


def test_the_task_closes_a_posting_window_that_has_run_out(org):
    from django.utils import timezone
    from viewflow.workflow.models import Task

    org.city_form.public_posting_working_days = 10
    org.city_form.save()
    nomination = approve_until(submitted(org), "public_posting")
    window = open_step(nomination)
    assert window.step.kind == StepKind.POSTING
    assert fire_timers() == 0  # not due yet: nothing moves
    assert open_step(nomination).pk == window.pk

    Task.objects.filter(pk=window.pk).update(scheduled=timezone.now())
    assert fire_timers() == 1
    assert open_step(nomination).step.code == "chairman_decision"  # no council vote for this form
