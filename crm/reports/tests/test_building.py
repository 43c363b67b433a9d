"""The sections of the packs on the known week (conftest): titles exactly seed 001's,
and the figures of each section."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from crm.reports import building, services
from crm.reports.models import Kind

from .conftest import MONDAY, SUNDAY, cst

WEEKLY_TITLES = [
    "本周认购、签约客户台帐",
    "温馨速递认购、签约、工程进度及生日客户的台帐",
    "电话回访的分析内容",
    "本周工作总结",
    "1. 本周礼品发放情况",
    "2. 本周温馨速递短信发送情况",
    "3. 本周客户电话回访情况",
    "4. 本周客户所反映问题",
    "5. 本周客户投诉情况汇报",
    "6. 媒体监控情况汇报",
    "7. 客户维护工作进展情况",
    "8. 下周客户维护工作重点",
    "9. 客户面访情况记录",
]
MONTHLY_TITLES = [
    "本月认购、签约客户台帐",
    "温馨速递认购、签约、工程进度及生日客户的台帐",
    "电话回访的分析内容",
    "本月工作总结",
    "1. 本月礼品发放情况",
    "2. 本月温馨速递短信发送情况",
    "3. 本月客户面访情况",
    "4. 本月电话回访情况",
    "5. 本月客户投诉情况汇报",
    "6. 媒体监控情况汇报",
    "7. 客户维护工作进展情况",
    "8. 下月客户维护工作重点",
]


def headings(data: dict[str, Any]) -> list[str]:
    return [f"{s['number']}. {s['title']}" if s["number"] else s["title"] for s in data["sections"]]


def by_key(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in data["sections"]}


def figures(section: dict[str, Any]) -> dict[str, Any]:
    return {f["label"]: f["value"] for f in section["figures"]}


@pytest.fixture
def weekly(week_data, company, project) -> dict[str, Any]:
    return building.build(
        Kind.WEEKLY, company_id=company.pk, project=project, first=MONDAY, last=SUNDAY, now=cst(9, 27, 20)
    )


def test_weekly_pack_has_exactly_seed_001s_sections_in_order(weekly):
    assert headings(weekly) == WEEKLY_TITLES
    assert weekly["title"] == "周报"
    assert weekly["period"] == ["2026-09-21", "2026-09-27"]


def test_monthly_pack_has_exactly_seed_001s_eight_items(week_data, company):
    data = building.build(
        Kind.MONTHLY,
        company_id=company.pk,
        project=None,
        first=date(2026, 9, 1),
        last=date(2026, 9, 30),
        now=cst(9, 30, 20),
    )
    assert headings(data) == MONTHLY_TITLES
    assert data["scope"] == "全部楼盘"


def test_gift_section_counts_only_the_weeks_issues_of_the_project(weekly):
    gifts = by_key(weekly)["gifts"]
    assert figures(gifts)["发放次数"] == 2
    assert figures(gifts)["发放数量"] == 3
    assert gifts["tables"][0]["rows"] == [["定制雨伞", "认购礼品", 2, 3, "把"]]


def test_all_projects_pack_adds_project_b(week_data, company):
    data = building.build(
        Kind.WEEKLY, company_id=company.pk, project=None, first=MONDAY, last=SUNDAY, now=cst(9, 27, 20)
    )
    assert figures(by_key(data)["gifts"])["发放数量"] == 10


def test_deal_ledgers_list_the_weeks_subscription_and_contract_with_masked_names(weekly, week_data):
    ledgers = by_key(weekly)["deal_ledgers"]
    subscriptions, contracts = ledgers["tables"]
    assert [r[0] for r in subscriptions["rows"]] == ["2026-09-22"]
    assert subscriptions["rows"][0][2] == "张*"
    assert subscriptions["rows"][0][6] == 1500000.0
    assert [(r[0], r[2]) for r in contracts["rows"]] == [("2026-09-23", "李*")]
    assert "张三" not in str(weekly)


def test_care_section_and_ledger(weekly):
    sections = by_key(weekly)
    assert figures(sections["care"])["计划发送"] == 2
    assert figures(sections["care"])["已发送"] == 1
    assert figures(sections["care"])["发送失败/未送达"] == 1
    ledger = sections["care_ledger"]["tables"][0]["rows"]
    assert [(r[0], r[1]) for r in ledger] == [("认购", "认购祝贺"), ("生日", "生日祝福")]


def test_phone_visits_and_their_analysis(weekly):
    sections = by_key(weekly)
    phone = figures(sections["phone_visits"])
    assert (phone["应回访"], phone["已完成"], phone["接通"], phone["多次未接通"]) == (2, 1, 1, 1)
    assert phone["接通率"] == 50.0
    assert phone["平均满意度"] == 5.0
    analysis = sections["phone_analysis"]
    assert analysis["tables"][0]["rows"][4] == ["5 分", 1]
    opinion = analysis["tables"][1]["rows"][0][-1]
    assert opinion.startswith("样板间很好")
    assert "13812345678" not in opinion


def test_face_to_face_record_and_issues_and_complaints_and_media(weekly, week_data):
    sections = by_key(weekly)
    face = sections["face_visits"]
    assert figures(face)["已完成"] == 1
    assert [r[0] for r in face["tables"][0]["rows"]] == ["2026-09-25 16:00"]
    issues = sections["issues"]
    assert figures(issues)["回访中反映的问题"] == 1
    assert issues["tables"][0]["rows"][0][6] == "阳台渗水"
    complaints = sections["complaints"]
    assert figures(complaints)["本期登记投诉"] == 1
    assert figures(complaints)["期末未结投诉"] == 1
    assert complaints["tables"][1]["rows"][0][0] == week_data["complaint"].number
    media = figures(sections["media"])
    assert (media["本期浏览记录"], media["本期舆情记录"], media["其中负面"]) == (1, 1, 1)


def test_free_text_sections_point_at_the_packs_text(weekly):
    sections = by_key(weekly)
    assert sections["summary"]["text"] == "summary"
    assert sections["next_focus"]["text"] == "next_focus"
    assert sections["next_focus"]["tables"] == []


def test_generating_twice_over_the_same_data_gives_the_same_snapshot(week_data, company, project):
    def make() -> dict[str, Any]:
        return building.build(
            Kind.WEEKLY, company_id=company.pk, project=project, first=MONDAY, last=SUNDAY, now=cst(9, 27, 20)
        )

    assert make() == make()


@pytest.mark.parametrize(
    ("kind", "whole_company"),
    [
        (Kind.WEEKLY, False),
        (Kind.WEEKLY, True),
        (Kind.MONTHLY, False),
        (Kind.MONTHLY, True),
        (Kind.VISIT_MONTHLY, True),  # the company's (reports.jobs)
        (Kind.VISIT_MONTHLY, False),
    ],
)
def test_a_pack_of_counted_days_reads_the_counts_and_shows_the_same(week_data, company, project, kind, whole_company):
    """Decision 0030: once the KPI job has counted September (run in October), a pack of
    September reads the visit groups from the counts, not the tasks: the same pack."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.kpis import counting
    from crm.kpis import selectors as kpis
    from crm.visits.models import VisitTask

    first, last = (MONDAY, SUNDAY) if kind == Kind.WEEKLY else (date(2026, 9, 1), date(2026, 9, 30))

    def make() -> tuple[dict[str, Any], list[str]]:
        with CaptureQueriesContext(connection) as queries:
            data = building.build(
                kind,
                company_id=company.pk,
                project=None if whole_company else project,
                first=first,
                last=last,
                now=cst(10, 15),
            )
        table = VisitTask._meta.db_table
        grouped = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]
        return data, [sql for sql in grouped if f'FROM "{table}"' in sql]

    live, live_sql = make()
    assert live_sql  # counted from the tasks
    visits = by_key(live)["visit_stats" if kind == Kind.VISIT_MONTHLY else "phone_visits"]
    assert figures(visits)["应回访"] > 0
    counting.count_months(now=cst(10, 15))
    counted, counted_sql = make()
    assert counted_sql == []  # not one statement grouping the tasks
    assert counted == live
    # The current month is not counted: a pack of October counts its tasks.
    assert kpis.counted_visit_groups(company.pk, None, date(2026, 10, 1), date(2026, 10, 31)) is None
    assert kpis.counted_visitor_counts(company.pk, None, date(2026, 10, 1)) is None


