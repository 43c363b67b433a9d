"""Rendering care-message templates: named placeholders such as {公司} and {楼盘}.

Pure. Two rules keep a customer from ever reading a wrong text:
1. Every placeholder is checked before a message is planned (``missing``): one without a
   value holds the message with the reason (crm.care.holds), never sends “{物业电话}”.
2. Values that customers supplied (their names, their family's) are cleaned
   (``customer_value``) of 【】 (the gateways' signature brackets: a name can fake a sender),
   links and control characters, and capped in length, before they enter a message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from crm.care.rules import OPT_OUT_LINE, Purpose
from crm.core.errors import DomainError

PLACEHOLDER = re.compile(r"\{([^{}\s]{1,10})\}")

# Placeholders staff may use, with what each means (shown in the rule editor).
KNOWN: dict[str, str] = {
    "公司": "公司短信签名",
    "楼盘": "楼盘名称",
    "客户": "客户姓名",
    "家人": "家庭成员姓名",
    "签约日期": "应签约日期",
    "进度": "工程进度（审批前填写）",
    "户型": "户型",
    "面积": "面积（平米）",
    "日期": "日期",
    "活动": "活动名称",
    "时间": "活动时间",
    "原因": "天气原因",
    "客服电话": "客户关系中心电话",
    "物业电话": "物业管理中心电话",
    "年数": "购房年数",
    # Complaint notices (filled by crm.complaints through crm.care.services.queue_notice).
    "投诉人": "投诉人称呼",
    "投诉编号": "投诉编号",
    "处理期限": "投诉处理期限",
    "进展": "投诉处理进展（责任人填写）",
    "回复": "投诉回复内容",
    "评价链接": "满意度评价链接",
    "有效天数": "评价链接有效天数",
}


def placeholders(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)


def check_template(template: str) -> None:
    unknown = sorted({name for name in placeholders(template) if name not in KNOWN})
    if unknown:
        raise DomainError(f"模板中有无法识别的占位符：{'、'.join('{' + n + '}' for n in unknown)}", field="template")
    if "【" in template or "】" in template:
        raise DomainError("模板中不能包含【】（网关会自动添加签名）", field="template")


def render(template: str, values: Mapping[str, object], *, purpose: str, strict: bool = True) -> str:
    """Fill the placeholders; care and marketing texts end with the opt-out line (广告法 §43).

    ``strict`` refuses a placeholder without a value (a message never goes out with “{进度}”).
    """

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        if value is None or value == "":
            if strict:
                raise DomainError(f"占位符 {{{name}}} 没有取值", field="text")
            return match.group(0)
        return str(value)

    text = PLACEHOLDER.sub(fill, template).strip()
    if purpose in (Purpose.CARE, Purpose.MARKETING) and OPT_OUT_LINE not in text:
        text = f"{text}{OPT_OUT_LINE}"
    return text


def missing_values(text: str) -> list[str]:
    return placeholders(text)


def missing(template: str, values: Mapping[str, object]) -> list[str]:
    """The template's placeholders without a value, each once, in order."""
    return [name for name in dict.fromkeys(placeholders(template)) if values.get(name) in (None, "")]


NAME_LIMIT = 12  # characters of a customer-supplied name in a message (Chinese names are 2–4)

# Brackets that frame a sender's signature (【】, and their look-alikes) and the braces of a
# placeholder: none of them belongs in a name.
_BRACKETS = dict.fromkeys(map(ord, "【】〖〗〘〙〚〛[]{}"))
# Links, with or without a scheme: http://x.cn, www.x.cn, x.cn/abc (after NFKC, so
# full-width ｈｔｔｐ：／／ is caught too).
_LINK = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)[!-~]*|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:[/:?#][!-~]*)?",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


def customer_value(value: object, *, limit: int = NAME_LIMIT) -> str:
    """A value a customer supplied, fit to enter a message: NFKC-normalised; links, 【】
    and other brackets, control and format characters (zero-width, bidi overrides, line
    breaks) removed; spaces collapsed; at most ``limit`` characters. May be empty: the
    message is then held, not sent with a blank."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = "".join(" " if ch.isspace() else ch for ch in text if unicodedata.category(ch)[0] != "C" or ch.isspace())
    text = _LINK.sub(" ", text).translate(_BRACKETS)
    return _SPACES.sub(" ", text).strip()[:limit].strip()


# Chinese punctuation that NFKC turns into ASCII, given back to a sentence staff typed.
_CHINESE_PUNCTUATION = str.maketrans({",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"})


def note_value(value: object, *, limit: int) -> str:
    """A sentence staff typed for the customer (a complaint's progress, its result),
    cleaned like ``customer_value`` but keeping its Chinese punctuation."""
    return customer_value(value, limit=limit).translate(_CHINESE_PUNCTUATION)


def template_params(template: str, values: Mapping[str, object]) -> dict[str, str]:
    """The gateway template's variables, in the order they appear in the template."""
    return {
        name: str(values[name]) for name in dict.fromkeys(placeholders(template)) if values.get(name) not in (None, "")
    }
