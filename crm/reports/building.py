"""The sections of each kind of report pack, read from the other apps' selectors.

``build(kind, company_id=…, project=…, first=…, last=…, now=…)`` returns the JSON snapshot
stored in ``ReportPack.data``::

    {"title": "周报", "period": [first, last], "scope": "全部楼盘",
     "sections": [{"key", "number", "title", "figures": [{"label", "value", "unit"}],
                   "tables": [{"title", "columns", "rows"}], "note", "text"}]}

Section titles are seed 001's own words (周报: items 1–9 and the ledgers named before them;
月报: items 1–8; the daily inspection report; seed 002's 客户投诉分析报告; seed 001's
monthly visit statistics). ``text`` names the pack's free-text field shown in that section
(the author's 工作总结 or 下期工作重点). A section without a data source says so in ``note``
(暂无数据来源) instead of showing made-up figures.

Everything is ordered explicitly, and nothing here reads the clock except the complaint
analysis' cutoff (a month still running is counted up to ``now``), so generating the same
period twice over the same data gives the same snapshot. Customer names are masked (张*) and
mobile or ID numbers in free text are masked: a pack is read by people who need the
figures, not the contacts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crm.care import selectors as care
from crm.complaints import selectors as complaints
from crm.customers import selectors as customers
from crm.kpis import selectors as kpis
from crm.lib import collector
from crm.lib.dates import CHINA_TZ
from crm.lib.mobile import mask_numbers_in_text
from crm.privacy.erasure import ERASED_NAME, REMOVED
from crm.reports.models import Kind
from crm.service import selectors as service
from crm.visits import selectors as visits

if TYPE_CHECKING:
    from crm.projects.models import Project

PHONE = "phone"
FACE_TO_FACE = "visit"
SMS = "sms"
WECHAT = "wechat"
CHANNELS = (PHONE, FACE_TO_FACE, SMS, WECHAT)
TEXT_LIMIT = 200
# An erased customer's number in a snapshot (crm.reports.erasure).
ERASED_NUMBER = "已删除"

# The free-text fields' labels per kind (the pack's summary and next_focus).
TEXT_LABELS: dict[str, tuple[str, str]] = {
    Kind.WEEKLY: ("本周工作总结", "下周客户维护工作重点"),
    Kind.MONTHLY: ("本月工作总结", "下月客户维护工作重点"),
}
DEFAULT_TEXT_LABELS = ("总结", "下期工作重点")


def text_labels(kind: str) -> tuple[str, str]:
    return TEXT_LABELS.get(kind, DEFAULT_TEXT_LABELS)


# Columns copying free text from fields an erasure rewrites (crm.privacy.erasure.PLAN: a
# visit's opinions, a visit issue's description and resolution, a complaint's content, a
# first-responder issue's subject and description): in the erased customer's rows of a
# snapshot they are rewritten too (crm.reports.erasure).
CUSTOMER_TEXT_COLUMNS = frozenset({"客户意见", "问题描述", "处理结果", "投诉内容", "事项", "客户反映的问题"})


# ---------------------------------------------------------------- cells and blocks


def mask_name(name: str) -> str:
    """张* / 欧阳** : the surname's first character and one star per other character."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def customer_cells(number: str, name: str) -> tuple[str, str]:
    """A customer's 客户编号 and 客户 cells: the number and the masked name, or, for a
    customer already erased (crm.privacy.erasure), what the erasure writes into the packs
    that existed then (crm.reports.erasure), so a pack generated later holds no more."""
    if name == ERASED_NAME:
        return ERASED_NUMBER, REMOVED
    return number, mask_name(name)


_PLAIN = frozenset({str, int, float})


def _local_minute(value: datetime) -> str:
    # China time whatever the request's active zone; astimezone directly: a month's pack
    # formats tens of thousands (timezone.localtime looks the zone up each time).
    local = value.astimezone(CHINA_TZ).replace(tzinfo=None) if value.tzinfo is not None else value
    return local.isoformat(" ", "minutes")  # 2026-11-05 10:00, as strftime but a few times faster


