"""Pure helpers shared by the adapters: callback bodies, gateway times, mobile forms, tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from crm.lib.dates import CHINA_TZ
from crm.lib.mobile import InvalidMobile, normalize_mobile

from .base import CallbackError, ErrorRule, Outcome

# Both gateways report wall-clock times in China Standard Time, whatever TIME_ZONE says.
__all__ = ["CHINA_TZ"]


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CallbackError(f"回调内容不是有效的 JSON：{exc}") from exc


def json_items(body: bytes) -> list[dict[str, Any]]:
    """A JSON array of objects, or a single object (Tencent's reply sample is one object)."""
    data = load_json(body)
    items = data if isinstance(data, list) else [data]
    if not all(isinstance(item, dict) for item in items):
        raise CallbackError("回调内容应为 JSON 对象或对象数组")
    return items


def text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def parse_china_time(value: str) -> datetime | None:
    """ "yyyy-MM-dd HH:mm:ss" in China time → aware datetime; None when empty or malformed."""
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)
    except ValueError:
        return None


def parse_unix_time(value: Any) -> datetime | None:
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, tz=UTC).astimezone(CHINA_TZ)


def canonical_mobile(raw: str, country_code: str = "") -> str:
    """The stored form of a number a gateway reports: "13812345678" or E.164.

    ``country_code`` is Tencent's separate nationcode. A number that does not normalise is kept
    as reported (digits only), so a receipt is never dropped for its number's sake.
    """
    number = raw.strip()
    code = country_code.strip().lstrip("+")
    if code and code != "86" and not number.startswith("+"):
        number = f"+{code}{number}"
    candidates = [number]
    if number.isdigit() and not (len(number) == 11 and number.startswith("1")):
        candidates.append(f"+{number}")  # Aliyun reports foreign numbers without the "+"
    for candidate in candidates:
        try:
            return normalize_mobile(candidate)
        except InvalidMobile:
            continue
    return number


def is_mainland(mobile: str) -> bool:
    return not mobile.startswith("+")


def classify(code: str, table: dict[str, ErrorRule], prefixes: tuple[tuple[str, ErrorRule], ...]) -> ErrorRule:
    """Look a gateway code up in its table, then by prefix; unknown codes fail the message.

    Unknown codes are FAILED rather than PAUSE: one unexpected answer should not stop every
    customer's messages, and a FAILED row with its code is visible in the outbox.
    """
    rule = table.get(code)
    if rule is not None:
        return rule
    for prefix, prefix_rule in prefixes:
        if code.startswith(prefix):
            return prefix_rule
    return ErrorRule(Outcome.FAILED, f"网关返回未知错误码 {code}，未重试，请联系管理员核实")