def test_daily_inspection_without_a_report_says_so(company, project):
    data = building.build(
        Kind.DAILY_INSPECTION, company_id=company.pk, project=project, first=MONDAY, last=MONDAY, now=cst(9, 21, 20)
    )
    assert data["sections"][0]["note"].startswith("当日尚无巡查报告")
    assert data["sections"][0]["figures"] == []


def test_daily_inspection_pack_reads_the_services_report(company, project, service):
    from crm.service.jobs import write_inspection_reports

    assert write_inspection_reports(now=cst(9, 21, 18, 30)) >= 1
    data = building.build(
        Kind.DAILY_INSPECTION, company_id=company.pk, project=project, first=MONDAY, last=MONDAY, now=cst(9, 21, 20)
    )
    section = data["sections"][0]
    assert section["title"] == "锦华苑 每日巡查报告"
    assert section["note"] == "当日未巡查"
    assert figures(section)["10:00 前未完成"] == "是"


def test_complaint_monthly_reuses_the_analysis(week_data, company):
    data = building.build(
        Kind.COMPLAINT_MONTHLY,
        company_id=company.pk,
        project=None,
        first=date(2026, 9, 1),
        last=date(2026, 9, 30),
        now=cst(10, 8),
    )
    assert data["title"] == "客户投诉分析报告"
    rows = by_key(data)["complaint_figures"]["tables"][0]["rows"]
    assert rows[0] == ["投诉总数（件）", 1, 0]
    assert by_key(data)["complaint_category"]["tables"][0]["rows"] == [["服务质量", 1, 0]]


