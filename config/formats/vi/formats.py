"""Vietnamese: day-first dates (``config.formats``); everything else as in Django's ``vi`` locale."""

from config.formats import (  # noqa: F401 - read by django.utils.formats.get_format
    DATE_FORMAT,
    DATE_INPUT_FORMATS,
    DATETIME_FORMAT,
    DATETIME_INPUT_FORMATS,
    FIRST_DAY_OF_WEEK,
    SHORT_DATE_FORMAT,
    SHORT_DATETIME_FORMAT,
)
