"""Dated rows (parent links, memberships, delegations): stored half-open, shown and typed inclusive.

A row is in force from ``valid_from`` up to, not including, ``valid_to``: one period ends on the day
the next begins, without overlapping, and "in force on D" is ``valid_from <= D < valid_to``. Queries
and constraints keep that form. People mean the other thing: a delegation "until 10/12" includes the
10th. So every form and list shows and takes the last day in force ("until the end of", one day
before the stored ``valid_to``), converting on the way in and out.
"""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

ONE_DAY = timedelta(days=1)


def last_day(valid_to: date | None) -> date | None:
    """The last day in force of a period ending (exclusive) at ``valid_to``; None while open."""
    return None if valid_to is None else valid_to - ONE_DAY


def period_label(valid_from: date, valid_to: date | None) -> str:
    """``01/01/2021 - 30/06/2025``, or ``01/01/2021 - …`` while open, in the active language's format."""
    start = date_format(valid_from, "SHORT_DATE_FORMAT")
    end = last_day(valid_to)
    return f"{start} - {date_format(end, 'SHORT_DATE_FORMAT') if end else '…'}"


PERIOD_ENDS_BEFORE_IT_STARTS = _("The last day cannot come before the first day.")


def check_period(valid_from: date | None, valid_to: date | None) -> None:
    """Refuse, on the end date's field, a period whose last day comes before its first."""
    if valid_from and valid_to and valid_to <= valid_from:
        raise ValidationError({"valid_to": PERIOD_ENDS_BEFORE_IT_STARTS})


class InclusiveEndDateField(forms.DateField):
    """Shows the last day in force; cleans to the day after it, which is what is stored."""

    def prepare_value(self, value):
        # An unbound form shows the stored end less a day; a bound one shows what was typed.
        return last_day(value) if isinstance(value, date) else value

    def to_python(self, value):
        # has_changed goes through here too, so an end shown and posted back unchanged is unchanged.
        day = super().to_python(value)
        if day is None:
            return None
        try:
            return day + ONE_DAY
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class EndDateField(models.DateField):
    """``valid_to``: exclusive in the database, inclusive in every form built from the model."""

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": InclusiveEndDateField, **kwargs})
