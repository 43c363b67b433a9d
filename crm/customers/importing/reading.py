"""Reading an import file (file → Sheet): is it a workbook, its first worksheet, the header row.

The checks that refuse a whole file raise ImportFileError with a Chinese message; rows are
returned as read, each with its Excel line number, for crm.customers.importing.validating.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.conf import settings
from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from crm.core.errors import DomainError
from crm.customers.importing.columns import COLUMNS, DEALS, EXAMPLE_MARK
from crm.customers.importing.parsing import text

MAX_ROWS = 200_000
# How far below the first line a header row is looked for (an export has a title line above it).
HEADER_SEARCH_ROWS = 10
# A .xlsx is a zip; refuse one that would unpack to more than this many times the upload limit.
MAX_UNZIP_RATIO = 50


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (not Excel, too large, no header …)."""


def check_workbook_file(path: Path) -> None:
    """Refuse (ImportFileError) a file that is not an .xlsx workbook, saying what it is instead."""
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("该文件是旧版 .xls 或已加密的 Excel 文件：请取消密码并“另存为”.xlsx 后再上传")
    if not head.startswith(b"PK\x03\x04"):
        if _looks_like_text(head):
            raise ImportFileError(
                "该文件实际是 CSV/文本文件（只是扩展名改成了 .xlsx）：请用 Excel 打开后“另存为”Excel 工作簿（.xlsx）再上传"
            )
        raise ImportFileError("文件内容不是 Excel 工作簿（.xlsx），可能已损坏或格式不对")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ImportFileError("Excel 文件已损坏，无法打开") from exc
    if "xl/workbook.xml" not in names:
        raise ImportFileError("文件内容不是 Excel 工作簿（可能是 Word 等其他文件改了扩展名）")
    if unpacked > settings.IMPORT_MAX_BYTES * MAX_UNZIP_RATIO:
        raise ImportFileError("Excel 文件解压后过大，请删除多余的工作表或格式后再上传")


def _looks_like_text(head: bytes) -> bool:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            # Incremental: the head may end in the middle of a multi-byte character.
            text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return all(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return False


@dataclass
class Sheet:
    """The data rows of the first worksheet: (Excel line number, the cells in COLUMNS order).

    A column missing from the file reads as "" in every row.
    """

    kind: str
    columns: dict[str, int]
    rows: list[tuple[int, tuple[Any, ...]]]
    notes: list[str] = field(default_factory=list)


def _normalise_header(value: Any) -> str:
    header = re.sub(r"[（(][^）)]*[）)]", "", text(value))
    return re.sub(r"[\s*＊]", "", header)


def read_sheet(path: Path, kind: str) -> Sheet:
    """Read the first worksheet with python-calamine and find the header row.

    Line numbers are the ones the user sees in Excel: the first row is line 1.
    """
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several error types for broken files
        raise ImportFileError("无法读取该 Excel 文件，文件可能已损坏或已加密") from exc
    with workbook:
        index = next(
            (
                i
                for i, meta in enumerate(workbook.sheets_metadata)
                if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible
            ),
            None,
        )
        if index is None:
            raise ImportFileError("文件中没有工作表")
        try:
            cells = workbook.get_sheet_by_index(index).to_python(skip_empty_area=False)
        except Exception as exc:
            raise ImportFileError("无法读取该 Excel 文件，文件可能已损坏") from exc
    if not any(_has_value(row) for row in cells):
        raise ImportFileError("工作表是空的：请在第一个工作表中填写表头和数据（可下载导入模板）")
    return _parse_cells(cells, kind)


def _has_value(row: Sequence[Any]) -> bool:
    return any(cell is not None and (not isinstance(cell, str) or cell.strip()) for cell in row)


def _parse_cells(cells: list[list[Any]], kind: str) -> Sheet:
    columns = COLUMNS[kind]
    canonical: dict[str, str] = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            canonical[name] = column.key
    header_index = None
    for i, row in enumerate(cells[:HEADER_SEARCH_ROWS]):
        if any(_normalise_header(cell) in canonical for cell in row):
            header_index = i
            break
    if header_index is None:
        expected = "、".join(c.header for c in columns[:4])
        raise ImportFileError(f"找不到表头行：第一行应为列名（如 {expected}…），请使用导入模板")
    found: dict[str, int] = {}
    ignored: list[str] = []
    for i, cell in enumerate(cells[header_index]):
        name = _normalise_header(cell)
        if not name:
            continue
        key = canonical.get(name)
        if key is None:
            ignored.append(text(cell))
        elif key not in found:
            found[key] = i
    missing = [c.header for c in columns if c.required and c.key not in found]
    if kind == DEALS and "number" not in found and "mobile" not in found:
        missing.insert(0, "客户编号或手机号（至少一列）")
    if missing:
        raise ImportFileError(f"表头缺少必填列：{'、'.join(missing)}（请使用导入模板）")
    notes = [f"已忽略无法识别的列：{'、'.join(ignored)}"] if ignored else []
    # calamine pads every row to the sheet's width; one more "" stands in for missing columns.
    width = max(len(row) for row in cells)
    pick = itemgetter(*(found.get(c.key, width) for c in columns))
    rows: list[tuple[int, tuple[Any, ...]]] = []
    for i in range(header_index + 1, len(cells)):
        row = cells[i]
        if not _has_value(row):
            continue
        row.extend([""] * (width + 1 - len(row)))
        values = pick(row)
        if text(values[0]).startswith(EXAMPLE_MARK):
            notes.append(f"第 {i + 1} 行是模板中的示例行，已忽略")
            continue
        rows.append((i + 1, values))
    if not rows:
        raise ImportFileError("表格中没有数据行（只有表头）")
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"单次最多导入 {MAX_ROWS:,} 行，本文件有 {len(rows):,} 行，请拆分后分批导入")
    return Sheet(kind=kind, columns=found, rows=rows, notes=notes)
