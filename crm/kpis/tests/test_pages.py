"""The dashboard, its Excel export, the scorecards with the improvement plan, the
management home, the workbench card and the API, on the October 2026 dataset."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from crm.accounts.roles import Role
from crm.core.audit import AuditLog
from crm.kpis import periods
from crm.kpis.definitions import KpiQuery
from crm.kpis.tests.conftest import OCT_START, cst
from crm.visits import services
from crm.visits.models import ImprovementPlan

pytestmark = pytest.mark.django_db
OCTOBER = "/kpis/?kind=month&value=2026-10"


def test_the_dashboard_shows_every_kpi_with_its_parts_and_charts(october, manager, login):
    response = login(manager).get(OCTOBER)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="complaint_rate">80.00<' in html
    assert 'data-figure="resolution_timeliness">50.0%<' in html
    assert 'data-figure="retention">50.0%<' in html
    assert html.count('class="stat kpi"') == 14
    # Trend and breakdown charts, each with its table.
    for key in ("trend-satisfaction", "trend-timeliness", "trend-visits", "trend-volume", "by-project", "by-category"):
        assert f'id="chart-{key}"' in html
    assert "2025-11" in html
    assert "2026-10" in html
    assert "锦华苑" in html
    assert "滨江御府" in html


def test_the_dashboards_trend_matches_the_months_figures(october, manager, login):
    context = login(manager).get(OCTOBER).context
    trend = context["trend"]
    assert trend.labels[-1] == "2026-10"
    assert len(trend.labels) == 12
    assert trend.series["complaints"][-1] == 4
    assert trend.series["complaints"][-2] == 1  # September: k1
    assert str(trend.series["complaint_rate"][-1]) == "80.00"
    assert str(trend.series["visit_satisfaction"][-1]) == "33.3"
    assert str(trend.series["visit_satisfaction"][-2]) == "100.0"  # September: t6
    assert str(trend.series["visit_on_time"][-1]) == "40.0"
    assert trend.series["care_sent"][-1] == 2
    assert trend.series["gifts_issued"][-1] == 2


def test_breakdowns_by_project_and_category(october, manager, login):
    context = login(manager).get(OCTOBER).context
    rows = {p.name: p for p in context["projects"]}
    assert rows["锦华苑"].complaints == 3
    assert rows["锦华苑"].customers == 4
    assert str(rows["锦华苑"].complaint_rate) == "75.00"
    assert rows["滨江御府"].complaints == 1
    (category,) = context["categories"]
    assert (category.name, category.complaints, category.resolved_on_time, category.repeats) == ("服务质量", 4, 2, 1)


def test_periods_week_quarter_and_custom(october, manager, login):
    client = login(manager)
    week = client.get("/kpis/?kind=week&value=2026-W41").context  # 10-05 .. 10-11
    assert week["period"].start == date(2026, 10, 5)
    assert {f.key: f.numerator for f in week["figures"]}["complaint_rate"] == 2
    quarter = client.get("/kpis/?kind=quarter&value=2026-Q4").context
    assert {f.key: f.numerator for f in quarter["figures"]}["complaint_rate"] == 5
    custom = client.get("/kpis/?kind=custom&start=2026-10-31&end=2026-10-31").context
    assert {f.key: f.numerator for f in custom["figures"]}["complaint_rate"] == 1
    bad = client.get("/kpis/?kind=custom&start=2026-10-31&end=2026-10-01")
    assert bad.status_code == 400
    assert "结束日期不能早于开始日期" in bad.content.decode()


def test_period_parsing():
    today = date(2026, 12, 6)
    assert periods.parse("month", "", today=today) == periods.Period("month", date(2026, 12, 1), date(2026, 12, 31))
    assert periods.parse("quarter", "2026-Q1", today=today).end == date(2026, 3, 31)
    assert periods.parse("week", "2026-W53", today=today).start == date(2026, 12, 28)
    months = periods.trend_months(periods.parse("quarter", "2026-Q4", today=today))
    assert (months[0].start, months[-1].end) == (date(2026, 1, 1), date(2026, 12, 31))


def test_a_project_outside_the_scope_is_refused(october, consultant, project_b, login):
    response = login(consultant).get(f"{OCTOBER}&project={project_b.pk}")
    assert response.status_code == 400


def test_a_role_without_the_permission_gets_403(october, make_staff, login):
    duty = make_staff("duty", Role.DUTY)
    assert login(duty).get(OCTOBER).status_code == 403


def test_the_export_has_one_sheet_per_section_in_chinese_and_is_audited(october, manager, login):
    response = login(manager).get("/kpis/export/?kind=month&value=2026-10")
    assert response.status_code == 200
    book = load_workbook(BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["指标", "近12个月趋势", "按楼盘", "按投诉类别"]
    rows = list(book["指标"].values)
    header = rows.index(("指标", "数值", "单位", "分子", "分子口径", "分母", "分母口径", "说明"))
    figures = {r[0]: r for r in rows[header + 1 :]}
    assert figures["投诉率"][1:4] == (80, "件/百户", 4)
    assert figures["投诉率"][5] == 5
    assert figures["按时处理率"][1] == 50
    category = list(book["按投诉类别"].values)
    assert category[1][:4] == ("服务质量", 4, 2, 1)
    log = AuditLog.objects.get(action=AuditLog.Action.EXPORT, actor=manager)
    assert "指标看板" in log.summary


def test_the_export_respects_the_scope(october, leader, login):
    response = login(leader).get("/kpis/export/?kind=month&value=2026-10")
    book = load_workbook(BytesIO(b"".join(response.streaming_content)))
    projects = [r[0] for r in list(book["按楼盘"].values)[1:]]
    assert projects == ["锦华苑"]


def test_a_consultant_may_not_export(october, consultant, login):
    assert login(consultant).get("/kpis/export/").status_code == 403


# ---------------------------------------------------------------- scorecards


def test_scorecards_of_the_team_for_its_leader(october, leader_of_team, login):
    context = login(leader_of_team).get("/kpis/scorecards/?month=2026-10").context
    cards = {c.consultant.username: c for c in context["cards"]}
    assert set(cards) == {"consultant", "teammate"}
    mine = cards["consultant"]
    assert (mine.due, mine.on_time, str(mine.on_time_rate)) == (3, 1, "33.3")
    assert (mine.rated, mine.satisfied, str(mine.average)) == (2, 1, "4.00")
    assert mine.complaints == 2  # k2, k3 about c1
    assert mine.referrals == 1  # c2, referred by c1
    assert mine.portraits == 0  # none submitted in the fixture's month
    assert mine.may_write_plan
    teammate = cards["teammate"]
    assert (teammate.due, teammate.on_time, teammate.referrals) == (1, 0, 1)


def test_scorecard_links_lead_to_as_many_rows(october, leader_of_team, login):
    client = login(leader_of_team)
    card = next(
        c
        for c in client.get("/kpis/scorecards/?month=2026-10").context["cards"]
        if c.consultant.username == "consultant"
    )
    for key, expected in (("due", 3), ("on_time", 1), ("rated", 2), ("satisfied", 1)):
        assert client.get(card.links[key]).context["page"].paginator.count == expected, key
    assert client.get(card.links["referrals"]).status_code == 200


def test_a_consultant_sees_only_their_own_scorecard(october, consultant, login):
    html = login(consultant).get("/kpis/scorecards/?month=2026-10")
    cards = html.context["cards"]
    assert [c.consultant.username for c in cards] == ["consultant"]
    assert not cards[0].may_write_plan
    assert "未启用" not in html.content.decode()


def test_the_team_leader_writes_the_plan_and_the_consultant_reads_it(october, leader_of_team, consultant, login):
    client = login(leader_of_team)
    response = client.post(
        "/kpis/scorecards/plan/", {"consultant": consultant.pk, "month": "2026-10", "plan": "每天先打逾期回访"}
    )
    assert response.status_code == 302
    plan = ImprovementPlan.objects.get(consultant=consultant, month=date(2026, 10, 1))
    assert (plan.plan, plan.updated_by) == ("每天先打逾期回访", leader_of_team)
    assert AuditLog.objects.filter(action=AuditLog.Action.UPDATE, summary__contains="改进计划").exists()
    page = login(consultant).get("/kpis/scorecards/?month=2026-10").content.decode()
    assert "每天先打逾期回访" in page


def test_only_the_consultants_own_team_leader_or_the_director_writes_the_plan(
    october, consultant, teammate, outsider, director
):
    from crm.core.errors import PermissionDenied

    for actor in (teammate, outsider, consultant):
        with pytest.raises(PermissionDenied):
            services.save_improvement_plan(consultant, actor=actor, month=date(2026, 10, 1), plan="x")
    assert not ImprovementPlan.objects.exists()
    services.save_improvement_plan(consultant, actor=director, month=date(2026, 10, 1), plan="按期率提升到 90%")
    assert ImprovementPlan.objects.get().updated_by == director


def test_another_teams_consultant_is_a_404_for_the_plan(october, leader_of_team, outsider, login):
    response = login(leader_of_team).post(
        "/kpis/scorecards/plan/", {"consultant": outsider.pk, "month": "2026-10", "plan": "x"}
    )
    assert response.status_code == 404


def test_the_scorecard_export(october, leader_of_team, login):
    response = login(leader_of_team).get("/kpis/scorecards/export/?month=2026-10")
    book = load_workbook(BytesIO(b"".join(response.streaming_content)))
    rows = list(book["顾问月度考核"].values)
    assert rows[2][:4] == ("置业顾问", "到期回访", "按期完成", "按期完成率（%）")
    names = {r[0]: r for r in rows[3:]}
    assert names["王顾问"][1:3] == (3, 1)
    assert names["王顾问"][9] == 0


def test_the_portraits_column_counts_the_months_portraits(october, leader_of_team, consultant, project):
    from datetime import datetime

    from crm.kpis import scorecards
    from crm.lib.dates import CHINA_TZ
    from crm.portraits.models import Portrait

    c1 = october.customers["c1"]

    def portrait(day: date) -> Portrait:
        moment = datetime(day.year, day.month, day.day, 10, tzinfo=CHINA_TZ)
        return Portrait.objects.create(
            company=consultant.company,
            project=project,
            customer=c1,
            consultant=consultant,
            quarter=f"{day.year}Q{(day.month - 1) // 3 + 1}",
            submitted_on=day,
            submitted_at=moment,
            updated_at=moment,
            industry="other",
            family_structure="other",
            hobby="other",
            living_situation="other",
            purchase_motive="other",
            decision_maker="other",
        )

    portrait(date(2026, 9, 30))  # September: not October's
    portrait(date(2026, 10, 1))
    portrait(date(2026, 10, 31))
    cards = {
        c.consultant.username: c for c in scorecards.scorecards(leader_of_team, periods.month_of(date(2026, 10, 1)))
    }
    assert (cards["consultant"].portraits, cards["teammate"].portraits) == (2, 0)


def test_the_management_home_lists_breaches_and_approvals(october, manager, login, time_machine):
    time_machine.move_to(cst(2026, 11, 20, 10))
    response = login(manager).get("/kpis/home/")
    assert response.status_code == 200
    context = response.context
    # Open and past a deadline on 11-20: k1 (09-29), k4 (10-31) and k5 (11-01).
    assert context["breached_count"] == 3
    assert {c.number for c in context["breached"]} == {october.complaints[k].number for k in ("k1", "k4", "k5")}
    assert [a["label"] for a in context["approvals"]] == [
        "投诉处理方案待审批",
        "温馨速递待综合组审批",
        "批量导出待审批",
    ]
    assert "管理首页" in response.content.decode()
    # 管理层 may not open the SMS approvals page (403): the line is shown without a link to it.
    care_line = context["approvals"][1]
    assert care_line["url"] == ""
    assert 'href="/sms/approvals/"' not in response.content.decode()
    # The breached list's heading is inset like the other table cards' (not flush with the border).
    assert '<h2 class="card-title">已超时的投诉' in response.content.decode()


def test_a_consultant_has_no_management_home(october, consultant, login):
    assert login(consultant).get("/kpis/home/").status_code == 403


def test_the_workbench_card_for_management(october, manager, consultant, time_machine):
    from crm.kpis.cards import workbench_cards

    time_machine.move_to(cst(2026, 10, 31, 23, 0))
    (card, action) = workbench_cards(manager, today=date(2026, 10, 31))
    assert card.key == "kpis_home"
    stats = {s.key: s for s in card.stats}
    assert stats["complaint_rate"].value == 4
    # The big number is a count: the label names it before the rate, so 4 is not read as the rate.
    assert stats["complaint_rate"].label.startswith("本月投诉（件），投诉率 ")
    assert stats["resolution_timeliness"].label.startswith("按时处理（件），按时处理率 ")
    assert stats["breached"].url.endswith("?state=breached")
    assert action.url == "/kpis/home/"
    assert [type(c).__name__ for c in workbench_cards(consultant, today=date(2026, 10, 31))] == ["Action"]


def test_the_api_returns_the_figures_of_a_project_and_period(october, manager, project_b, client):
    client.force_login(manager)
    response = client.get("/api/kpis/", {"kind": "month", "value": "2026-10", "project": project_b.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["period"]["start"] == "2026-10-01"
    kpis = {k["key"]: k for k in body["kpis"]}
    assert (kpis["complaint_rate"]["value"], kpis["complaint_rate"]["numerator"]) == (100.0, 1)
    assert kpis["visit_satisfaction"]["denominator"] == 1
    bad = client.get("/api/kpis/", {"kind": "week", "value": "2026-41"})
    assert bad.status_code == 400


def test_the_workbench_shows_the_card_and_the_menu_the_reports(october, manager, consultant, login):
    page = login(manager).get("/")
    assert "管理首页 · 本月指标" in page.content.decode()
    labels = [item["label"] for item in page.context["menu"]]
    assert labels.index("管理首页") < labels.index("指标看板") < labels.index("顾问考核")
    mine = [item["label"] for item in login(consultant).get("/").context["menu"]]
    assert "指标看板" in mine
    assert "管理首页" not in mine


def test_by_project_hands_the_same_figures_the_kpis_count_themselves(october, manager, oct_query):
    """The dashboard computes by_project first and the figures from its summed groups
    (KpiQuery.prime); they must equal the figures each source's own aggregate gives."""
    from crm.kpis import dashboard, definitions

    own = oct_query(manager)
    primed = oct_query(manager)
    dashboard.by_project(primed)
    assert set(primed._cache) >= {"complaints", "visits", "customers:customers"}
    expected = definitions.all_figures(own)
    got = definitions.all_figures(primed)
    assert [(f.key, f.value, f.numerator, f.denominator, f.note) for f in got] == [
        (f.key, f.value, f.numerator, f.denominator, f.note) for f in expected
    ]
    assert any(f.note.startswith("平均") for f in got)  # the visits' average satisfaction is compared too


