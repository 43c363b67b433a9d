"""Rendering care-message templates: named placeholders such as {公司} and {楼盘}."""

from __future__ import annotations

import re
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


def template_params(template: str, values: Mapping[str, object]) -> dict[str, str]:
    """The gateway template's variables, in the order they appear in the template."""
    return {
        name: str(values[name]) for name in dict.fromkeys(placeholders(template)) if values.get(name) not in (None, "")
    }
