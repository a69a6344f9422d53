"""How dates are typed and shown, day first, in every language of the site (``FORMAT_MODULE_PATH``).

Vietnamese write the 5th of December 2026 as 05/12/2026, and so do users of the English pages here,
who work on the same Vietnamese records. Django's defaults read that as 12 May: its global and
English input formats accept ``%m/%d/%Y`` and its Vietnamese locale sets no input formats of its
own. Here no month-first form is accepted, so 12/31/2026 is an error rather than a silently wrong
date. ISO ``2026-12-05`` stays accepted, last: it is what ``<input type="date">`` sends and what
nobody types by hand. The first format of each list is the one date fields show their value in.
"""

DATE_INPUT_FORMATS = [
    "%d/%m/%Y",  # 05/12/2026 (also 5/12/2026)
    "%d/%m/%y",  # 05/12/26
    "%d-%m-%Y",  # 05-12-2026
    "%d.%m.%Y",  # 05.12.2026
    "%Y-%m-%d",  # 2026-12-05, from <input type="date">
]
DATETIME_INPUT_FORMATS = [
    "%d/%m/%Y %H:%M:%S",  # 05/12/2026 14:30:59
    "%d/%m/%Y %H:%M:%S.%f",  # 05/12/2026 14:30:59.000200
    "%d/%m/%Y %H:%M",  # 05/12/2026 14:30
    "%d/%m/%Y",  # 05/12/2026 (midnight)
    "%d-%m-%Y %H:%M:%S",  # 05-12-2026 14:30:59
    "%d-%m-%Y %H:%M",  # 05-12-2026 14:30
    "%d-%m-%Y",  # 05-12-2026
    "%Y-%m-%d %H:%M:%S",  # 2026-12-05 14:30:59
    "%Y-%m-%d %H:%M:%S.%f",  # 2026-12-05 14:30:59.000200
    "%Y-%m-%d %H:%M",  # 2026-12-05 14:30 (forms read 2026-12-05T14:30 as ISO before these)
    "%Y-%m-%d",  # 2026-12-05
]
DATE_FORMAT = "d/m/Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
# Weeks start on Monday in Vietnam (the admin's calendar).
FIRST_DAY_OF_WEEK = 1
