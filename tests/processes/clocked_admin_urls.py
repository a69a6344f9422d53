"""The project's URLs plus an admin site holding django-celery-beat's clocked schedules, whose form
has a date and a time box: the project's admin no longer shows beat's rows (beat rewrites them), but
the test of day-first date and time input still needs a date-time field typed into the admin."""

from django.contrib.admin import AdminSite
from django.urls import include, path
from django_celery_beat.admin import ClockedScheduleAdmin
from django_celery_beat.models import ClockedSchedule

clocked_site = AdminSite(name="clocked")
clocked_site.register(ClockedSchedule, ClockedScheduleAdmin)

urlpatterns = [
    path("clocked-admin/", clocked_site.urls),
    path("", include("config.urls")),
]
