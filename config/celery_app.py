import os

from celery import Celery

# Connects the Celery signals that carry a request's id into the tasks it enqueues.
import config.request_id  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("thidua")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
