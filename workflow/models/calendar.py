"""The working calendar's local exceptions, entered by an administrator."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarOverride(models.Model):
    """A local exception to the national working-day calendar, entered by an admin.

    The ``holidays`` package supplies weekends, public holidays and the government's make-up
    Saturdays; this table adds what only the city knows (a city holiday, a typhoon closure, an
    extra working day). An override beats the national calendar on its date. Read through
    ``workflow.calendar``, never directly.
    """

    class Kind(models.TextChoices):
        DAY_OFF = "day_off", _("Extra day off")
        WORKING_DAY = "working_day", _("Extra working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    reason = models.TextField(_("reason"))

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%d/%m/%Y}: {self.get_kind_display()}"
