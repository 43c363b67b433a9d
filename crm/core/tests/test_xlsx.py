"""The shared .xlsx writer: no cell a user receives can be a formula."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from crm.core.xlsx import Style, Workbook, neutralise

CRM = Path(__file__).resolve().parents[2]


def written(*rows, style=Style.PLAIN):
    workbook = Workbook()
    sheet = workbook.add_sheet("表")
    for row in rows:
        sheet.append(row, style=style)
    return workbook.save().read()


def cells(content):
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [[(c.value, c.data_type, bool(c.quotePrefix)) for c in row] for row in sheet.iter_rows()]


def sheet_xml(content):
    return zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://x","y")',
        "=1+1",
        "+1+1",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "＝1+1",
    ],
)
def test_text_a_spreadsheet_would_evaluate_is_written_as_quoted_text(text):
    content = written([text], style=Style.PLAIN)
    assert "<f>" not in sheet_xml(content)
    assert cells(content) == [[(f"'{text}", "s", True)]]


@pytest.mark.parametrize("text", ["+86 138 0013 8000", "+8613800138000", "-", "-12.5", "--", "-1-2"])
def test_numbers_and_phone_numbers_written_as_text_stay_as_typed(text):
    assert cells(written([text])) == [[(text, "s", True)]]


def test_numbers_stay_numbers_and_ordinary_text_is_untouched():
    content = written([-5, Decimal("-3.50"), 1.5, "张三", "138****5678", "备注 = 无", date(2026, 3, 5)])
    (row,) = cells(content)
    assert row[:6] == [
        (-5, "n", False),
        (-3.5, "n", False),
        (1.5, "n", False),
        ("张三", "s", False),
        ("138****5678", "s", False),
        ("备注 = 无", "s", False),
    ]
    assert row[6][0].date() == date(2026, 3, 5)


def test_error_values_and_control_characters_are_kept_as_text():
    assert cells(written(["#N/A", "李\x01四"])) == [[("#N/A", "s", True), ("李四", "s", False)]]


def test_headers_notes_and_styled_rows_are_neutralised_too():
    workbook = Workbook()
    sheet = workbook.add_sheet("表")
    sheet.append_note("=1+1")
    sheet.append_header(["=A1", "姓名"], required=["姓名"])
    sheet.append(["=2+2", date(1985, 3, 5)], style=Style.EXAMPLE, date_format="yyyy-mm-dd")
    content = workbook.save().read()
    assert "<f>" not in sheet_xml(content)
    assert [[value for value, _, _ in row if value is not None] for row in cells(content)][:3] == [
        ["'=1+1"],
        ["'=A1", "姓名*"],
        ["'=2+2", openpyxl.load_workbook(io.BytesIO(content)).active["B3"].value],
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("=1", ("'=1", True)), ("+86 138", ("+86 138", True)), ("客户", ("客户", False)), ("", ("", False))],
)
def test_neutralise(text, expected):
    assert neutralise(text) == expected


def test_no_product_module_writes_workbooks_but_the_shared_writer():
    """Every workbook a user receives goes through crm.core.xlsx (reading with openpyxl in
    tests is fine)."""
    writers = []
    for path in CRM.rglob("*.py"):
        if "tests" in path.parts or path == CRM / "core" / "xlsx.py":
            continue
        if re.search(r"^\s*(from|import) openpyxl", path.read_text(encoding="utf-8"), re.MULTILINE):
            writers.append(str(path.relative_to(CRM)))
    assert writers == []
