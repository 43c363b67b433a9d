"""Reading one cell's value: text, dates, yes/no, prices and choices, as Excel users write them.

Pure (no database). The ``parse_*`` functions raise ValueError; the ``*_outcome``
functions give (value, Chinese problem or "") for the row checks in
crm.customers.importing.validating, and PerValue remembers an outcome per distinct cell.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from crm.core.xlsx import TRIGGERS
from crm.customers.models import Channel, Gender, Grade, MoveInKind, Stage
from crm.lib.mobile import InvalidMobile, normalize_mobile


def text(value: Any) -> str:
    """A cell as trimmed text; integral numbers without ".0" (Excel stores them as floats)."""
    if value.__class__ is str:  # most cells: checked first, this runs a million times per import
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def plain_text(value: Any) -> str:
    """``text``, without the quote our exports put before text a spreadsheet would evaluate
    (crm.core.xlsx.neutralise): an exported file imports back as it was."""
    result = text(value)
    if result[:1] == "'" and result[1:2] in TRIGGERS:
        return result[1:]
    return result


class InvalidDate(ValueError):
    """Written as a date, but no such day exists (1988-02-30, 2026-13-01) or out of range."""


_DATE_FORMATS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})[日号]?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def parse_date(value: Any) -> date | None:
    """An Excel date, or text like 2026-03-05, 2026/3/5, 2026年3月5日, 20260305.

    InvalidDate for a day that does not exist or a year outside 1900-2100; ValueError for
    text that is not written as a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    if not raw:
        return None
    for pattern in _DATE_FORMATS:
        match = pattern.fullmatch(raw)
        if match:
            year, month, day = (int(g) for g in match.groups())
            if not 1900 <= year <= 2100:
                raise InvalidDate(raw)
            try:
                return date(year, month, day)
            except ValueError:
                raise InvalidDate(raw) from None
    raise ValueError(raw)


def _choice_map(choices: Iterable[tuple[Any, Any]], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value, label in choices:
        mapping[str(value).lower()] = value
        mapping[str(label).lower()] = value
    for key, value in (extra or {}).items():
        mapping[key.lower()] = value
    return mapping


STAGES = _choice_map(
    Stage.choices, {"潜在": Stage.PROSPECT, "意向": Stage.INTERESTED, "成交": Stage.OWNER, "业主": Stage.OWNER}
)
GRADES = _choice_map(Grade.choices, {"a类": Grade.A, "b类": Grade.B, "c类": Grade.C})
CHANNELS = _choice_map(Channel.choices, {"电话": Channel.PHONE, "公众号": Channel.WECHAT, "微信": Channel.WECHAT})
GENDERS = _choice_map(Gender.choices, {"男性": Gender.MALE, "女性": Gender.FEMALE})
MOVE_IN_KINDS = _choice_map(MoveInKind.choices, {"集中": MoveInKind.BATCH, "零星": MoveInKind.INDIVIDUAL})
BOOLEANS = {
    **dict.fromkeys(("是", "y", "yes", "true", "1", "√", "✓", "同意", "vip"), True),
    **dict.fromkeys(("否", "n", "no", "false", "0", "×", "不同意"), False),
}


def parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    raw = text(value)
    if not raw:
        return None
    found = BOOLEANS.get(raw.lower())
    if found is None:
        raise ValueError(raw)
    return found


def parse_price(value: Any) -> Decimal | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        raw = text(value).replace(",", "").replace("，", "").replace("元", "").replace("¥", "").replace("￥", "")
        if not raw:
            return None
        factor = Decimal(1)
        if raw.endswith("万"):
            raw, factor = raw[:-1], Decimal(10000)
        try:
            amount = Decimal(raw) * factor
        except InvalidOperation as exc:
            raise ValueError(raw) from exc
    if not amount.is_finite() or amount <= 0 or amount >= Decimal(10) ** 12:
        raise ValueError(str(value))
    return amount.quantize(Decimal("0.01"))


# ---------------------------------------------------------------- outcomes

Outcome = tuple[Any, str]  # (the value, the Chinese problem with the cell or "")


class PerValue:
    """A cell's outcome, (value, Chinese problem or ""), worked out once per distinct value:
    a file of 100,000 rows holds a handful of genders, stages, channels, projects, owners."""

    def __init__(self, outcome: Callable[[Any], Outcome]) -> None:
        self.outcome = outcome
        self.known: dict[tuple[type, Any], Outcome] = {}

    def __call__(self, raw: Any) -> Outcome:
        key = (raw.__class__, raw)  # the class too: True == 1 == 1.0, but they read differently
        try:
            return self.known[key]
        except KeyError:
            found = self.known[key] = self.outcome(raw)
            return found
        except TypeError:  # unhashable
            return self.outcome(raw)


def text_outcome(raw: Any) -> Outcome:
    return plain_text(raw), ""


def choice_outcome(raw: Any, mapping: Mapping[str, str], default: str, allowed: str) -> tuple[str, str]:
    """The choice a cell names (by value, label or an alias in ``mapping``); ``default`` when empty."""
    if raw == "" or raw is None:
        return default, ""
    value = text(raw)
    if not value:
        return default, ""
    found = mapping.get(value.lower())
    if found is None:
        return default, f"无法识别：{value}（可填：{allowed}）"
    return found, ""


def bool_outcome(raw: Any) -> tuple[bool, str]:
    """True/False for 是/否 and the like; False for an empty cell."""
    if raw == "" or raw is None:
        return False, ""
    try:
        return bool(parse_bool(raw)), ""
    except ValueError:
        return False, f"无法识别：{text(raw)}（请填“是”或“否”）"


def mobile_outcome(raw: Any) -> tuple[str, str]:
    """The normalised mobile; "" and normalize_mobile's reason when it is not one (or empty)."""
    try:
        return normalize_mobile(raw), ""
    except InvalidMobile as exc:
        return "", exc.message


def optional_mobile_outcome(raw: Any) -> tuple[str, str]:
    """As mobile_outcome, but "" for an empty cell."""
    if raw == "" or not text(raw):
        return "", ""
    return mobile_outcome(raw)


def date_outcome(raw: Any, *, examples: str) -> tuple[date | None, str]:
    """The date (parse_date), None for an empty cell; the problem gives ``examples`` of the formats."""
    if raw == "":
        return None, ""
    try:
        return parse_date(raw), ""
    except InvalidDate:
        return None, f"{text(raw)} 不是有效日期"
    except ValueError:
        return None, f"日期格式不正确：{text(raw)}（应为 {examples}）"
