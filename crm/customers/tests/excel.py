"""Building and reading small Excel files in tests."""

from __future__ import annotations

import codecs
import csv
import io
import struct
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook
from python_calamine import CalamineWorkbook

CUSTOMER_HEADERS = (
    "姓名",
    "手机号",
    "备用手机号",
    "性别",
    "客户阶段",
    "客户等级",
    "VIP",
    "意向楼盘",
    "来源渠道",
    "置业顾问",
    "生日",
    "标签",
    "备注",
    "同意关怀短信",
)
DEAL_HEADERS = (
    "客户编号",
    "手机号",
    "楼盘",
    "楼栋",
    "房号",
    "成交总价",
    "认购日期",
    "签约日期",
    "全款到账日期",
    "合同备案日期",
    "计划交房日期",
    "实际交房日期",
    "入住日期",
    "入住方式",
)


def customer_row(**values: Any) -> list[Any]:
    """A customer row in CUSTOMER_HEADERS order; keys are the Chinese headers."""
    base = {"姓名": "李四", "意向楼盘": "锦华苑", "来源渠道": "来电"}
    base.update(values)
    unknown = set(base) - set(CUSTOMER_HEADERS)
    assert not unknown, unknown
    return [base.get(h) for h in CUSTOMER_HEADERS]


def deal_row(**values: Any) -> list[Any]:
    base = {"楼盘": "锦华苑", "楼栋": "1号楼"}
    base.update(values)
    unknown = set(base) - set(DEAL_HEADERS)
    assert not unknown, unknown
    return [base.get(h) for h in DEAL_HEADERS]


def build_xlsx(
    rows: Sequence[Sequence[Any]],
    headers: Sequence[Any] | None = CUSTOMER_HEADERS,
    *,
    above: Sequence[Sequence[Any]] = (),
) -> bytes:
    """An .xlsx whose first sheet holds ``above`` lines, the header row, then ``rows``."""
    workbook = Workbook()
    sheet = workbook.active
    for line in above:
        sheet.append(list(line))
    if headers is not None:
        sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read_xlsx(content: bytes, sheet: int = 0) -> list[list[Any]]:
    return (
        CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(sheet).to_python(skip_empty_area=False)
    )


def sheet_names(content: bytes) -> list[str]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).sheet_names


def response_bytes(response: Any) -> bytes:
    """The body of a (file) response. Reading a streamed one to the end closes it (the test
    client's wrapper does, as a WSGI server would), which deletes the temporary file."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def build_csv(
    rows: Sequence[Sequence[Any]],
    headers: Sequence[Any] | None = CUSTOMER_HEADERS,
    *,
    encoding: str = "gb18030",
    delimiter: str = ",",
    bom: bool = False,
) -> bytes:
    """A CSV file as Excel or another system writes it: CRLF lines, quotes where needed."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    if headers is not None:
        writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    data = out.getvalue().encode(encoding)
    return (codecs.BOM_UTF8 if bom else b"") + data


def build_unicode_text(rows: Sequence[Sequence[Any]], headers: Sequence[Any] | None = CUSTOMER_HEADERS) -> bytes:
    """Excel's "Unicode 文本 (*.txt)": UTF-16 little-endian with a byte-order mark, tab-separated."""
    return build_csv(rows, headers, encoding="utf-16", delimiter="\t")


def build_xls(rows: Sequence[Sequence[Any]], headers: Sequence[Any] | None = CUSTOMER_HEADERS) -> bytes:
    """A legacy .xls (BIFF8) workbook, written with xlwt (a test-only dependency)."""
    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("客户")
    dates = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for r, row in enumerate([*([headers] if headers is not None else []), *rows]):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, date):
                sheet.write(r, c, value, dates)
            else:
                sheet.write(r, c, value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rewrite_xlsx(content: bytes, member: str, body: bytes | Iterable[bytes]) -> bytes:
    """``content`` with one member replaced (streamed in, when ``body`` is an iterable of chunks)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            if info.filename != member:
                archive.writestr(info.filename, source.read(info))
                continue
            with archive.open(member, "w") as target:
                for chunk in [body] if isinstance(body, bytes) else body:
                    target.write(chunk)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"


def build_zip_bomb(megabytes: int) -> bytes:
    """A workbook whose sheet XML inflates to ``megabytes`` MB of rows (about 3 KB per MB
    compressed): built by streaming, so the test holds one MB at a time."""
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>'
    chunk = row * (1024 * 1024 // len(row))
    head = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    tail = b"</sheetData></worksheet>"
    return rewrite_xlsx(build_xlsx([customer_row()]), SHEET, [head, *([chunk] * megabytes), tail])


def understate_sizes(content: bytes, member: str, declared: int) -> bytes:
    """The archive with ``member`` claiming to unpack to ``declared`` bytes (in its local
    header and the central directory), as a crafted zip bomb does."""
    data = bytearray(content)
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(member)
    struct.pack_into("<L", data, info.header_offset + 22, declared)
    # This member's central directory entry, found by its name.
    name = member.encode()
    at = 0
    while True:
        at = bytes(data).find(b"PK\x01\x02", at)
        assert at >= 0, member
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_len]) == name:
            struct.pack_into("<L", data, at + 24, declared)
            break
        at += 4
    return bytes(data)
