"""Reading an import file (file → Sheet): what the file is, its rows, its header row.

The content decides what a file is, not its name (``sniff_format``): an .xlsx workbook
(checked by crm.lib.sheets.check_zip before anything opens it), a legacy .xls, or text —
CSV or tab-separated, in the encodings Chinese Windows and business systems write
(crm.lib.textfile). Anything else, a web page saved as ".xls", an image, a file that is
two things at once, is refused with a Chinese message (ImportFileError), as is a file over
the limits: the real unpacked size (IMPORT_MAX_UNPACKED_BYTES), the cells of the sheet
(IMPORT_MAX_CELLS), MAX_ROWS data rows, MAX_COLUMNS columns. Workbooks are read in a child
process (crm.lib.sheets.iter_sheet_rows) and only the columns the import uses are kept.

Rows are returned as read, each with the line number the user sees in Excel, for
crm.customers.importing.validating.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.conf import settings

from crm.core.errors import DomainError
from crm.customers.importing.columns import (
    COLUMNS,
    DEALS,
    EXAMPLE_MARK,
    header_keys,
    normalise_header,
    whole_file_keys,
)
from crm.customers.importing.parsing import text
from crm.lib import sheets, textfile

MAX_ROWS = 200_000
# A wider row is not a customer list: refused before its cells are kept.
MAX_COLUMNS = 256
# How far below the first line a header row is looked for (an export has a title line above it).
HEADER_SEARCH_ROWS = 10
# Rows of the file shown on the review page, so that the user sees the names read right.
PREVIEW_ROWS = 5
PREVIEW_COLUMNS = 16

XLSX, XLS, TEXT = "xlsx", "xls", "text"
EXTENSIONS = (".xlsx", ".xls", ".csv", ".txt")
# A column the user chose to leave out (ImportColumnChoice.key).
IGNORE = ""


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (not a table, too large, undecodable …)."""


@dataclass(frozen=True)
class FileInfo:
    """What the file turned out to be; the review page shows it."""

    format: str
    encoding: str = ""  # text: the codec read with
    detected: bool = True  # text: the encoding was detected, not chosen by the user
    delimiter: str = ""
    sheet: str = ""

    @property
    def label(self) -> str:
        if self.format == XLSX:
            return "Excel 工作簿（.xlsx）"
        if self.format == XLS:
            return "旧版 Excel 工作簿（.xls）"
        return f"文本表格（{textfile.DELIMITERS.get(self.delimiter, '逗号')}分隔）"

    @property
    def encoding_label(self) -> str:
        return textfile.encoding_label(self.encoding) if self.encoding else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "detected": self.detected,
            "delimiter": self.delimiter,
            "sheet": self.sheet,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FileInfo:
        return cls(**data)


@dataclass
class Sheet:
    """The data rows of the file: (line number, the cells in COLUMNS order).

    ``headers``: the header row as (text, column key or "", how: "auto", "chosen" or "");
    ``absent``: keys of columns the file lacks (their cells read as ""); ``blank``: keys of
    whole-file columns that are present but empty in every row.
    """

    kind: str
    columns: dict[str, int]
    rows: list[tuple[int, tuple[Any, ...]]]
    notes: list[str] = field(default_factory=list)
    headers: list[tuple[str, str, str]] = field(default_factory=list)
    absent: set[str] = field(default_factory=set)
    blank: set[str] = field(default_factory=set)
    file: FileInfo = field(default_factory=lambda: FileInfo(XLSX))
    preview: list[list[str]] = field(default_factory=list)


# ---------------------------------------------------------------- what the file is

