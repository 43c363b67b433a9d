"""Building and reading small Excel files in tests."""

from __future__ import annotations

import io
from collections.abc import Sequence
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