def test_visit_monthly_per_visitor(week_data, company):
    data = building.build(
        Kind.VISIT_MONTHLY,
        company_id=company.pk,
        project=None,
        first=date(2026, 9, 1),
        last=date(2026, 9, 30),
        now=cst(10, 8),
    )
    stats = by_key(data)["visit_stats"]
    assert figures(stats)["应回访"] == 3
    assert figures(stats)["已完成"] == 2
    assert stats["tables"][0]["rows"][0][0] == "王顾问"


def test_mask_name():
    assert building.mask_name("张三") == "张*"
    assert building.mask_name("欧阳娜娜") == "欧***"
    assert building.mask_name("") == ""


def test_generate_pack_rejects_an_inverted_period(company, project):
    from crm.core.errors import DomainError

    with pytest.raises(DomainError):
        services.generate_pack(
            Kind.WEEKLY, company_id=company.pk, project=project, first=SUNDAY, last=MONDAY, now=cst(9, 27)
        )


def test_counted_visit_statistics_name_visitors_as_they_are_now(week_data, company, consultant):
    """Counted rows carry ids, not names: the names are read when the pack is built, for
    the company's staff and for a visitor outside it (a platform account given a task)."""
    from crm.accounts.models import User
    from crm.kpis import counting
    from crm.visits.models import VisitTask

    outsider = User.objects.create_user("platform_helper", password="x", display_name="平台协助")
    VisitTask.objects.filter(assignee=consultant).exclude(status=VisitTask.Status.DONE).update(assignee=outsider)

    def names() -> list[str]:
        data = building.build(
            Kind.VISIT_MONTHLY,
            company_id=company.pk,
            project=None,
            first=date(2026, 9, 1),
            last=date(2026, 9, 30),
            now=cst(10, 15),
        )
        return [row[0] for row in by_key(data)["visit_stats"]["tables"][0]["rows"]]

    live = names()
    assert "平台协助" in live
    counting.count_months(now=cst(10, 15))
    assert names() == live
    User.objects.filter(pk=consultant.pk).update(display_name="改名后")
    after = names()
    assert "改名后" in after
    assert "平台协助" in after
    assert "待分派" not in after