_HTML = (b"<!doctype", b"<html", b"<table", b"<?xml", b"<head", b"<body", b"<meta")
_NOT_TABLES = {
    b"%PDF": "PDF 文档",
    b"GIF8": "图片",
    b"\x89PNG": "图片",
    b"\xff\xd8\xff": "图片",
    b"BM": "图片",
    b"MZ": "程序",
    b"\x7fELF": "程序",
    b"Rar!": "压缩包",
    b"7z\xbc\xaf": "压缩包",
    b"\x1f\x8b": "压缩包",
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff_format(path: Path) -> str:
    """XLSX, XLS or TEXT, from the content; ImportFileError for anything else, saying what."""
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith(b"PK\x03\x04"):
        names = _checked(lambda: sheets.check_zip(path, max_unpacked=settings.IMPORT_MAX_UNPACKED_BYTES))
        if "xl/workbook.xml" not in names:
            raise ImportFileError("文件内容不是 Excel 工作簿（可能是 Word 等其他文件改了扩展名）")
        return XLSX
    if head.startswith(_OLE):
        if _contains(path, "EncryptedPackage".encode("utf-16-le")):
            raise ImportFileError("Excel 文件设置了密码：请在 Excel 中取消密码后另存，再上传")
        return XLS
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith(_HTML):
        raise ImportFileError(
            "该文件实际是网页（HTML）格式，只是扩展名为 Excel（有些系统导出的“Excel”是这样）："
            "请用 Excel 打开后“另存为”Excel 工作簿（.xlsx）再上传"
        )
    for magic, what in _NOT_TABLES.items():
        if head.startswith(magic):
            raise ImportFileError(f"文件内容是{what}，不是 Excel 工作簿或 CSV 表格，无法导入")
    return TEXT


def _contains(path: Path, needle: bytes) -> bool:
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def _checked(call: Callable[[], Any]) -> Any:
    """``call``, with the lib's refusals turned into ImportFileError."""
    try:
        return call()
    except (sheets.UnreadableSheet, textfile.UndecodableText) as exc:
        raise ImportFileError(exc.message) from exc


# ---------------------------------------------------------------- the rows


def _open_rows(path: Path, fmt: str, encoding: str) -> tuple[FileInfo, Iterator[tuple[int, list[Any]]]]:
    if fmt in (XLSX, XLS):
        rows = sheets.iter_sheet_rows(
            path,
            max_cells=settings.IMPORT_MAX_CELLS,
            memory_bytes=settings.IMPORT_READER_MEMORY_BYTES,
            cpu_seconds=settings.IMPORT_READER_CPU_SECONDS,
        )
        _, (name,) = _checked(lambda: next(rows))
        return FileInfo(fmt, sheet=str(name)), rows
    if encoding:
        _checked(lambda: textfile.check_decodes(path, encoding))
        codec = encoding
    else:
        codec = _checked(lambda: textfile.detect_encoding(path))
    delimiter = textfile.sniff_delimiter(textfile.first_lines(path, codec, HEADER_SEARCH_ROWS))
    info = FileInfo(TEXT, encoding=codec, detected=not encoding, delimiter=delimiter)
    return info, textfile.iter_rows(path, encoding=codec, delimiter=delimiter, max_columns=MAX_COLUMNS)


def _resolve_headers(
    row: list[Any], kind: str, choices: Mapping[str, str]
) -> tuple[dict[str, int], list[tuple[str, str, str]], list[str]]:
    """The file's columns by key, the header row as shown, and notes (repeated columns)."""
    known = header_keys(kind)
    found: dict[str, int] = {}
    headers: list[tuple[str, str, str]] = []
    repeated: list[str] = []
    for i, cell in enumerate(row):
        label = text(cell)
        if not label:
            continue
        name = normalise_header(label)
        if name in choices:
            key, how = choices[name], "chosen"
        else:
            key, how = known.get(name, IGNORE), "auto" if name in known else ""
        if key and key in found:
            repeated.append(label)
            key, how = IGNORE, ""
        if key:
            found[key] = i
        headers.append((label, key, how))
    notes = [f"文件中有重复的列，已只取第一列：{'、'.join(repeated)}"] if repeated else []
    return found, headers, notes


def _header_score(row: list[Any], kind: str, choices: Mapping[str, str]) -> int:
    known = header_keys(kind)
    return sum(1 for cell in row if (name := normalise_header(text(cell))) and (name in known or choices.get(name)))


def read_sheet(
    path: Path,
    kind: str,
    *,
    encoding: str = "",
    choices: Mapping[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Sheet:
    """Read the file and find its header row: the one among the first HEADER_SEARCH_ROWS
    lines that names the most columns (by header, synonym or the user's ``choices``,
    {normalised header: column key or IGNORE}).

    ``encoding``: a text file's codec as the user chose it ("" detects it). ``progress``
    is called with the number of rows read so far, every 10,000 rows. Line numbers are
    the ones the user sees in Excel: the first row is line 1.
    """
    choices = choices or {}
    fmt = _checked(lambda: sniff_format(path))
    info, rows = _open_rows(path, fmt, encoding)
    try:
        return _read_rows(rows, kind, info, choices, progress)
    except (sheets.UnreadableSheet, textfile.UndecodableText) as exc:
        raise ImportFileError(exc.message) from exc
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()  # stops the child process of a workbook refused part-way


def _read_rows(
    rows: Iterator[tuple[int, list[Any]]],
    kind: str,
    info: FileInfo,
    choices: Mapping[str, str],
    progress: Callable[[int], None] | None,
) -> Sheet:
    top: list[tuple[int, list[Any]]] = []
    rest: Iterable[tuple[int, list[Any]]] = rows
    for line, cells in rows:
        if line > HEADER_SEARCH_ROWS:
            rest = _chain_one((line, cells), rows)
            break
        top.append((line, cells))
    if not top and rest is rows:
        raise ImportFileError("工作表是空的：请在第一个工作表中填写表头和数据（可下载导入模板）")
    scores = [_header_score(cells, kind, choices) for _, cells in top]
    if not scores or max(scores) == 0:
        expected = "、".join(c.header for c in COLUMNS[kind][:4])
        raise ImportFileError(f"找不到表头行：第一行应为列名（如 {expected}…），请使用导入模板")
    best = scores.index(max(scores))
    header_row = top[best][1]
    found, headers, notes = _resolve_headers(header_row, kind, choices)
    columns = COLUMNS[kind]
    absent = {c.key for c in columns if c.key not in found}
    ignored = [label for label, key, _ in headers if not key]
    if ignored:
        notes.append(f"未使用的列：{'、'.join(ignored)}")
    # A missing column reads as "" in every row: its index is one past the last column used,
    # where every row is padded with "".
    missing_index = max(found.values()) + 1
    pick = itemgetter(*(found.get(c.key, missing_index) for c in columns))
    pad = [""] * (missing_index + 1)
    # Whole-file columns present in the file: which of them hold a value in some row.
    watched = {key: found[key] for key in whole_file_keys(kind) if key in found}
    filled: set[str] = set()
    preview = [[text(c)[:30] for c in header_row[:PREVIEW_COLUMNS]]]
    picked: list[tuple[int, tuple[Any, ...]]] = []
    count = 0
    for line, cells in _chain(top[best + 1 :], rest):
        count += 1
        if progress is not None and count % 10_000 == 0:
            progress(count)
        if len(cells) <= missing_index:
            cells.extend(pad[: missing_index + 1 - len(cells)])
        values = pick(cells)
        if text(values[0]).startswith(EXAMPLE_MARK):
            notes.append(f"第 {line} 行是模板中的示例行，已忽略")
            continue
        if len(preview) <= PREVIEW_ROWS:
            preview.append([text(c)[:30] for c in cells[: min(PREVIEW_COLUMNS, len(header_row))]])
        if len(watched) != len(filled):
            filled.update(key for key, i in watched.items() if key not in filled and text(cells[i]))
        picked.append((line, values))
        if len(picked) > MAX_ROWS:
            raise ImportFileError(f"单次最多导入 {MAX_ROWS:,} 行，本文件超过了这个数，请拆分后分批导入")
    if not picked:
        raise ImportFileError("表格中没有数据行（只有表头）")
    return Sheet(
        kind=kind,
        columns=found,
        rows=picked,
        notes=notes,
        headers=headers,
        absent=absent,
        blank=set(watched) - filled,
        file=info,
        preview=preview,
    )


def _chain_one(first: tuple[int, list[Any]], rest: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    yield first
    yield from rest


def _chain(*parts: Iterable[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    for part in parts:
        yield from part


def customer_ref_missing(sheet: Sheet) -> bool:
    """A deal file names its customers by number or mobile: neither column is there."""
    return sheet.kind == DEALS and {"number", "mobile"} <= sheet.absent
