"""The left-hand menu (DESIGN 3.8): one list in DESIGN's order, the areas with several
entries under a heading (投诉, 客服运营, 报表, 系统设置), each item shown only to users who
may use it, each heading only above the entries a user sees."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.urls import get_script_prefix, get_urlconf, reverse

if TYPE_CHECKING:
    from crm.accounts.models import User


@dataclass(frozen=True)
class NavItem:
    """A menu entry. With ``permissions`` set, a user needs any one of them (the role table,
    crm.accounts.roles, grants them); without, everyone sees it."""

    label: str
    url_name: str
    icon: str
    permissions: tuple[str, ...] = ()
    staff_only: bool = False
    match: tuple[str, ...] = field(default_factory=tuple)
    # The group heading the entry is listed under (DESIGN 3.8's areas); "" for the top.
    section: str = ""

    def allows(self, user: User) -> bool:
        if self.staff_only and not user.is_staff:
            return False
        return not self.permissions or any(user.has_perm(perm) for perm in self.permissions)


MENU: tuple[NavItem, ...] = (
    # DESIGN 3.8's order: 工作台 · 客户 · 成交 · 回访 · 温馨速递 · 投诉 · 客服运营 · 报表 · 系统设置. 管理首页 is the
    # management roles' own home. Whoever sees customers sees their messages (发件箱) and opt-
    # outs: a consultant their own customers', a manager the company's (crm.care.views._tabs).
    NavItem("工作台", "workbench", "home"),
    NavItem("管理首页", "kpis:home", "home", ("kpis.view_management_home",), match=("/kpis/home/",)),
    NavItem("客户", "customers:list", "users", ("customers.view_customer",), match=("/customers/",)),
    NavItem("成交", "customers:deal_list", "key", ("customers.view_deal",), match=("/customers/deals",)),
    NavItem("导入导出", "customers:import", "upload", ("customers.import_customers",), match=("/customers/import",)),
    NavItem("回访", "visits:list", "phone", ("visits.view_visittask",), match=("/visits/",)),
    NavItem(
        "温馨速递",
        "care:home",
        "message",
        ("care.manage_messages", "care.approve_draft", "care.change_carerule", "customers.view_customer"),
        match=("/sms/",),
    ),
    # 投诉. The most specific match wins (咨询's /complaints/consultations/ over 投诉's
    # /complaints/).
    NavItem(
        "投诉", "complaints:list", "alert", ("complaints.view_complaint",), match=("/complaints/",), section="投诉"
    ),
    NavItem(
        "咨询",
        "complaints:consultation_list",
        "message",
        ("complaints.view_consultation",),
        match=("/complaints/consultations/",),
        section="投诉",
    ),
    NavItem(
        "首问事项",
        "complaints:issue_list",
        "key",
        ("complaints.view_customerissue",),
        match=("/complaints/issues/",),
        section="投诉",
    ),
    NavItem(
        "媒体监督",
        "complaints:media_review",
        "shield",
        ("complaints.view_mediafinding",),
        match=("/complaints/media/",),
        section="投诉",
    ),
    # 客服运营. 项目资料: consultants use the sales materials without duty, inspection and gifts.
    NavItem(
        "值班·巡查·礼品",
        "service:home",
        "briefcase",
        (
            "service.view_shift",
            "service.view_handover",
            "service.view_gifttask",
            "service.view_giftissue",
            "service.view_inspection",
        ),
        match=("/service/",),
        section="客服运营",
    ),
    NavItem("客户活动", "events:list", "calendar", ("events.view_event",), match=("/events/",), section="客服运营"),
    NavItem(
        "客户描摹", "portraits:list", "users", ("portraits.view_portrait",), match=("/portraits/",), section="客服运营"
    ),
    NavItem(
        "老带新", "referrals:list", "users", ("referrals.view_referral",), match=("/referrals/",), section="客服运营"
    ),
    NavItem(
        "项目资料",
        "service:material_list",
        "folder",
        ("service.view_material", "service.view_displayitem"),
        match=("/service/materials/", "/service/displays/"),
        section="客服运营",
    ),
    NavItem(
        "培训",
        "training:session_list",
        "calendar",
        ("training.view_trainingsession",),
        match=("/training/",),
        section="客服运营",
    ),
    # 报表.
    NavItem("报告", "reports:pack_list", "chart", ("reports.view_reportpack",), match=("/reports/",), section="报表"),
    NavItem("指标看板", "kpis:dashboard", "chart", ("kpis.view_kpis",), match=("/kpis/",), section="报表"),
    NavItem(
        "顾问考核", "kpis:scorecards", "users", ("kpis.view_scorecard",), match=("/kpis/scorecards/",), section="报表"
    ),
    NavItem(
        "投诉分析",
        "complaints:report_monthly",
        "chart",
        ("complaints.view_complaint_report",),
        match=("/complaints/reports/",),
        section="报表",
    ),
    # 系统设置.
    NavItem(
        "导出申请",
        "customers:exports",
        "upload",
        ("customers.approve_export",),
        match=("/customers/exports/",),
        section="系统设置",
    ),
    NavItem(
        "异常访问",
        "customers:alerts",
        "shield",
        ("customers.view_security_audit",),
        match=("/customers/alerts/",),
        section="系统设置",
    ),
    NavItem("审计日志", "audit_log", "shield", ("customers.view_audit",), match=("/audit/",), section="系统设置"),
    NavItem(
        "工作日历",
        "core:calendar",
        "calendar",
        ("core.add_calendaryear",),
        match=("/settings/calendar/",),
        section="系统设置",
    ),
    NavItem(
        "个人信息申请",
        "privacy:list",
        "shield",
        ("privacy.view_datasubjectrequest",),
        match=("/privacy/",),
        section="系统设置",
    ),
    NavItem("系统设置", "admin:index", "settings", staff_only=True, match=("/admin/",), section="系统设置"),
)


@functools.cache
def _url(url_name: str, prefix: str, urlconf: str | None) -> str:
    """The menu's URLs, reversed once per process (every page draws the menu)."""
    return reverse(url_name, urlconf=urlconf)


def menu_for(user: User, path: str) -> list[dict[str, object]]:
    items = []
    prefix, urlconf = get_script_prefix(), get_urlconf()
    for item in MENU:
        if not item.allows(user):
            continue
        url = _url(item.url_name, prefix, urlconf)
        matches = item.match or ((url,) if url != "/" else ())
        active = path == url or any(path.startswith(m) for m in matches)
        items.append({"label": item.label, "url": url, "icon": item.icon, "active": active, "section": item.section})
    # The most specific match wins (客户 vs 成交 both match /customers/deals).
    active_items = [i for i in items if i["active"]]
    if len(active_items) > 1:
        best = max(active_items, key=lambda i: len(str(i["url"])))
        for i in items:
            i["active"] = i is best
    # A heading before the first entry of each section the user sees.
    previous = ""
    for i in items:
        i["heading"] = i["section"] if i["section"] != previous else ""
        previous = str(i["section"])
    return items
