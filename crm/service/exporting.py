"""客服运营 lists as Excel workbooks through the shared writer (crm.core.xlsx: cells that
look like formulas are neutralised): the rows of each list's own filter, watermarked and
audited. A one-sheet list goes through crm.customers.exporting.export_list, which writes
the workbook; this module builds only its rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from crm.core import audit
from crm.core.xlsx import Workbook
from crm.customers.exporting import Export, export_list, watermark
from crm.service import inspection

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.service.models import GiftIssue, Handover, Inspection

MAX_ROWS = 50_000
SHIFT_HEADERS = (
    "楼盘",
    "值班人员",
    "开始时间",
    "结束时间",
    "节假日",
    "值班管理人员",
    "值班记录条数",
    "上报事项",
    "交接状态",
)
HANDOVER_HEADERS = (
    "楼盘",
    "交班人",
    "接班人",
    "状态",
    "交班确认时间",
    "接班确认时间",
    "值班记录摘要",
    "未尽事宜",
    "重大维修未完成",
    "物品异常",
    "最近拒接原因",
)


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _stamp(now: datetime) -> str:
    return timezone.localtime(now).strftime("%Y%m%d")


def _shift_row(s: Any) -> list[Any]:
    handover = getattr(s, "handover", None)
    return [
        s.project.name,
        str(s.officer),
        _local(s.starts_at),
        _local(s.ends_at),
        "是" if s.is_holiday else "否",
        str(s.manager) if s.manager else "",
        s.entries,
        s.escalated,
        handover.get_status_display() if handover else "未交接",
    ]


def export_shifts(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    from django.db.models import Count, Q

    from crm.service.forms import ShiftFilterForm

    rows = (
        ShiftFilterForm(params, user=user)
        .queryset(now=now)
        .select_related("project", "officer", "manager", "handover")
        .annotate(
            entries=Count("log_entries"), escalated=Count("log_entries", filter=Q(log_entries__is_escalated=True))
        )[:MAX_ROWS]
    )
    return export_list(
        user,
        (_shift_row(s) for s in rows),
        title="值班表",
        headers=SHIFT_HEADERS,
        ascii_name="duty_roster",
        now=now,
        ip=ip,
    )


def _handover_row(h: Handover) -> list[Any]:
    odd = "；".join(
        f"{i.name}{i.get_state_display()}{'（' + i.explanation + '）' if i.explanation else ''}"
        for i in h.items.all()
        if i.state != "ok"
    )
    return [
        h.project.name,
        str(h.outgoing),
        str(h.incoming),
        h.get_status_display(),
        _local(h.submitted_at),
        _local(h.accepted_at),
        h.log_summary[:500],
        h.open_matters[:500],
        "是" if h.major_repair_open else "否",
        odd,
        h.refusal_reasons if h.is_open else "",
    ]


def export_handovers(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    from crm.service.forms import HandoverFilterForm

    rows = (
        HandoverFilterForm(params, user=user)
        .queryset()
        .select_related("project", "outgoing", "incoming")
        .prefetch_related("items")[:MAX_ROWS]
    )
    return export_list(
        user,
        (_handover_row(h) for h in rows),
        title="交接班",
        headers=HANDOVER_HEADERS,
        ascii_name="handovers",
        now=now,
        ip=ip,
    )


ISSUE_HEADERS = ("发放时间", "楼盘", "礼品", "数量", "场合", "领取人", "客户编号", "发放原因", "发放人")


def _issue_row(i: GiftIssue) -> list[Any]:
    return [
        _local(i.issued_at),
        i.project.name,
        i.gift.name,
        i.quantity,
        i.get_occasion_display(),
        i.recipient,
        i.customer.number if i.customer else "",
        i.reason,
        str(i.issuer),
    ]


def export_issues(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    from crm.service.forms import GiftIssueFilterForm

    rows = (
        GiftIssueFilterForm(params, user=user)
        .queryset()
        .select_related("project", "gift", "customer", "issuer")[:MAX_ROWS]
    )
    return export_list(
        user,
        (_issue_row(i) for i in rows),
        title="礼品发放",
        headers=ISSUE_HEADERS,
        ascii_name="gift_issues",
        now=now,
        ip=ip,
    )


INSPECTION_HEADERS = (
    "日期",
    "楼盘",
    "巡查人",
    "完成时间",
    "10:00前完成",
    "有问题区域",
    "问题数",
    "未处理问题",
    "超时未处理",
)


def _inspection_row(r: Inspection, now: datetime) -> list[Any]:
    findings = list(r.findings.all())
    return [
        r.day,
        r.project.name,
        str(r.inspector),
        _local(r.completed_at),
        "否" if inspection.inspection_is_late(r.day, r.completed_at, now) else "是",
        "、".join(x.area for x in r.results.all() if x.result == "problem"),
        len(findings),
        sum(1 for f in findings if f.handled_at is None),
        sum(1 for f in findings if f.is_overdue(now)),
    ]


def export_inspections(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    from crm.service.forms import InspectionFilterForm

    rows = (
        InspectionFilterForm(params, user=user)
        .queryset()
        .select_related("project", "inspector")
        .prefetch_related("results", "findings")[:MAX_ROWS]
    )
    return export_list(
        user,
        (_inspection_row(r, now) for r in rows),
        title="日常巡查",
        headers=INSPECTION_HEADERS,
        ascii_name="inspections",
        now=now,
        ip=ip,
    )


MATERIAL_HEADERS = ("楼盘", "类别", "名称", "状态", "当前版本", "当前文件", "版本说明", "上传人", "上传时间", "版本数")
DISPLAY_HEADERS = ("楼盘", "公示内容", "要求", "最近检查日期", "检查人", "检查结果", "超期未检查")


def export_materials(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    """项目资料 (the list's filter) and, on a second sheet, the 现场公示 checklist of the
    same projects with the last check of each item.

    Written here rather than through export_list, which makes one-sheet workbooks: this
    one has two sheets, and its audit row says it holds the checklist too."""
    from django.db.models import Count, Prefetch

    from crm.lib.dates import local_day
    from crm.service import services
    from crm.service.forms import DisplayFilterForm, MaterialFilterForm
    from crm.service.models import MaterialVersion

    rows = (
        MaterialFilterForm(params, user=user)
        .queryset()
        .select_related("project")
        .annotate(version_count=Count("versions"))
        .prefetch_related(
            Prefetch(
                "versions",
                MaterialVersion.objects.filter(is_current=True).select_related("uploaded_by"),
                to_attr="current",
            )
        )[:MAX_ROWS]
    )
    workbook = Workbook()
    sheet = workbook.add_sheet("项目资料", freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(MATERIAL_HEADERS)
    count = 0
    for m in rows:
        current = m.current[0] if m.current else None
        sheet.append(
            [
                m.project.name,
                m.get_kind_display(),
                m.title,
                "在用" if m.is_active else "已停用",
                f"v{current.number}" if current else "",
                current.original_name if current else "",
                current.note if current else "",
                str(current.uploaded_by) if current and current.uploaded_by else "",
                _local(current.uploaded_at) if current else None,
                m.version_count,
            ]
        )
        count += 1
    today = local_day(now)
    days = services.display_stale_days()
    displays = workbook.add_sheet("现场公示", freeze="A3")
    displays.append_note(watermark(user, now=now))
    displays.append_header(DISPLAY_HEADERS)
    project = {"project": params["project"]} if params.get("project") else {}
    for item in (
        DisplayFilterForm(project, user=user)
        .queryset(today=today)
        .select_related("project", "last_checked_by")[:MAX_ROWS]
    ):
        displays.append(
            [
                item.project.name,
                item.name,
                item.standard,
                item.last_checked_on,
                str(item.last_checked_by) if item.last_checked_by else "",
                item.get_last_status_display(),
                "是" if item.is_stale(today, days) else "否",
            ]
        )
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出项目资料 {count} 条及现场公示", ip=ip)
    return Export(file, f"项目资料_{_stamp(now)}.xlsx", count, ascii_filename=f"project_materials_{_stamp(now)}.xlsx")
