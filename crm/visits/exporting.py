"""The visit list as an Excel workbook through the shared writer (crm.core.xlsx: cells
that look like formulas are neutralised): the rows of the list's own filter, no mobile
numbers, watermarked and audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from crm.core import audit
from crm.core.xlsx import Workbook
from crm.customers.exporting import Export, watermark
from crm.lib.dates import local_day
from crm.visits.forms import IssueFilterForm, VisitFilterForm

if TYPE_CHECKING:
    from crm.accounts.models import User

HEADERS = (
    "客户",
    "客户编号",
    "楼盘",
    "回访计划",
    "回访目的",
    "方式",
    "回访人",
    "开始日期",
    "完成期限",
    "状态",
    "是否逾期",
    "联系次数",
    "已接通",
    "满意度",
    "各问题评分",
    "客户意见",
    "完成时间",
)
MAX_ROWS = 50_000


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def export_visits(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    today = local_day(now)
    form = VisitFilterForm(params, user=user)
    rows = form.queryset(today=today).select_related("customer", "project", "plan", "assignee")[:MAX_ROWS]
    workbook = Workbook()
    sheet = workbook.add_sheet("回访", freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(HEADERS)
    count = 0
    for t in rows.iterator(chunk_size=2000):
        sheet.append(
            [
                t.customer.name,
                t.customer.number,
                t.project.name,
                t.plan.name if t.plan else "",
                t.purpose,
                t.get_channel_display(),
                str(t.assignee) if t.assignee else "待分派",
                t.start_on,
                t.due_on,
                t.get_status_display(),
                "是" if t.is_overdue(today) else "否",
                t.attempts,
                "" if t.reached is None else ("是" if t.reached else "否"),
                t.satisfaction or "",
                "；".join(f"{q} {s}分" for q, s in t.scores.items()),
                t.opinions[:500],
                _local(t.completed_at),
            ]
        )
        count += 1
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出回访 {count} 条", ip=ip)
    stamp = timezone.localtime(now).strftime("%Y%m%d")
    return Export(file, f"回访列表_{stamp}.xlsx", count, ascii_filename=f"visits_{stamp}.xlsx")


ISSUE_HEADERS = (
    "客户",
    "客户编号",
    "楼盘",
    "类别",
    "责任部门",
    "问题描述",
    "承诺答复日期",
    "状态",
    "是否超过承诺日期",
    "登记人",
    "登记时间",
    "处理结果",
    "解决时间",
    "告知客户时间",
    "关闭时间",
)


def export_issues(
    user: User, params: Mapping[str, str], *, department: bool = False, now: datetime, ip: str | None = None
) -> Export:
    """回访问题 (the list's filter, or the department's queue) as Excel, watermarked and audited."""
    today = local_day(now)
    form = IssueFilterForm(params, user=user)
    rows = form.queryset(today=today, department=department).select_related(
        "customer", "project", "category", "department", "raised_by"
    )[:MAX_ROWS]
    workbook = Workbook()
    sheet = workbook.add_sheet("回访问题", freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(ISSUE_HEADERS)
    count = 0
    for i in rows.iterator(chunk_size=2000):
        sheet.append(
            [
                i.customer.name,
                i.customer.number,
                i.project.name,
                i.category.name,
                i.department.name,
                i.description,
                i.promised_on,
                i.get_status_display(),
                "是" if i.is_late(today) else "否",
                str(i.raised_by) if i.raised_by else "",
                _local(i.raised_at),
                i.resolution,
                _local(i.resolved_at),
                _local(i.informed_at),
                _local(i.closed_at),
            ]
        )
        count += 1
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出回访问题 {count} 条", ip=ip)
    stamp = timezone.localtime(now).strftime("%Y%m%d")
    return Export(file, f"回访问题_{stamp}.xlsx", count, ascii_filename=f"visit_issues_{stamp}.xlsx")


REPAIR_HEADERS = (
    "客户",
    "客户编号",
    "楼盘",
    "房号",
    "报修问题",
    "维修单位",
    "完工时间",
    "来源",
    "登记人",
    "登记时间",
    "回访状态",
    "回访满意度",
)


def export_repairs(user: User, *, now: datetime, ip: str | None = None) -> Export:
    """报修记录 in scope with their callback's status and score, watermarked and audited."""
    from crm.visits import selectors

    rows = (
        selectors.repairs_visible_to(user)
        .select_related("customer", "project", "unit", "recorded_by")
        .prefetch_related("tasks")
        .order_by("-created_at", "-id")[:MAX_ROWS]
    )
    workbook = Workbook()
    sheet = workbook.add_sheet("报修记录", freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(REPAIR_HEADERS)
    count = 0
    for r in rows:
        callback = next((t for t in r.tasks.all() if t.kind == "repair"), None)
        sheet.append(
            [
                r.customer.name,
                r.customer.number,
                r.project.name,
                r.unit.number if r.unit else "",
                r.problem,
                r.contractor,
                _local(r.completed_at),
                r.get_source_display(),
                str(r.recorded_by) if r.recorded_by else "",
                _local(r.created_at),
                callback.get_status_display() if callback else "未完工",
                (callback.satisfaction or "") if callback else "",
            ]
        )
        count += 1
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出报修记录 {count} 条", ip=ip)
    stamp = timezone.localtime(now).strftime("%Y%m%d")
    return Export(file, f"报修记录_{stamp}.xlsx", count, ascii_filename=f"repairs_{stamp}.xlsx")


def export_stats(user: User, year: int, month: int, *, now: datetime, ip: str | None = None) -> Export:
    """回访统计 of a month (crm.visits.stats), one row per visitor, issues by class in columns."""
    from crm.visits import stats

    rows = stats.monthly(user, year, month)
    categories = sorted({name for r in rows for name in r.issues})
    workbook = Workbook()
    sheet = workbook.add_sheet("回访统计", freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(
        (
            "回访人",
            "本月到期",
            "已完成",
            "按期完成",
            "按期完成率(%)",
            "联系上",
            "多次未接通",
            "接通率(%)",
            "未完成",
            "平均满意度",
            "登记问题",
            *[f"问题：{c}" for c in categories],
        )
    )
    for r in rows:
        sheet.append(
            [
                r.name,
                r.due,
                r.done,
                r.on_time,
                r.on_time_rate if r.on_time_rate is not None else "",
                r.reached,
                r.unreachable,
                r.reach_rate if r.reach_rate is not None else "",
                r.open,
                r.satisfaction if r.satisfaction is not None else "",
                r.issue_total,
                *[r.issues.get(c, 0) for c in categories],
            ]
        )
    departments = stats.issues_by_department(user, year, month, today=local_day(now))
    by_department = workbook.add_sheet("问题按部门", freeze="A3")
    by_department.append_note(watermark(user, now=now))
    by_department.append_header(
        ("责任部门", "本月登记问题", "已解决", "已关闭", "按承诺日期解决", "超过承诺日期", "承诺兑现率(%)")
    )
    for d in departments:
        by_department.append(
            [d.name, d.raised, d.resolved, d.closed, d.kept, d.missed, d.kept_rate if d.kept_rate is not None else ""]
        )
    by_question = workbook.add_sheet("各问题平均评分", freeze="A3")
    by_question.append_note(watermark(user, now=now))
    by_question.append_header(("问题", "回答次数", "平均分", "低分（1–2 分）", "5 分", "4 分", "3 分", "2 分", "1 分"))
    for q in stats.question_averages(user, year, month):
        by_question.append(
            [
                q.question,
                q.answered,
                q.average if q.average is not None else "",
                q.low,
                *(q.counts[n] for n in (5, 4, 3, 2, 1)),
            ]
        )
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出回访统计 {year}-{month:02d}", ip=ip)
    return Export(
        file, f"回访统计_{year}{month:02d}.xlsx", len(rows), ascii_filename=f"visit_stats_{year}{month:02d}.xlsx"
    )


def export_scores(user: User, year: int, month: int, *, now: datetime, ip: str | None = None) -> Export:
    """回访人月度得分 with its parts, the formula and the improvement plans."""
    from crm.visits import stats

    rows = stats.consultant_scores(user, year, month)
    workbook = Workbook()
    sheet = workbook.add_sheet("回访人月度得分", freeze="A4")
    sheet.append_note(watermark(user, now=now))
    sheet.append_note(stats.SCORE_FORMULA)
    sheet.append_header(
        (
            "回访人",
            "本月到期",
            "接通率(%)",
            "按期完成率(%)",
            "平均满意度",
            "登记问题",
            "已关闭问题",
            "问题关闭率(%)",
            "月度得分",
            "改进计划",
            "填写人",
        )
    )
    for s in rows:
        r = s.row
        sheet.append(
            [
                r.name,
                r.due,
                r.reach_rate if r.reach_rate is not None else "",
                r.on_time_rate if r.on_time_rate is not None else "",
                r.satisfaction if r.satisfaction is not None else "",
                s.issues_raised,
                s.issues_closed,
                s.issue_close_rate if s.issue_close_rate is not None else "",
                float(s.score) if s.score is not None else "",
                s.plan,
                s.plan_by,
            ]
        )
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出回访人月度得分 {year}-{month:02d}", ip=ip)
    return Export(
        file, f"回访人月度得分_{year}{month:02d}.xlsx", len(rows), ascii_filename=f"visit_scores_{year}{month:02d}.xlsx"
    )


REVIEW_HEADERS = (
    "客户",
    "客户编号",
    "楼盘",
    "回访计划/目的",
    "回访人",
    "完成时间",
    "状态",
    "满意度",
    "客户意见",
    "督查标记",
    "待答复",
    "服务忌语",
)


def export_review(user: User, params: Mapping[str, str], *, now: datetime, ip: str | None = None) -> Export:
    """回访督查's records (the page's filters) with their flags, watermarked and audited."""
    from django.db.models import Count, Q

    from crm.visits.forms import ReviewFilterForm
    from crm.visits.models import ReviewFlag

    form = ReviewFilterForm(params, user=user)
    rows = list(
        form.queryset()
        .select_related("customer", "project", "plan", "completed_by")
        .annotate(flag_count=Count("flags"), open_flags=Count("flags", filter=Q(flags__status="open")))[:MAX_ROWS]
    )
    workbook = Workbook()
    sheet = workbook.add_sheet("回访督查", freeze="A3")
    sheet.append_note(watermark(user, now=now))
    sheet.append_header(REVIEW_HEADERS)
    phrases: dict[int, list[str]] = {}
    for task_id, phrase in ReviewFlag.objects.filter(
        task_id__in=[t.pk for t in rows], source=ReviewFlag.Source.PHRASE
    ).values_list("task_id", "phrase"):
        phrases.setdefault(task_id, []).append(phrase)
    for t in rows:
        sheet.append(
            [
                t.customer.name,
                t.customer.number,
                t.project.name,
                t.plan.name if t.plan else t.purpose,
                str(t.completed_by) if t.completed_by else "",
                _local(t.completed_at),
                t.get_status_display(),
                t.satisfaction or "",
                t.opinions[:500],
                t.flag_count,
                t.open_flags,
                "、".join(phrases.get(t.pk, [])),
            ]
        )
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出回访督查记录 {len(rows)} 条", ip=ip)
    stamp = timezone.localtime(now).strftime("%Y%m%d")
    return Export(file, f"回访督查_{stamp}.xlsx", len(rows), ascii_filename=f"visit_review_{stamp}.xlsx")