# The other cell types by exact type, one lookup each (a month's pack converts ~50,000
# dates, prices and yes/no cells); a subclass is matched in this order (datetime before date).
_CONVERT: dict[type, Any] = {
    type(None): lambda _: "",
    bool: lambda v: "是" if v else "否",
    datetime: _local_minute,
    date: date.isoformat,
    Decimal: float,
}


def _cell(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:  # most cells (a month's pack has hundreds of thousands); not bool
        return value
    convert = _CONVERT.get(kind)
    if convert is not None:
        return convert(value)
    for base, convert in _CONVERT.items():
        if isinstance(value, base):
            return convert(value)
    return value


def _text(value: str) -> str:
    text = mask_numbers_in_text(value or "")
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    # Plain cells kept inline, without a call each: a month's pack has ~400,000 cells.
    plain = _PLAIN
    cells = [[v if type(v) in plain else _cell(v) for v in row] for row in rows]
    return {"title": title, "columns": list(columns), "rows": cells}


def figure(label: str, value: Any, unit: str = "") -> dict[str, Any]:
    return {"label": label, "value": _cell(value), "unit": unit}


def section(
    key: str,
    title: str,
    *,
    number: int | None = None,
    figures: Sequence[dict[str, Any]] = (),
    tables: Sequence[dict[str, Any]] = (),
    note: str = "",
    text: str = "",
) -> dict[str, Any]:
    return {
        "key": key,
        "number": number,
        "title": title,
        "figures": list(figures),
        "tables": list(tables),
        "note": note,
        "text": text,
    }


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# ---------------------------------------------------------------- the sections


class Scope:
    """The company, optional project and [first, last] of one pack."""

    def __init__(self, company_id: int, project: Project | None, first: date, last: date) -> None:
        self.company_id = company_id
        self.project = project
        self.project_id = project.pk if project is not None else None
        self.first = first
        self.last = last
        self._visit_figures: dict[str, dict[str, Any]] | None = None

    def visit_figures(self, channel: str) -> dict[str, Any]:
        """The period's visit figures of ``channel``: every channel's from one grouped
        statement, read once per pack (several sections show them)."""
        if self._visit_figures is None:
            # A period before the current month: the hourly counts (decision 0030).
            groups = kpis.counted_visit_groups(*self.args)
            if groups is None:
                groups = visits.visit_groups(*self.args, channels=CHANNELS)
            self._visit_figures = visits.visit_figures_from_groups(groups, CHANNELS)
        return self._visit_figures[channel]

    @property
    def args(self) -> tuple[int, int | None, date, date]:
        return self.company_id, self.project_id, self.first, self.last


def gifts_section(s: Scope, number: int, title: str) -> dict[str, Any]:
    rows = service.gift_issues_for_period(*s.args)
    tasks = service.gift_tasks_for_period(*s.args)
    return section(
        "gifts",
        title,
        number=number,
        figures=[
            figure("发放次数", sum(r["issues"] for r in rows), "次"),
            figure("发放数量", sum(r["quantity"] for r in rows), "件"),
            figure("本期节点应送礼品", tasks["due"], "份"),
            figure("其中期末前已送", tasks["done"], "份"),
        ],
        tables=[
            table(
                "礼品发放明细",
                ("礼品", "场合", "发放次数", "数量", "单位"),
                [(r["gift"], r["occasion"], r["issues"], r["quantity"], r["unit"]) for r in rows],
            )
        ],
    )


STATUS_COLUMNS = ("已发送", "发送失败/未送达", "过期未发", "待发送", "已取消")


def care_section(s: Scope, number: int, title: str) -> dict[str, Any]:
    rows = care.outbox_for_period(*s.args)
    keys = [k for k, _ in care.REPORT_STATUS_GROUPS]

    def total(key: str) -> int:
        return sum(int(r[key]) for r in rows)

    return section(
        "care",
        title,
        number=number,
        figures=[
            figure("计划发送", total("total"), "条"),
            figure("已发送", total("sent"), "条"),
            figure("发送失败/未送达", total("failed"), "条"),
            figure("过期未发", total("expired"), "条"),
        ],
        tables=[
            table(
                "按类型统计（状态以生成报告时为准）",
                ("类型", "计划发送", *STATUS_COLUMNS),
                [(r["trigger"], r["total"], *(r[k] for k in keys)) for r in rows],
            )
        ],
    )


def _visit_figures(f: dict[str, Any]) -> list[dict[str, Any]]:
    ended = int(f["reached"]) + int(f["unreachable"])
    return [
        figure("应回访", f["due"], "户"),
        figure("已完成", f["done"], "户"),
        figure("接通", f["reached"], "户"),
        figure("多次未接通", f["unreachable"], "户"),
        figure("未完成", f["open"], "户"),
        figure("接通率", _rate(int(f["reached"]), ended), "%"),
        figure("平均满意度", f["satisfaction"], "分"),
    ]


def _by_purpose(f: dict[str, Any]) -> dict[str, Any]:
    return table(
        "按回访目的",
        ("回访目的", "应回访", "已完成", "接通", "多次未接通", "未完成"),
        [(r["purpose"], r["due"], r["done"], r["reached"], r["unreachable"], r["open"]) for r in f["by_purpose"]],
    )


def phone_section(s: Scope, number: int, title: str) -> dict[str, Any]:
    f = s.visit_figures(PHONE)
    return section("phone_visits", title, number=number, figures=_visit_figures(f), tables=[_by_purpose(f)])


def _records_table(records: list[dict[str, Any]], title: str) -> dict[str, Any]:
    return table(
        title,
        ("完成时间", "客户编号", "客户", "楼盘", "回访人", "回访目的", "满意度", "客户意见"),
        [
            (
                r["completed_at"],
                *customer_cells(r["customer_number"], r["customer_name"]),
                r["project"],
                r["assignee"],
                r["purpose"],
                r["satisfaction"],
                _text(r["opinions"]),
            )
            for r in records
        ],
    )


def face_to_face_section(s: Scope, number: int, title: str, key: str) -> dict[str, Any]:
    f = s.visit_figures(FACE_TO_FACE)
    records = visits.visit_records_for_period(*s.args, channel=FACE_TO_FACE)
    return section(
        key,
        title,
        number=number,
        figures=_visit_figures(f),
        tables=[_records_table(records, "面访记录（本期完成）"), _by_purpose(f)],
    )


def issues_section(s: Scope, number: int, title: str) -> dict[str, Any]:
    raised = visits.visit_issues_for_period(*s.args)
    received = complaints.customer_issues_for_period(*s.args)
    return section(
        "issues",
        title,
        number=number,
        figures=[figure("回访中反映的问题", len(raised), "条"), figure("客服受理的客户问题", len(received), "条")],
        tables=[
            table(
                "回访中客户反映的问题",
                ("登记时间", "客户编号", "客户", "楼盘", "类别", "责任部门", "问题描述", "状态", "处理结果"),
                [
                    (
                        r["raised_at"],
                        *customer_cells(r["customer_number"], r["customer_name"]),
                        r["project"],
                        r["category"],
                        r["department"],
                        _text(r["description"]),
                        r["status"],
                        _text(r["resolution"]),
                    )
                    for r in raised
                ],
            ),
            table(
                "客服受理的客户反映问题（首问负责）",
                ("受理时间", "事项编号", "楼盘", "事项", "客户反映的问题", "期末状态"),
                [
                    (r["received_at"], r["number"], r["project"], r["subject"], _text(r["description"]), r["state"])
                    for r in received
                ],
            ),
        ],
    )


def complaints_section(s: Scope, number: int, title: str) -> dict[str, Any]:
    data = complaints.complaints_for_period(*s.args)
    rows: list[dict[str, Any]] = data["rows"]
    by_category: dict[str, int] = {}
    for r in rows:
        by_category[r["category"]] = by_category.get(r["category"], 0) + 1
    return section(
        "complaints",
        title,
        number=number,
        figures=[
            figure("本期登记投诉", len(rows), "件"),
            figure("其中期末前已处理", sum(1 for r in rows if r["state"] == "已处理"), "件"),
            figure("本期处理完成（含以前登记）", data["resolved_in_period"], "件"),
            figure("期末未结投诉", data["open_at_end"], "件"),
        ],
        tables=[
            table("按类别", ("类别", "件数"), sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))),
            table(
                "投诉明细",
                ("投诉编号", "登记时间", "楼盘", "类别", "渠道", "投诉内容", "责任人", "期末状态", "满意度"),
                [
                    (
                        r["number"],
                        r["registered_at"],
                        r["project"],
                        r["category"],
                        r["channel"],
                        _text(r["content"]),
                        r["assignee"],
                        r["state"],
                        r["satisfaction"],
                    )
                    for r in rows
                ],
            ),
        ],
    )


