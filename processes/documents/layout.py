"""The administrative layout of Decree 30/2020/NĐ-CP (Appendix I), shared by every paper.

A4, margins top and bottom 20 mm, left 30 mm, right 15 mm; Times New Roman; the two-column header
(the issuer's parent body and the issuer on the left, the national name and motto on the right, the
number and symbol under the issuer, the place and date under the motto); the kind of paper in
capitals and its subject; the body at 14 pt; the signature block (the signer's capacity, "KT." when a
deputy signs on the head's behalf, the name) beside the "Nơi nhận:" list.

Names typed by users go into runs as text: python-docx escapes them in the XML, and a run is never a
field (Word's formulas and hyperlinks are fields), so ``<script>`` or ``=HYPERLINK(…)`` stay words.
The wording comes from the data (``processes.documents.text``) and the catalogue, in the papers'
language (``document_language``), whatever the reader's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO

from django.conf import settings
from django.utils.translation import pgettext
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from processes.models import UnitKind

FONT = "Times New Roman"
BODY_SIZE = Pt(14)
HEADER_SIZE = Pt(13)
TABLE_SIZE = Pt(12)
RECIPIENTS_SIZE = Pt(11)
MARGINS = {"top": Mm(20), "bottom": Mm(20), "left": Mm(30), "right": Mm(15)}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def document_language() -> str:
    """The papers are Vietnamese administrative documents, whatever language the reader chose."""
    return getattr(settings, "DOCUMENT_LANGUAGE", "vi")


# --- the words of the layout ---------------------------------------------------------------------


def national_name() -> str:
    return pgettext("document", "SOCIALIST REPUBLIC OF VIETNAM")


def motto() -> str:
    return pgettext("document", "Independence - Freedom - Happiness")


def date_line(place: str, day: date) -> str:
    """``Hải Phòng, ngày 05 tháng 12 năm 2026``: days below 10 and the months 1 and 2 take a
    leading zero (Decree 30/2020, Appendix I)."""
    words = pgettext("document", "day %(day)s month %(month)s year %(year)s") % {
        "day": f"{day.day:02d}",
        "month": f"{day.month:02d}" if day.month <= 2 else str(day.month),
        "year": day.year,
    }
    return f"{place}, {words}" if place else words.capitalize()


def short_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def number_line(number: str) -> str:
    return pgettext("document", "No.: %(number)s") % {"number": number}


def head_titles(kind: str) -> tuple[str, str]:
    """What the head and a deputy of a unit of ``kind`` are called on a signature."""
    if kind in (UnitKind.CITY, UnitKind.DISTRICT, UnitKind.COMMUNE):
        return pgettext("document", "Chairman"), pgettext("document", "Vice-chairman")
    if kind == UnitKind.DEPARTMENT:
        return pgettext("document", "Director"), pgettext("document", "Deputy director")
    return pgettext("document", "Head of the unit"), pgettext("document", "Deputy head of the unit")


@dataclass(frozen=True)
class Header:
    """The issuer, the number and symbol, the place and date of a paper."""

    issuer: str
    parent: str = ""
    number: str = ""
    place: str = ""
    day: date | None = None

    @property
    def national_name(self) -> str:
        return national_name()

    @property
    def motto(self) -> str:
        return motto()

    @property
    def issuer_lines(self) -> list[str]:
        return [self.parent.upper(), self.issuer.upper()] if self.parent else [self.issuer.upper()]

    @property
    def date_text(self) -> str:
        return date_line(self.place, self.day) if self.day else ""

    @property
    def number_text(self) -> str:
        return number_line(self.number) if self.number else ""


@dataclass(frozen=True)
class Signature:
    """The signature block: the head's title, and when a deputy signs on the head's behalf "KT." over
    the deputy's title; then the name."""

    head_title: str
    deputy_title: str = ""
    on_behalf: bool = False
    name: str = ""

    @property
    def capacity_lines(self) -> list[str]:
        if self.on_behalf:
            on_behalf_of = pgettext("document", "p.p. %(title)s") % {"title": self.head_title}
            return [on_behalf_of.upper(), self.deputy_title.upper()]
        return [self.head_title.upper()]


@dataclass(frozen=True)
class Column:
    title: str
    width_mm: float


