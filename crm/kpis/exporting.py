"""The dashboard's and the scorecards' tables as workbooks (crm.core.xlsx): Chinese
headers, one sheet per section, the viewer's scope (the same figures as the page),
watermarked and audited."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crm.core import audit
from crm.core.xlsx import Workbook
from crm.customers.exporting import Export, watermark
from crm.kpis.dashboard import CategoryRow, ProjectRow, Trend
from crm.kpis.definitions import Figure
from crm.kpis.periods import Period
from crm.kpis.scorecards import Scorecard

if TYPE_CHECKING:
    from crm.accounts.models import User

FIGURE_HEADERS = ("指标", "数值", "单位", "分子", "分子口径", "分母", "分母口径", "说明")
PROJECT_HEADERS = (
    "楼盘",
    "投诉（件）",
    "客户数",
    "投诉率（件/百户）",
    "按时处理率（%）",
    "回访满意度（%）",
    "回访完成率（%）",
)
CATEGORY_HEADERS = ("投诉类别", "投诉（件）", "按时处理（件）", "重复投诉（件）", "占比（%）")
SCORECARD_HEADERS = (
    "置业顾问",
    "到期回访",
    "按期完成",
    "按期完成率（%）",
    "已评满意度",
    "满意（4–5 分）",
    "满意率（%）",
    "平均满意度",
    "被投诉（件）",
    "客户描摹",
    "老带新",
    "改进计划",
)


def _n(value: Decimal | int | None) -> float | int | str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return float(value)
    return value


def export_dashboard(
    user: User,
    *,
    period: Period,
    scope_label: str,
    figures: list[Figure],
    trend: Trend,
    trend_labels: dict[str, str],
    projects: list[ProjectRow],
    categories: list[CategoryRow],
    now: datetime,
    ip: str | None = None,
) -> Export:
    """指标看板 as a workbook: 指标, 近12个月趋势, 按楼盘, 按投诉类别."""
    workbook = Workbook()
    sheet = workbook.add_sheet("指标", widths=(22, 12, 10, 10, 26, 10, 26, 20))
    sheet.append_note(watermark(user, now=now))
    sheet.append_note(f"指标看板 {period.label}，{scope_label}")
    sheet.append_header(FIGURE_HEADERS)
    for f in figures:
        sheet.append(
            [
                f.label,
                _n(f.value),
                f.unit or "个",
                f.numerator,
                f.numerator_label,
                _n(f.denominator) if f.denominator is not None else "",
                f.denominator_label,
                f.note,
            ]
        )
    months = workbook.add_sheet("近12个月趋势", widths=(24, *([10] * len(trend.months))))
    months.append_header(("指标", *trend.labels))
    for key, label in trend_labels.items():
        months.append([label, *(_n(v) for v in trend.series[key])])
    by_project = workbook.add_sheet("按楼盘", widths=(20, 12, 10, 16, 16, 16, 16))
    by_project.append_header(PROJECT_HEADERS)
    for p in projects:
        by_project.append(
            [
                p.name,
                p.complaints,
                p.customers,
                _n(p.complaint_rate),
                _n(p.resolution_timeliness),
                _n(p.visit_satisfaction),
                _n(p.visit_completion),
            ]
        )
    by_category = workbook.add_sheet("按投诉类别", widths=(18, 12, 14, 14, 12))
    by_category.append_header(CATEGORY_HEADERS)
    for c in categories:
        by_category.append([c.name, c.complaints, c.resolved_on_time, c.repeats, _n(c.share)])
    file = workbook.save()
    audit.log(
        audit.AuditLog.Action.EXPORT,
        actor=user,
        summary=f"导出指标看板 {period.start:%Y-%m-%d}至{period.end:%Y-%m-%d}（{scope_label}）",
        ip=ip,
    )
    stamp = f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    return Export(file, f"指标看板_{stamp}.xlsx", len(figures), ascii_filename=f"kpis_{stamp}.xlsx")


def scorecard_row(card: Scorecard) -> list[Any]:
    return [
        str(card.consultant),
        card.due,
        card.on_time,
        _n(card.on_time_rate),
        card.rated,
        card.satisfied,
        _n(card.satisfaction_rate),
        _n(card.average),
        card.complaints,
        "未启用" if card.portraits is None else card.portraits,
        card.referrals,
        card.plan,
    ]


def export_scorecards(
    user: User, *, month: Period, cards: list[Scorecard], now: datetime, ip: str | None = None
) -> Export:
    """顾问月度考核 as a workbook: one sheet, one row per consultant in scope."""
    workbook = Workbook()
    sheet = workbook.add_sheet("顾问月度考核", widths=(14, 10, 10, 14, 10, 12, 12, 10, 12, 10, 10, 40), freeze="A4")
    sheet.append_note(watermark(user, now=now))
    sheet.append_note(f"顾问月度考核 {month.label}")
    sheet.append_header(SCORECARD_HEADERS)
    for card in cards:
        sheet.append(scorecard_row(card))
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, summary=f"导出顾问月度考核 {month.start:%Y-%m}", ip=ip)
    stamp = f"{month.start:%Y%m}"
    return Export(file, f"顾问月度考核_{stamp}.xlsx", len(cards), ascii_filename=f"scorecards_{stamp}.xlsx")