def media_section(s: Scope, number: int, title: str) -> dict[str, Any]:
    data = complaints.media_watch_for_period(*s.args)
    checks: list[dict[str, Any]] = data["checks"]
    findings: list[dict[str, Any]] = data["findings"]
    sentiments: dict[str, int] = {}
    for f in findings:
        sentiments[f["sentiment"]] = sentiments.get(f["sentiment"], 0) + 1
    return section(
        "media",
        title,
        number=number,
        figures=[
            figure("固定媒体（启用）", data["active_media"], "个"),
            figure("本期浏览记录", len(checks), "次"),
            figure("本期舆情记录", len(findings), "条"),
            figure("其中负面", sentiments.get("负面", 0), "条"),
        ],
        tables=[
            table(
                "媒体浏览记录",
                ("周（周一）", "媒体", "浏览人", "浏览时间", "备注"),
                [(c["week_on"], c["medium"], c["checked_by"], c["checked_at"], _text(c["note"])) for c in checks],
            ),
            table(
                "舆情记录",
                ("发现时间", "来源媒体", "楼盘", "倾向", "内容摘要", "期末前已回应", "转为投诉"),
                [
                    (
                        f["found_at"],
                        f["medium"],
                        f["project"],
                        f["sentiment"],
                        _text(f["summary"]),
                        f["responded"],
                        f["complaint"],
                    )
                    for f in findings
                ],
            ),
        ],
    )


