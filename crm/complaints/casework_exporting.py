"""Excel exports of the consultation list and quarterly summary, the first-responder issues
and the media findings, through the shared writer (crm.core.xlsx); mobiles masked,
watermarked and audited like the complaint list."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from crm.complaints.casework_forms import ConsultationFilterForm, FindingFilterForm, IssueFilterForm
from crm.complaints.consultations import QuarterSummary
from crm.core import audit
from crm.core.xlsx import Workbook
from crm.customers.exporting import Export, watermark

if TYPE_CHECKING:
    from crm.accounts.models import User

MAX_ROWS = 50_000


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _finish(
    workbook: Workbook, user: User, *, count: int, what: str, ascii_name: str, now: datetime, ip: str | None
) -> Export:
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出{what} {count} 条", ip=ip)
    stamp = timezone.localtime(now).strftime("%Y%m%d")
    return Export(file, f"{what}_{stamp}.xlsx", count, ascii_filename=f"{ascii_name}_{stamp}.xlsx")


def export_consultations(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    rows = ConsultationFilterForm(params, user=user).queryset().select_related("topic", "project", "answered_by")
    workbook = Workbook()
    sheet = workbook.add_sheet("咨询记录", freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(
        (
            "咨询时间",
            "渠道",
            "咨询人",
            "联系电话",
            "楼盘",
            "主题",
            "咨询问题",
            "答复内容",
            "接待人",
            "需要跟进",
            "转为投诉",
        )
    )
    count = 0
    for c in rows[:MAX_ROWS].iterator(chunk_size=2000):
        sheet.append(
            [
                _local(c.asked_at),
                c.get_channel_display(),
                c.contact_name,
                c.masked_mobile,
                c.project.name,
                c.topic.name,
                c.question[:1000],
                c.answer[:1000],
                str(c.answered_by),
                "是" if c.needs_follow_up else "否",
                "是" if c.complaint_id else "否",
            ]
        )
        count += 1
    return _finish(workbook, user, count=count, what="咨询记录", ascii_name="consultations", now=now, ip=ip)


def export_quarter_summary(user: User, summary: QuarterSummary, *, now: datetime, ip: str | None = None) -> Export:
    workbook = Workbook()
    overview = workbook.add_sheet("概况")
    overview.append_note(watermark(user, now=now))
    overview.append_header((summary.title, "数量"))
    overview.append(["咨询总数", summary.total])
    overview.append(["需要跟进", summary.follow_ups])
    overview.append(["转为投诉", summary.to_complaints])
    for title, rows in (
        ("按主题", summary.by_topic),
        ("按渠道", summary.by_channel),
        ("按楼盘", summary.by_project),
        ("按接待人", summary.by_staff),
        ("常见问题", summary.top_questions),
    ):
        sheet = workbook.add_sheet(title)
        sheet.append_header((title[1:] if title.startswith("按") else "咨询问题", "次数"))
        for row in rows:
            sheet.append([row.label, row.count])
    name = f"{summary.year}Q{summary.quarter}"
    return _finish(
        workbook,
        user,
        count=summary.total,
        what=f"咨询季度汇总{name}",
        ascii_name=f"consultations_{name}",
        now=now,
        ip=ip,
    )


def export_issues(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    rows = IssueFilterForm(params, user=user).queryset(now=now).select_related("project", "first_responder")
    workbook = Workbook()
    sheet = workbook.add_sheet("首问事项", freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(
        (
            "事项编号",
            "受理时间",
            "来源",
            "事项",
            "客户",
            "联系电话",
            "楼盘",
            "首问责任人",
            "状态",
            "结案时间",
            "客户反映的问题",
        )
    )
    count = 0
    for i in rows[:MAX_ROWS].iterator(chunk_size=2000):
        sheet.append(
            [
                i.number,
                _local(i.received_at),
                i.get_source_display(),
                i.subject,
                i.contact_name,
                i.masked_mobile,
                i.project.name,
                str(i.first_responder),
                i.get_status_display(),
                _local(i.closed_at),
                i.description[:1000],
            ]
        )
        count += 1
    return _finish(workbook, user, count=count, what="首问事项", ascii_name="issues", now=now, ip=ip)


def export_findings(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    rows = FindingFilterForm(params, user=user).queryset().select_related("medium", "project", "responded_by")
    workbook = Workbook()
    sheet = workbook.add_sheet("媒体监督", freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(
        ("发现时间", "媒体", "楼盘", "倾向", "内容摘要", "链接", "回应", "回应人", "回应时间", "转为投诉")
    )
    count = 0
    for f in rows[:MAX_ROWS].iterator(chunk_size=2000):
        sheet.append(
            [
                _local(f.found_at),
                f.medium.name,
                f.project.name if f.project else "",
                f.get_sentiment_display(),
                f.summary[:1000],
                f.link,
                f.response[:1000],
                str(f.responded_by) if f.responded_by else "",
                _local(f.responded_at),
                "是" if f.complaint_id else "否",
            ]
        )
        count += 1
    return _finish(workbook, user, count=count, what="媒体监督记录", ascii_name="media_findings", now=now, ip=ip)