@dataclass
class Paper:
    """One python-docx document being written in the decree's layout."""

    landscape: bool = False
    document: Document = field(default_factory=Document)

    def __post_init__(self):
        style = self.document.styles["Normal"]
        style.font.name = FONT
        style.font.size = BODY_SIZE
        # East-Asian and complex-script faces too, or Word substitutes its own for Vietnamese marks.
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attribute), FONT)
        style.paragraph_format.space_after = Pt(0)
        self.set_page(landscape=self.landscape, section=self.document.sections[0])

    @staticmethod
    def set_page(*, landscape: bool, section) -> None:
        short, long = Mm(210), Mm(297)
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = (long, short) if landscape else (short, long)
        for side, size in MARGINS.items():
            setattr(section, f"{side}_margin", size)

    @property
    def text_width(self) -> int:
        section = self.document.sections[-1]
        return section.page_width - section.left_margin - section.right_margin

    # -- blocks -------------------------------------------------------------------------------------

    def line(self, text="", *, bold=False, italic=False, size=None, align=None, indent=False, before=0, after=0):
        paragraph = self.document.add_paragraph()
        self._format(paragraph, align=align, indent=indent, before=before, after=after)
        if text:
            self._run(paragraph, text, bold=bold, italic=italic, size=size)
        return paragraph

    def centred(self, text: str, *, bold=False, italic=False, before=0, after=0):
        return self.line(text, bold=bold, italic=italic, align=WD_ALIGN_PARAGRAPH.CENTER, before=before, after=after)

    def body(self, text: str, *, lead: str = "") -> None:
        """A paragraph of the body, justified with its first line indented; ``lead`` in bold first."""
        paragraph = self.document.add_paragraph()
        self._format(paragraph, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True, after=6)
        if lead:
            self._run(paragraph, f"{lead} ", bold=True)
        self._run(paragraph, text)

    def header(self, header: Header) -> None:
        table = self._grid(2, [self.text_width * 2 // 5, self.text_width * 3 // 5])
        left, right = table.rows[0].cells
        lines = header.issuer_lines
        self._cell(left, lines[0], bold=len(lines) == 1, size=HEADER_SIZE)
        if len(lines) > 1:
            self._cell(left, lines[1], bold=True, size=HEADER_SIZE, new=True)
        self._cell(left, "———", size=HEADER_SIZE, new=True)
        if header.number_text:
            self._cell(left, header.number_text, size=HEADER_SIZE, new=True)
        self._cell(right, national_name(), bold=True, size=HEADER_SIZE)
        self._cell(right, motto(), bold=True, size=BODY_SIZE, new=True)
        self._cell(right, "———————", size=HEADER_SIZE, new=True)
        if header.date_text:
            self._cell(right, header.date_text, italic=True, size=BODY_SIZE, new=True)

    def title(self, kind: str, subject: str = "") -> None:
        self.line(kind.upper(), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, before=18)
        if subject:
            self.line(subject, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=12)

    def table(self, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> None:
        table = self._grid(len(columns), [Mm(column.width_mm) for column in columns], style="Table Grid")
        for cell, column in zip(table.rows[0].cells, columns, strict=True):
            self._cell(cell, column.title, bold=True, size=TABLE_SIZE)
        # The header row repeats on every page the table crosses.
        table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
        for values in rows:
            cells = table.add_row().cells
            for cell, value in zip(cells, values, strict=True):
                self._cell(cell, str(value), size=TABLE_SIZE, align=WD_ALIGN_PARAGRAPH.LEFT)

    def signature(self, signature: Signature | None, recipients: Sequence[str] = ()) -> None:
        table = self._grid(2, [self.text_width // 2, self.text_width // 2])
        left, right = table.rows[0].cells
        if recipients:
            heading = pgettext("document", "Recipients:")
            self._cell(left, heading, bold=True, italic=True, size=TABLE_SIZE, align=WD_ALIGN_PARAGRAPH.LEFT)
            for recipient in recipients:
                self._cell(left, f"- {recipient}", size=RECIPIENTS_SIZE, align=WD_ALIGN_PARAGRAPH.LEFT, new=True)
        if signature is None:
            return
        for index, capacity in enumerate(signature.capacity_lines):
            self._cell(right, capacity, bold=True, new=index > 0)
        for _blank in range(4):
            self._cell(right, "", new=True)
        self._cell(right, signature.name, bold=True, new=True)

    def page_break(self, *, landscape: bool | None = None) -> None:
        if landscape is None:
            self.document.add_page_break()
            return
        section = self.document.add_section()
        self.set_page(landscape=landscape, section=section)

    def to_bytes(self) -> bytes:
        out = BytesIO()
        self.document.save(out)
        return out.getvalue()

    # -- helpers ------------------------------------------------------------------------------------

    def _grid(self, count: int, widths, *, style: str | None = None):
        table = self.document.add_table(rows=1, cols=count)
        if style:
            table.style = self.document.styles[style]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
            for cell in column.cells:
                cell.width = width
        return table

    def _cell(self, cell, text, *, bold=False, italic=False, size=None, align=WD_ALIGN_PARAGRAPH.CENTER, new=False):
        paragraph = cell.add_paragraph() if new else cell.paragraphs[0]
        self._format(paragraph, align=align)
        if text:
            self._run(paragraph, text, bold=bold, italic=italic, size=size)

    @staticmethod
    def _format(paragraph, *, align=None, indent=False, before=0, after=0):
        paragraph_format = paragraph.paragraph_format
        if align is not None:
            paragraph.alignment = align
        if indent:
            paragraph_format.first_line_indent = Mm(12.7)
        paragraph_format.space_before = Pt(before)
        paragraph_format.space_after = Pt(after)

    @staticmethod
    def _run(paragraph, text, *, bold=False, italic=False, size=None):
        run = paragraph.add_run(text)
        run.bold = bold or None
        run.italic = italic or None
        if size is not None:
            run.font.size = size
        return run