def maintenance_section(s: Scope, number: int, title: str) -> dict[str, Any]:
    """客户维护工作进展情况: the visits due in the period across every channel and the
    milestone gifts, as the measurable part of customer maintenance."""
    rows = []
    for channel, label in ((PHONE, "电话回访"), (FACE_TO_FACE, "面访"), ("sms", "短信回访"), ("wechat", "微信回访")):
        f = s.visit_figures(channel)
        rows.append((label, f["due"], f["done"], f["open"], _rate(int(f["done"]), int(f["due"]))))
    tasks = service.gift_tasks_for_period(*s.args)
    rows.append(
        (
            "节点礼品",
            tasks["due"],
            tasks["done"],
            tasks["due"] - tasks["done"] - tasks["cancelled"],
            _rate(tasks["done"], tasks["due"]),
        )
    )
    return section(
        "maintenance",
        title,
        number=number,
        tables=[table("维护工作完成进度（期限在本期）", ("工作", "应完成", "已完成", "未完成", "完成率(%)"), rows)],
    )


def focus_section(number: int, title: str) -> dict[str, Any]:
    return section("next_focus", title, number=number, text="next_focus")


def ledgers_sections(s: Scope, deals_title: str) -> list[dict[str, Any]]:
    ledgers = customers.deal_ledgers_for_period(*s.args)
    columns = ("日期", "客户编号", "客户", "楼盘", "房号", "置业顾问", "成交总价(元)", "期末已退房")

    def deal_rows(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [
            (
                r["on"],
                *customer_cells(r["customer_number"], r["customer_name"]),
                r["project"],
                r["unit"],
                r["consultant"],
                r["price"],
                r["cancelled"],
            )
            for r in rows
        ]

    care_rows = care.care_ledger_for_period(*s.args)
    phone_f = s.visit_figures(PHONE)
    opinions = visits.visit_records_for_period(*s.args, channel=PHONE, with_opinions_only=True)
    ratings: dict[int, int] = phone_f["ratings"]
    return [
        section(
            "deal_ledgers",
            deals_title,
            figures=[
                figure("认购", len(ledgers["subscriptions"]), "套"),
                figure("签约", len(ledgers["contracts"]), "套"),
            ],
            tables=[
                table("认购客户台帐", columns, deal_rows(ledgers["subscriptions"])),
                table("签约客户台帐", columns, deal_rows(ledgers["contracts"])),
            ],
        ),
        section(
            "care_ledger",
            "温馨速递认购、签约、工程进度及生日客户的台帐",
            tables=[
                table(
                    "温馨速递台帐（状态以生成报告时为准）",
                    ("类别", "短信类型", "客户编号", "客户", "楼盘", "计划发送时间", "状态"),
                    [
                        (
                            r["kind"],
                            r["trigger"],
                            *customer_cells(r["customer_number"], str(r["customer_name"])),
                            r["project"],
                            r["scheduled_at"],
                            r["status"],
                        )
                        for r in care_rows
                    ],
                )
            ],
        ),
        section(
            "phone_analysis",
            "电话回访的分析内容",
            figures=[
                figure("平均满意度", phone_f["satisfaction"], "分"),
                figure("满意率（4–5 分）", _rate(ratings[4] + ratings[5], sum(ratings.values())), "%"),
            ],
            tables=[
                table("满意度分布", ("评分", "户数"), [(f"{k} 分", ratings[k]) for k in range(1, 6)]),
                _records_table(opinions, "客户意见"),
            ],
        ),
    ]


def summary_section(title: str) -> dict[str, Any]:
    return section("summary", title, text="summary")


def weekly(s: Scope) -> list[dict[str, Any]]:
    """周报 (seed 001 八): the ledgers and the work summary named first, then items 1–9."""
    return [
        *ledgers_sections(s, "本周认购、签约客户台帐"),
        summary_section("本周工作总结"),
        gifts_section(s, 1, "本周礼品发放情况"),
        care_section(s, 2, "本周温馨速递短信发送情况"),
        phone_section(s, 3, "本周客户电话回访情况"),
        issues_section(s, 4, "本周客户所反映问题"),
        complaints_section(s, 5, "本周客户投诉情况汇报"),
        media_section(s, 6, "媒体监控情况汇报"),
        maintenance_section(s, 7, "客户维护工作进展情况"),
        focus_section(8, "下周客户维护工作重点"),
        face_to_face_section(s, 9, "客户面访情况记录", "face_visits"),
    ]


def monthly(s: Scope) -> list[dict[str, Any]]:
    """月报 (seed 001 八): the ledgers and the work summary, then items 1–8."""
    return [
        *ledgers_sections(s, "本月认购、签约客户台帐"),
        summary_section("本月工作总结"),
        gifts_section(s, 1, "本月礼品发放情况"),
        care_section(s, 2, "本月温馨速递短信发送情况"),
        face_to_face_section(s, 3, "本月客户面访情况", "face_visits"),
        phone_section(s, 4, "本月电话回访情况"),
        complaints_section(s, 5, "本月客户投诉情况汇报"),
        media_section(s, 6, "媒体监控情况汇报"),
        maintenance_section(s, 7, "客户维护工作进展情况"),
        focus_section(8, "下月客户维护工作重点"),
    ]


def daily_inspection(s: Scope) -> list[dict[str, Any]]:
    """每日巡查报告: each project's report of the day (crm.service), as written at 18:00."""
    reports = service.inspection_reports_for_day(s.company_id, s.project_id, s.first)
    if not reports:
        return [section("inspection", "每日巡查报告", note="当日尚无巡查报告（每日 18:00 后生成）")]
    sections = []
    for r in reports:
        summary = r["summary"]
        figures = [figure("已巡查", bool(summary.get("inspected")))]
        if summary.get("inspected"):
            figures += [
                figure("巡查人", summary.get("inspector", "")),
                figure("完成时间", (summary.get("completed_at") or "未完成")[:16].replace("T", " ")),
            ]
        figures.append(figure("10:00 前未完成", bool(summary.get("late"))))
        findings = summary.get("findings", [])
        figures.append(figure("11:00 前未处理的问题", sum(1 for f in findings if f.get("overdue")), "项"))
        sections.append(
            section(
                f"inspection_{r['project_id']}",
                f"{r['project']} 每日巡查报告",
                figures=figures,
                tables=[
                    table(
                        "巡查结果",
                        ("区域", "结果", "说明"),
                        [(x["area"], x["result"], _text(x["note"])) for x in summary.get("results", [])],
                    ),
                    table(
                        "发现的问题",
                        ("区域", "问题描述", "责任部门", "已处理", "处理情况", "超时"),
                        [
                            (
                                f["area"],
                                _text(f["description"]),
                                f["department"],
                                bool(f["handled"]),
                                _text(f["handled_note"]),
                                bool(f["overdue"]),
                            )
                            for f in findings
                        ],
                    ),
                ],
                note="" if summary.get("inspected") else "当日未巡查",
            )
        )
    return sections


def complaint_monthly(s: Scope, *, now: datetime) -> list[dict[str, Any]]:
    """客户投诉分析报告 (seed 002 5.1): the figures of crm.complaints.analysis, frozen."""
    report = complaints.complaint_analysis_for_scope(s.company_id, s.first, now=now, project=s.project)
    cur, prev = report.current, report.previous

    def rows(label: str, a: Any, b: Any) -> tuple[Any, ...]:
        return (label, a, b)

    def breakdown(items: Iterable[Any]) -> list[tuple[Any, ...]]:
        return [(b.label, b.current, b.previous) for b in items]

    return [
        section(
            "complaint_figures",
            "投诉数量与处理时效",
            tables=[
                table(
                    "本月与上月",
                    ("指标", "本月", "上月"),
                    [
                        rows("投诉总数（件）", cur.total, prev.total),
                        rows("首次响应及时率（%）", cur.first_response_rate, prev.first_response_rate),
                        rows("按时处理率（%）", cur.resolution_rate, prev.resolution_rate),
                        rows("平均满意度（分）", cur.satisfaction_avg, prev.satisfaction_avg),
                        rows("满意率（4–5 分，%）", cur.satisfied_rate, prev.satisfied_rate),
                        rows("重复投诉率（%）", cur.repeat_rate, prev.repeat_rate),
                        rows("超时升级（件）", cur.escalated, prev.escalated),
                        rows("已撤销（件）", cur.cancelled, prev.cancelled),
                    ],
                )
            ],
            figures=[figure("月末未结投诉", report.open_count, "件")],
        ),
        section(
            "complaint_category",
            "投诉分类",
            tables=[table("按类别", ("类别", "本月", "上月"), breakdown(report.by_category))],
        ),
        section(
            "complaint_channel",
            "投诉渠道",
            tables=[table("按渠道", ("渠道", "本月", "上月"), breakdown(report.by_channel))],
        ),
        section(
            "complaint_project",
            "各楼盘投诉",
            tables=[table("按楼盘", ("楼盘", "本月", "上月"), breakdown(report.by_project))],
        ),
        section(
            "complaint_satisfaction",
            "客户满意度",
            tables=[
                table(
                    "满意度分布",
                    ("评分", "本月", "上月"),
                    [(f"{k} 分", cur.ratings[k], prev.ratings[k]) for k in sorted(cur.ratings)],
                )
            ],
        ),
        section(
            "complaint_open",
            "月末未结投诉",
            tables=[
                table(
                    "未结投诉（按处理期限）",
                    ("投诉编号", "楼盘", "类别", "登记时间", "处理期限", "责任人"),
                    [
                        (
                            c.number,
                            c.project.name,
                            c.category.name,
                            c.registered_at,
                            c.resolution_due_at,
                            str(c.assignee or ""),
                        )
                        for c in report.open_items
                    ],
                )
            ],
        ),
    ]


def visit_monthly(s: Scope) -> list[dict[str, Any]]:
    """月度回访统计 (seed 001: 每月底对当月满意度回访情况进行统计分析): crm.visits.stats
    per visitor, frozen."""
    # An earlier month: its visits counted per visitor by the hourly KPI job (decision 0030).
    counted = kpis.counted_visitor_counts(s.company_id, s.project_id, s.first.replace(day=1))
    rows = sorted(
        visits.visit_month_for_scope(s.company_id, s.project_id, s.first.year, s.first.month, counted=counted),
        key=lambda r: (r.name, r.assignee_id or 0),
    )
    categories = sorted({c for r in rows for c in r.issues})
    due = sum(r.due for r in rows)
    done = sum(r.done for r in rows)
    return [
        section(
            "visit_stats",
            "回访满意度统计",
            figures=[
                figure("应回访", due, "户"),
                figure("已完成", done, "户"),
                figure("完成率", _rate(done, due), "%"),
                figure("接通", sum(r.reached for r in rows), "户"),
                figure("多次未接通", sum(r.unreachable for r in rows), "户"),
            ],
            tables=[
                table(
                    "按回访人",
                    (
                        "回访人",
                        "应回访",
                        "已完成",
                        "按时完成",
                        "接通",
                        "多次未接通",
                        "未完成",
                        "接通率(%)",
                        "按时率(%)",
                        "平均满意度",
                    ),
                    [
                        (
                            r.name,
                            r.due,
                            r.done,
                            r.on_time,
                            r.reached,
                            r.unreachable,
                            r.open,
                            r.reach_rate,
                            r.on_time_rate,
                            r.satisfaction,
                        )
                        for r in rows
                    ],
                )
            ],
        ),
        section(
            "visit_issues",
            "回访中反映的问题（按类别）",
            tables=[
                table(
                    "按回访人与类别",
                    ("回访人", *categories, "合计"),
                    [(r.name, *(r.issues.get(c, 0) for c in categories), r.issue_total) for r in rows if r.issue_total],
                )
            ],
        ),
    ]


TITLES = {
    Kind.DAILY_INSPECTION: "每日巡查报告",
    Kind.WEEKLY: "周报",
    Kind.MONTHLY: "月报",
    Kind.COMPLAINT_MONTHLY: "客户投诉分析报告",
    Kind.VISIT_MONTHLY: "月度回访统计",
}


def build(
    kind: str, *, company_id: int, project: Project | None, first: date, last: date, now: datetime
) -> dict[str, Any]:
    """The snapshot of one pack (see the module docstring).

    Built with the cyclic collector paused (crm.lib.collector): a month's pack holds about
    half a million containers and none of them is a cycle."""
    with collector.paused():
        return _build(kind, Scope(company_id, project, first, last), now=now)


def _build(kind: str, s: Scope, *, now: datetime) -> dict[str, Any]:
    if kind == Kind.WEEKLY:
        sections = weekly(s)
    elif kind == Kind.MONTHLY:
        sections = monthly(s)
    elif kind == Kind.DAILY_INSPECTION:
        sections = daily_inspection(s)
    elif kind == Kind.COMPLAINT_MONTHLY:
        sections = complaint_monthly(s, now=now)
    elif kind == Kind.VISIT_MONTHLY:
        sections = visit_monthly(s)
    else:
        raise ValueError(kind)
    return {
        "title": TITLES[Kind(kind)],
        "period": [f"{s.first:%Y-%m-%d}", f"{s.last:%Y-%m-%d}"],
        "scope": s.project.name if s.project is not None else "全部楼盘",
        "sections": sections,
    }
