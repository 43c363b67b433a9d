"""The one .xlsx writer for every workbook handed to a user: exports, import templates,
import problem lists, and every report to come.

Why one writer: text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
a formula (or a DDE payload) to Excel, WPS and LibreOffice — CSV/formula injection, in
OWASP's words. openpyxl even writes a ``str`` starting with "=" as a live formula, so a
customer named ``=HYPERLINK("http://x","y")`` became a link in everyone's export. Every
value written through ``Workbook`` is neutralised (``neutralise``):

- numbers, dates and booleans are written as they are: a number cell cannot hold a formula;
- text that is a number or a phone number as people write them ("+86 138 0013 8000",
  "-12.5", "-", "(0371) 6666-8888") is kept as it is and stored as text with Excel's
  quote-prefix style: shown as typed, and editing the cell cannot turn it into a formula;
- any other text starting with one of those characters (or their full-width forms) gets a
  single quote in front, as OWASP recommends, so that it stays inert after a round trip
  through CSV as well; it is quote-prefixed too. The importer drops that quote again
  (crm.customers.importing.parsing.plain_text), so an export imports back unchanged.

Text that Excel would read as an error value ("#N/A") is kept as text, and control
characters that XML cannot carry are dropped rather than failing the whole file.

Workbooks are written with openpyxl's write-only mode, row by row into a temporary file,
so 100,000 rows need neither minutes nor a workbook in memory. This module imports only
openpyxl and the standard library (crm.core is the base layer).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import IO, Any

from openpyxl import Workbook as OpenpyxlWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The first characters that make a spreadsheet evaluate a cell (OWASP's list), with their
# full-width forms, which a Chinese input method types and some spreadsheets accept.
TRIGGERS = frozenset("=+-@\t\r＝＋－＠")
# Text that is harmless even if evaluated: a number or a phone number as written by hand
# (digits, spaces, dots, hyphens, brackets; a leading + or -), or a lone dash placeholder.
_NUMBER_LIKE = re.compile(r"[+\-－＋]?[\d\s.\-()（）]*\d[\d\s.\-()（）]*|[-－—]+")


class Style(Enum):
    """How a row looks; the values are never evaluated either way."""

    PLAIN = "plain"
    HEADER = "header"
    REQUIRED_HEADER = "required_header"
    NOTE = "note"
    EXAMPLE = "example"


_FONTS = {
    Style.HEADER: Font(bold=True, color="FFFFFF"),
    Style.REQUIRED_HEADER: Font(bold=True, color="FFFFFF"),
    Style.NOTE: Font(italic=True, color="6B7280"),
    Style.EXAMPLE: Font(color="9CA3AF"),
}
_FILLS = {
    Style.HEADER: PatternFill("solid", fgColor="B4232A"),
    Style.REQUIRED_HEADER: PatternFill("solid", fgColor="8F1B21"),
}
_CENTER = Alignment(horizontal="center", vertical="center")


def neutralise(value: str) -> tuple[str, bool]:
    """The text to write for ``value`` and whether its cell must be quote-prefixed.

    >>> neutralise('=HYPERLINK("http://x","y")')
    ('\\'=HYPERLINK("http://x","y")', True)
    >>> neutralise("+86 138 0013 8000")
    ('+86 138 0013 8000', True)
    >>> neutralise("张三")
    ('张三', False)
    """
    if not value.isprintable():  # tabs, line breaks, control characters: rare, so checked only then
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value or value[0] not in TRIGGERS:
        return value, value in ERROR_CODES
    if _NUMBER_LIKE.fullmatch(value):
        return value, True
    return f"'{value}", True


class Sheet:
    """One worksheet of a Workbook: rows are appended in order, every value neutralised."""

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        self._sheet = sheet

    def set_widths(self, widths: Sequence[float]) -> None:
        for i, width in enumerate(widths, start=1):
            self._sheet.column_dimensions[get_column_letter(i)].width = width

    def freeze(self, cell: str) -> None:
        self._sheet.freeze_panes = cell

    def append(self, values: Iterable[Any], *, style: Style = Style.PLAIN, date_format: str = "") -> None:
        """Append one row. ``style`` applies to every cell of it; ``date_format`` to its dates."""
        row: list[Any] = []
        for value in values:
            if value.__class__ is str:
                text, quoted = neutralise(value)
                if quoted or style is not Style.PLAIN:
                    row.append(self._cell(text, style, quote_prefix=quoted))
                else:
                    row.append(text)
            elif style is not Style.PLAIN and value is not None:
                cell = self._cell(value, style)
                if date_format and hasattr(value, "year"):
                    cell.number_format = date_format
                row.append(cell)
            else:
                row.append(value)
        self._sheet.append(row)

    def append_header(self, headers: Iterable[str], *, required: Iterable[str] = ()) -> None:
        """A header row; the ``required`` headers are marked with * on a darker fill."""
        marked = set(required)
        row = []
        for header in headers:
            is_required = header in marked
            text, quoted = neutralise(f"{header}*" if is_required else header)
            cell = self._cell(text, Style.REQUIRED_HEADER if is_required else Style.HEADER, quote_prefix=quoted)
            cell.alignment = _CENTER
            row.append(cell)
        self._sheet.append(row)

    def append_note(self, text: str) -> None:
        """A one-cell line in grey italics: the export's watermark, a problem list's summary."""
        self.append([text], style=Style.NOTE)

    def _cell(self, value: Any, style: Style, *, quote_prefix: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(self._sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # never a formula or an error value
        if quote_prefix:
            cell.quotePrefix = True
        if style in _FONTS:
            cell.font = _FONTS[style]
        if style in _FILLS:
            cell.fill = _FILLS[style]
        return cell


class Workbook:
    """A workbook written row by row; ``save`` gives the finished file."""

    def __init__(self) -> None:
        self._workbook = OpenpyxlWorkbook(write_only=True)

    def add_sheet(self, title: str, *, widths: Sequence[float] = (), freeze: str = "") -> Sheet:
        sheet = Sheet(self._workbook.create_sheet(title=title))
        if widths:
            sheet.set_widths(widths)
        if freeze:
            sheet.freeze(freeze)
        return sheet

    def save(self) -> IO[bytes]:
        """The workbook in a temporary file, positioned at its start; deleted when closed."""
        file = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the caller (a response) closes it
        self._workbook.save(file)
        file.seek(0)
        return file
