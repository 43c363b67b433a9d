"""The text of an outbox row, and what holds a message back (暂缓发送).

Every placeholder is checked before a message is planned. One without a value (the
project's 客服电话 or 物业电话 not set, a family member's name that was nothing but a link)
holds the message: its outbox row is created with status "held" and, in ``error``, a
Chinese sentence saying what is missing and where to fill it in. A held message never goes
out by itself; once the gap is filled, staff resend it (补发), which renders it again
(``render_message``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from crm.care import templating
from crm.care.models import CareRule, OutboundMessage
from crm.customers.models import Deal
from crm.customers.services import default_signing_deadline
from crm.projects.models import Project

# Placeholders filled from the project's settings: (Project field, its label on the page).
PROJECT_SETTINGS: dict[str, tuple[str, str]] = {
    "客服电话": ("service_phone", "客服电话"),
    "物业电话": ("property_phone", "物业电话"),
}

# What to fix, per placeholder filled from data (the rest: "fill in {name}").
_FIX: dict[str, str] = {
    "公司": "公司未设置短信签名，请在系统设置中填写后补发",
    "客户": "客户姓名为空或只含链接、【】等不能发送的字符，请在客户资料中修改后补发",
    "家人": "家庭成员姓名为空或只含链接、【】等不能发送的字符，请在客户资料中修改后补发",
    "户型": "房源未填写户型，请在房源资料中填写后补发",
    "签约日期": "成交未记录签约截止日（该年的工作日历可能尚未录入），请录入工作日历或在成交中填写签约截止日后补发",
    "年数": "成交缺少签约日期，无法计算购房年数，请在成交中补充后补发",
}


def base_values(project: Project) -> dict[str, object]:
    """The values every message of ``project`` may use. A blank phone stays blank: the
    message that needs it is held, never sent with a gap."""
    return {
        "公司": project.company.sms_signature or project.company.name,
        "楼盘": project.name,
        "客服电话": project.service_phone.strip(),
        "物业电话": project.property_phone.strip(),
    }


@dataclass(frozen=True)
class Rendering:
    text: str  # placeholders without a value stay visible; such a text is never sent
    params: dict[str, str]  # the gateway template's variables
    hold_reason: str  # "" when every placeholder has a value

    @property
    def is_held(self) -> bool:
        return bool(self.hold_reason)


def hold_reason(missing: Sequence[str], project: Project) -> str:
    """What holds a message whose ``missing`` placeholders have no value, and what to fix
    (the staff's screens show it as it is)."""
    reasons = []
    settings = [PROJECT_SETTINGS[name][1] for name in missing if name in PROJECT_SETTINGS]
    if settings:
        reasons.append(f"楼盘「{project.name}」未设置{'、'.join(settings)}，请在楼盘设置中填写后补发")
    for name in missing:
        if name in PROJECT_SETTINGS:
            continue
        meaning = templating.KNOWN.get(name, name)
        reasons.append(_FIX.get(name, f"短信中的“{meaning}”没有内容，请补充后补发"))
    return "；".join(reasons)[:300]


def render(rule: CareRule, values: Mapping[str, object]) -> Rendering:
    """``rule``'s text with ``values`` (the project's base values included), checked."""
    missing = templating.missing(rule.template, values)
    return Rendering(
        text=templating.render(rule.template, values, purpose=rule.purpose, strict=False),
        params=templating.template_params(rule.template, values),
        hold_reason=hold_reason(missing, rule.project) if missing else "",
    )


def render_message(message: OutboundMessage) -> Rendering:
    """The outbox row's text rendered again with today's data (the resend of a held
    message): the project's settings, names and the deal as they are now, the values the
    row was planned with for the rest. An approved draft's text is the approved one."""
    if message.draft_id is not None:
        left = templating.missing_values(message.text)
        reason = hold_reason(left, message.project) if left else ""
        return Rendering(message.text, dict(message.params or {}), reason)
    rule = message.rule
    values: dict[str, object] = dict(message.params or {})
    values |= base_values(message.project)
    used = set(templating.placeholders(rule.template))
    if "客户" in used and message.customer is not None:
        values["客户"] = templating.customer_value(message.customer.name)
    if "家人" in used and message.family_member is not None:
        values["家人"] = templating.customer_value(message.family_member.name)
    if message.occasion.startswith("deal:") and used & {"签约日期", "户型"}:
        deal = Deal.objects.select_related("unit").filter(pk=int(message.occasion[5:])).first()
        if deal is not None:
            values |= deal_values(deal)
    return render(rule, values)


def deal_values(deal: Deal) -> dict[str, object]:
    """The placeholders a deal fills: its signing deadline and unit layout."""
    due = deal.signing_deadline_on or default_signing_deadline(deal.subscribed_on)
    return {"签约日期": signing_date(due) if due else "", "户型": deal.unit.layout}


def signing_date(day: date) -> str:
    """2026-09-28 → 2026年9月28日, as the seed writes dates (×年×月×日)."""
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class HeldReason:
    setting: str  # the project setting to fill in, e.g. "物业电话"
    reason: str  # a Chinese sentence: what is missing, which messages it holds, what to do
    held: int  # messages of the project held for it now


def held_reasons_for_project(project: Project) -> list[HeldReason]:
    """The project's settings that hold (or would hold) its messages: each blank phone
    that an enabled rule's text uses, with the messages held for it now. Empty when
    nothing is missing. For the project settings page and the workbench."""
    values = base_values(project)
    rules = list(CareRule.objects.filter(project=project, is_enabled=True).order_by("trigger"))
    reasons = []
    for name, (_, label) in PROJECT_SETTINGS.items():
        if values.get(name):
            continue
        using = [rule.get_trigger_display() for rule in rules if name in templating.placeholders(rule.template)]
        if not using:
            continue
        held = OutboundMessage.objects.filter(
            Q(error__contains=f"未设置{label}") | Q(error__contains=f"、{label}"),
            project=project,
            status=OutboundMessage.Status.HELD,
        ).count()
        reasons.append(
            HeldReason(
                setting=label,
                reason=f"楼盘「{project.name}」未设置{label}，{'、'.join(using)}短信会暂缓发送，请在楼盘设置中填写后补发",
                held=held,
            )
        )
    return reasons


__all__ = [
    "HeldReason",
    "Rendering",
    "base_values",
    "held_reasons_for_project",
    "hold_reason",
    "render",
    "render_message",
]
