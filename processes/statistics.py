"""The annual statistics workbook, laid out as form 0603.N of Circular 02/2023/TT-BNV: the unit and the
form's number, the title, the period and the unit of measure above a table of award forms (rows) by
recipient, individual category and award type (columns), the totals first.

The figures come from ``processes.selectors.statistics``; this module only writes them. Every text
cell goes through ``export.neutralise``: a unit or an award form named ``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

from io import BytesIO
from itertools import groupby

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from processes.export import neutralise
from processes.selectors.statistics import COLUMNS, AnnualStatistics

FORM_NUMBER = "0603.N"
#: Where the table starts: the two heading rows, then the totals row, then one row per award form.
HEADING_ROW = 6
TOTALS_ROW = HEADING_ROW + 2
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_BOLD = Font(bold=True)
_CENTRED = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _text(value) -> str:
    return neutralise(str(value))


def workbook_filename(year: int) -> str:
    return f"bieu-{FORM_NUMBER.replace('.', '')}-{year}.xlsx"


def statistics_workbook(statistics: AnnualStatistics, *, reporting_unit: str) -> bytes:
    """The .xlsx of ``statistics`` reported by ``reporting_unit`` (its name heads the sheet)."""
    book = Workbook()
    sheet = book.active
    sheet.title = _text(FORM_NUMBER)
    last = len(COLUMNS) + 1
    year = statistics.year

    sheet.cell(row=1, column=1, value=_text(reporting_unit)).font = _BOLD
    sheet.cell(row=1, column=last, value=_text(_("Form no. %(number)s") % {"number": FORM_NUMBER})).font = _BOLD
    title = sheet.cell(row=2, column=1, value=_text(_("CITY-LEVEL EMULATION AND COMMENDATION AWARDS")))
    title.font, title.alignment = Font(bold=True, size=13), _CENTRED
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last)
    period = sheet.cell(
        row=3,
        column=1,
        value=_text(_("Year %(year)s (decisions signed from 01/01/%(year)s to 31/12/%(year)s)") % {"year": year}),
    )
    period.alignment = _CENTRED
    sheet.merge_cells(start_row=3, start_column=1, end_row=3, end_column=last)
    sheet.cell(row=4, column=last, value=_text(_("Unit of measure: awards")))

    # Two heading rows: the groups above their columns; the form and the total span both.
    top, sub = HEADING_ROW, HEADING_ROW + 1
    sheet.cell(row=top, column=1, value=_text(_("Award form")))
    sheet.merge_cells(start_row=top, start_column=1, end_row=sub, end_column=1)
    column = 2
    for group, members in groupby(COLUMNS, key=lambda item: item.group):
        members = list(members)
        if not group:
            for member in members:
                sheet.cell(row=top, column=column, value=_text(member.label))
                sheet.merge_cells(start_row=top, start_column=column, end_row=sub, end_column=column)
                column += 1
            continue
        sheet.cell(row=top, column=column, value=_text(group))
        sheet.merge_cells(start_row=top, start_column=column, end_row=top, end_column=column + len(members) - 1)
        for member in members:
            sheet.cell(row=sub, column=column, value=_text(member.label))
            column += 1

    rows = [statistics.totals, *statistics.rows]
    for offset, row in enumerate(rows):
        number = TOTALS_ROW + offset
        sheet.cell(row=number, column=1, value=_text(row.award_form))
        for index, value in enumerate(row.values(), start=2):
            sheet.cell(row=number, column=index, value=value)
        if offset == 0:
            for index in range(1, last + 1):
                sheet.cell(row=number, column=index).font = _BOLD

    for line in sheet.iter_rows(min_row=top, max_row=TOTALS_ROW + len(rows) - 1, max_col=last):
        for cell in line:
            cell.border = _BOX
            if cell.row <= sub:
                cell.font, cell.alignment = _BOLD, _CENTRED
    sheet.column_dimensions["A"].width = 45
    for index in range(2, last + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 13
    sheet.freeze_panes = sheet.cell(row=TOTALS_ROW, column=2)

    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
