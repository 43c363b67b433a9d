"""Checking and reading untrusted workbooks (crm.lib.sheets), without Django."""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook

from crm.lib import sheets

LIMIT = 50 * 1024 * 1024


def workbook(rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class Unseekable(io.RawIOBase):
    """A stream zipfile cannot seek back in: it writes each member's sizes after its data."""

    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.data += b
        return len(b)


def test_a_workbook_passes_and_lists_its_members(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(workbook([["姓名"], ["张三"]]))
    assert "xl/workbook.xml" in sheets.check_zip(path, max_unpacked=LIMIT)


def test_members_with_data_descriptors_are_measured_too(tmp_path):
    stream = Unseekable()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>" * 100)
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>" * 100)
    assert zipfile.ZipFile(io.BytesIO(bytes(stream.data))).infolist()[0].flag_bits & 0x8
    path = tmp_path / "a.xlsx"
    path.write_bytes(bytes(stream.data))
    assert sheets.check_zip(path, max_unpacked=LIMIT) == ["xl/workbook.xml", "xl/worksheets/sheet1.xml"]


def test_bytes_hidden_between_members_are_refused(tmp_path):
    content = workbook([["姓名"]])
    archive = zipfile.ZipFile(io.BytesIO(content))
    second = archive.infolist()[1].header_offset
    # Shift everything after the first member by 5 bytes and fix every offset.
    hostile = bytearray(content[:second] + b"<svg>" + content[second:])
    directory = hostile.rfind(b"PK\x05\x06")
    start = struct.unpack_from("<L", hostile, directory + 16)[0] + 5
    struct.pack_into("<L", hostile, directory + 16, start)
    at = start
    while hostile[at : at + 4] == b"PK\x01\x02":
        offset = struct.unpack_from("<L", hostile, at + 42)[0]
        if offset >= second:
            struct.pack_into("<L", hostile, at + 42, offset + 5)
        name, extra, comment = struct.unpack_from("<3H", hostile, at + 28)
        at += 46 + name + extra + comment
    path = tmp_path / "a.xlsx"
    path.write_bytes(bytes(hostile))
    zipfile.ZipFile(path).testzip()  # a zip reader is content with it
    with pytest.raises(sheets.UnreadableSheet) as info:
        sheets.check_zip(path, max_unpacked=LIMIT)
    assert "夹带了其他内容" in info.value.message


def test_rows_come_with_excel_line_numbers_and_typed_values(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(workbook([["标题"], [], ["姓名", "生日", "金额"], ["张三", date(1985, 3, 5), 12.5]]))
    rows = list(sheets.iter_sheet_rows(path, max_cells=1000, memory_bytes=1 << 30, cpu_seconds=30))
    assert rows[0] == (0, ["Sheet"])
    assert [line for line, _ in rows[1:]] == [1, 3, 4]
    assert rows[-1][1][0] == "张三"
    assert rows[-1][1][1] == date(1985, 3, 5)
    assert rows[-1][1][2] == 12.5


def test_a_file_calamine_cannot_read_is_refused(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(sheets.UnreadableSheet) as info:
        list(sheets.iter_sheet_rows(path, max_cells=1000, memory_bytes=1 << 30, cpu_seconds=30))
    assert "无法读取该 Excel 文件" in info.value.message


def test_the_childs_memory_limit_turns_a_huge_grid_into_an_answer(tmp_path):
    content = workbook([["姓名"]])
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    far = sheet.replace(b"</sheetData>", b'<row r="300000"><c r="ZZ300000"><v>1</v></c></row></sheetData>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in zipfile.ZipFile(io.BytesIO(content)).infolist():
            body = (
                far if info.filename == "xl/worksheets/sheet1.xml" else zipfile.ZipFile(io.BytesIO(content)).read(info)
            )
            archive.writestr(info.filename, body)
    path = tmp_path / "a.xlsx"
    path.write_bytes(out.getvalue())
    # 300,000 × 702 cells: 6.7 GB for calamine's grid, refused by a 512 MB child.
    with pytest.raises(sheets.UnreadableSheet) as info:
        list(sheets.iter_sheet_rows(path, max_cells=10**9, memory_bytes=512 << 20, cpu_seconds=30))
    assert "表格范围过大" in info.value.message
