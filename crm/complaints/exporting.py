"""The complaint list as an Excel workbook through the shared writer (crm.core.xlsx: cells
that look like formulas are neutralised): the rows of the list's own filter, mobiles
masked, watermarked and audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from crm.complaints.analysis import MonthlyReport, open_at
from crm.complaints.forms import ComplaintFilterForm
from crm.core import audit
from crm.core.xlsx import Workbook
from crm.customers.exporting import Export, watermark

if TYPE_CHECKING:
    from crm.accounts.models import User

HEADERS = (
    "投诉编号",
    "登记时间",
    "渠道",
    "投诉人",
    "联系电话",
    "楼盘",
    "类别",
    "状态",
    "责任人",
    "处理期限",
    "是否超时",
    "升级级别",
    "满意度",
    "投诉内容",
    "房号",
    "重复投诉（前次编号）",
)
MAX_ROWS = 50_000


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def export_complaints(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    form = ComplaintFilterForm(params, user=user)
    rows = form.queryset(now=now).select_related("project", "unit__building", "category", "assignee", "repeat_of")[
        :MAX_ROWS
    ]
    workbook = Workbook()
    sheet = workbook.add_sheet("投诉", freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(HEADERS)
    count = 0
    for c in rows.iterator(chunk_size=2000):
        sheet.append(
            [
                c.number,
                _local(c.registered_at),
                c.get_channel_display(),
                c.complainant_name,
                c.masked_mobile,
                c.project.name,
                c.category.name,
                c.get_status_display(),
                str(c.assignee) if c.assignee else "",
                _local(c.resolution_due_at),
                "是" if c.is_breached(now) else "否",
                c.escalation_level,
                c.satisfaction or "",
                c.content[:500],
                str(c.unit) if c.unit else c.unit_text,
                (c.repeat_of.number if c.repeat_of else "是") if c.is_repeat else "",
            ]
        )
        count += 1
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出投诉 {count} 条", ip=ip)
    stamp = timezone.localtime(now).strftime("%Y%m%d")
    return Export(file, f"投诉列表_{stamp}.xlsx", count, ascii_filename=f"complaints_{stamp}.xlsx")


REPORT_OPEN_HEADERS = ("投诉编号", "登记时间", "楼盘", "类别", "当前状态", "责任人", "处理期限", "月末是否超时")


def _cell(value: float | int | None) -> float | int | str:
    return "—" if value is None else value


def export_monthly_report(
    user: User, report: MonthlyReport, *, comparison: list[dict[str, Any]], now: datetime, ip: str | None = None
) -> Export:
    """投诉分析报告 as a workbook: 概况 (the figures of both months and the change), one sheet
    per breakdown, the satisfaction distribution and every complaint open at the month's end
    (no contact details are written). Watermarked and audited."""
    this, last = f"{report.month:%Y年%m月}", f"{report.previous_month:%Y年%m月}"
    scope = f"楼盘：{report.project.name}" if report.project else "楼盘：全部（您可查看的范围）"
    workbook = Workbook()
    summary = workbook.add_sheet("概况", widths=(22, 16, 16, 14))
    summary.append_note(watermark(user, now=now))
    summary.append_note(f"投诉分析报告 {this}，{scope}")
    summary.append_header(("指标", this, last, "环比变化"))
    for row in comparison:
        unit = row["unit"]
        summary.append(
            [f"{row['label']}（{unit}）", _cell(row["current"]), _cell(row["previous"]), _cell(row["delta"])]
        )
    summary.append(["月末未结投诉（件）", report.open_count, "", ""])
    for title, rows, label in (
        ("按类别", report.by_category, "类别"),
        ("按渠道", report.by_channel, "渠道"),
        ("按楼盘", report.by_project, "楼盘"),
    ):
        sheet = workbook.add_sheet(title, widths=(20, 14, 14, 12))
        sheet.append_header((label, this, last, "环比变化"))
        for b in rows:
            sheet.append([b.label, b.current, b.previous, b.current - b.previous])
        sheet.append(["合计", sum(b.current for b in rows), sum(b.previous for b in rows), ""])
    ratings = workbook.add_sheet("满意度", widths=(12, 14, 14))
    ratings.append_header(("评分", this, last))
    for k in sorted(report.current.ratings):
        ratings.append([f"{k} 分", report.current.ratings[k], report.previous.ratings[k]])
    ratings.append(["平均分", _cell(report.current.satisfaction_avg), _cell(report.previous.satisfaction_avg)])
    open_sheet = workbook.add_sheet("月末未结", widths=(18, 18, 14, 12, 14, 12, 18, 12), freeze="A2")
    open_sheet.append_header(REPORT_OPEN_HEADERS)
    for c in open_at(user, report.cutoff, project=report.project)[:MAX_ROWS].iterator(chunk_size=2000):
        open_sheet.append(
            [
                c.number,
                _local(c.registered_at),
                c.project.name,
                c.category.name,
                c.get_status_display(),
                str(c.assignee) if c.assignee else "",
                _local(c.resolution_due_at),
                "是" if c.resolution_due_at < report.cutoff else "否",
            ]
        )
    file = workbook.save()
    audit.log(
        audit.AuditLog.Action.EXPORT,
        actor=user,
        summary=f"导出投诉分析报告 {report.month:%Y-%m}（{scope}）",
        ip=ip,
    )
    stamp = f"{report.month:%Y%m}"
    return Export(
        file, f"投诉分析报告_{stamp}.xlsx", report.current.total, ascii_filename=f"complaint_report_{stamp}.xlsx"
    )
