"""English pages of a Vietnamese site: day-first dates (``config.formats``), the rest as Django's ``en``."""

from config.formats import (  # noqa: F401 - read by django.utils.formats.get_format
    DATE_FORMAT,
    DATE_INPUT_FORMATS,
    DATETIME_FORMAT,
    DATETIME_INPUT_FORMATS,
    FIRST_DAY_OF_WEEK,
    SHORT_DATE_FORMAT,
    SHORT_DATETIME_FORMAT,
)