TREND_KEYS = (
    "visit_satisfaction",
    "complaint_satisfaction",
    "complaint_rate",
    "first_response_timeliness",
    "resolution_timeliness",
    "repeat_complaint_rate",
    "visit_completion",
    "visit_on_time",
    "visit_reach",
    "care_sent",
    "care_failed",
    "gifts_issued",
)


@pytest.mark.parametrize("kind", ["month", "week"])
def test_the_page_counts_once_and_every_trend_month_equals_its_own_figures(october, manager, oct_query, kind):
    """The page counts complaints, visit tasks and customers once for the period, the
    projects and the twelve months (dashboard.sources); each month of the trend must equal
    that month's own figures, and the period's figures each source's own aggregate."""
    from crm.kpis import dashboard, definitions, periods

    period = (
        periods.month_of(OCT_START)
        if kind == "month"
        else periods.Period("week", OCT_START, OCT_START + timedelta(days=6))
    )
    months = periods.trend_months(period)
    primed = KpiQuery(manager, period.start, period.end)
    counted = dashboard.sources(primed, months)
    trend = dashboard.trend(manager, (), months, counted)
    compared = 0
    for i, month in enumerate(months):
        own = definitions.by_key(KpiQuery(manager, month.start, month.end))
        for key in TREND_KEYS:
            assert trend.series[key][i] == own[key].value, (month.start, key)
            compared += own[key].value is not None
    assert compared >= 8  # October has complaints, visits, messages and gifts
    expected = definitions.all_figures(KpiQuery(manager, period.start, period.end))
    got = definitions.all_figures(primed)
    assert [(f.key, f.value, f.numerator, f.denominator) for f in got] == [
        (f.key, f.value, f.numerator, f.denominator) for f in expected
    ]


def test_the_management_card_keeps_its_month_figures_for_a_few_minutes(october, manager, login, settings):
    """At 1,000,000 customers the card's three month figures cost a second: a wide scope's
    are kept WORKBENCH_CACHE_SECONDS (the card says so), the page reads them once."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.WORKBENCH_CACHE_SECONDS = 300
    cache.clear()
    client = login(manager)
    with CaptureQueriesContext(connection) as first:
        page = client.get("/")
    assert "数字约每 5 分钟更新一次" in page.content.decode()
    card = next(c for c in page.context["workbench"].cards if c.key == "kpis_home")
    with CaptureQueriesContext(connection) as second:
        again = client.get("/")
    assert [
        (s.key, s.label, s.value)
        for s in next(c for c in again.context["workbench"].cards if c.key == "kpis_home").stats
    ] == [(s.key, s.label, s.value) for s in card.stats]
    assert len(second.captured_queries) < len(first.captured_queries)
    # The month's complaint figures (their first-response measure) are not counted again.
    assert any('"first_response_on_time"' in q["sql"] for q in first.captured_queries)
    assert not any('"first_response_on_time"' in q["sql"] for q in second.captured_queries)
