"""往月指标计数 (decision 0030): the dashboard read from the closed months' counts shows
exactly what counting every row live shows, for every kind of scope and period, on the
October 2026 dataset counted on 2026-11-15 (October and the months before it are counted;
November is the current month, counted live)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.kpis import counting, dashboard, definitions, periods
from crm.kpis.definitions import KpiQuery
from crm.kpis.models import MonthCount, MonthCountRun, VisitDayCount
from crm.kpis.tests.conftest import cst
from crm.visits.models import VisitTask

pytestmark = pytest.mark.django_db
COUNTED_ON = cst(2026, 11, 15, 10, 0)


def shown(user: User, period: periods.Period, project_ids: tuple[int, ...] = ()) -> tuple[Any, ...]:
    """Everything the dashboard shows: each figure's value and parts, the trend, the projects."""
    q = KpiQuery(user, period.start, period.end, project_ids)
    months = periods.trend_months(period)
    counted = dashboard.sources(q, months)
    projects = dashboard.by_project(q, counted)
    figures = [(f.key, f.value, f.numerator, f.denominator) for f in definitions.all_figures(q)]
    trend = dashboard.trend(user, project_ids, months, counted)
    return figures, trend.series, [(p.name, p.complaints, p.customers, p.visit_completion) for p in projects]


def live_and_counted(user: User, period: periods.Period, project_ids: tuple[int, ...] = ()) -> tuple[Any, Any]:
    MonthCountRun.objects.all().delete()
    MonthCount.objects.all().delete()
    live = shown(user, period, project_ids)
    counting.count_months(now=COUNTED_ON)
    return live, shown(user, period, project_ids)


PERIODS = {
    "october": periods.Period("month", date(2026, 10, 1), date(2026, 10, 31)),
    "september": periods.Period("month", date(2026, 9, 1), date(2026, 9, 30)),
    "a week in october": periods.Period("week", date(2026, 10, 5), date(2026, 10, 11)),
    "q4 with the live november": periods.Period("quarter", date(2026, 10, 1), date(2026, 12, 31)),
    "custom across months": periods.Period("custom", date(2026, 9, 15), date(2026, 10, 31)),
    "november (current)": periods.Period("month", date(2026, 11, 1), date(2026, 11, 30)),
}


@pytest.fixture
def team_and_project_b(make_staff, teams, project_b) -> User:
    """Two roles: 组长 of 销售一组 (TEAM scope: the team's customers, all in 锦华苑) and 客服
    for 滨江御府 (PROJECT scope): the team's rows lie outside the counted project."""
    return make_staff("both", Role.TEAM_LEADER, Role.SERVICE, team=teams[0], projects=(project_b,))


@pytest.mark.parametrize("period", PERIODS.values(), ids=PERIODS.keys())
@pytest.mark.parametrize("who", ["manager", "director", "service", "team_and_project_b"])
def test_the_counts_show_what_counting_live_shows(october, request, who, period, time_machine):
    time_machine.move_to(COUNTED_ON)
    user = request.getfixturevalue(who)
    live, counted = live_and_counted(user, period)
    assert counted == live
    assert any(f[2] for f in live[0])  # the dataset has rows for this user: the comparison is not of zeros


def test_the_counts_of_one_chosen_project(october, director, project_b, time_machine):
    time_machine.move_to(COUNTED_ON)
    live, counted = live_and_counted(director, PERIODS["october"], (project_b.pk,))
    assert counted == live


def test_the_counted_months_are_not_counted_again(october, manager, director, time_machine):
    """With the counts, the page reads the visit tasks of the live month alone (November),
    not the twelve months of its trend; without them, all twelve. A project-scoped viewer
    also reads, for the counted months, only what they see outside their projects."""
    time_machine.move_to(COUNTED_ON)
    period = periods.Period("month", date(2026, 11, 1), date(2026, 11, 30))

    def task_statements(user: User) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            shown(user, period)
        table = VisitTask._meta.db_table
        return [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"] and "GROUP BY" in q["sql"]]

    def of_counted_months(sql: str) -> bool:
        return "2025-12-01" in sql or "2026-10-31" in sql

    MonthCountRun.objects.all().delete()
    assert any(of_counted_months(sql) for sql in task_statements(manager))
    counting.count_months(now=COUNTED_ON)
    statements = task_statements(manager)
    assert statements
    assert not any(of_counted_months(sql) for sql in statements), statements
    beyond = [sql for sql in task_statements(director) if of_counted_months(sql)]
    assert beyond
    assert all('NOT ("visits_visittask"."project_id" IN' in sql for sql in beyond), beyond


def test_a_change_to_a_counted_month_shows_at_the_next_count(october, manager, time_machine):
    """The counts are those of the last run (docs/kpis.md): a task of October completed
    after the count changes October's figures at the next count, not before."""
    time_machine.move_to(COUNTED_ON)
    counting.count_months(now=COUNTED_ON)
    before = shown(manager, PERIODS["october"])
    pending = october.tasks["t4"]
    VisitTask.objects.filter(pk=pending.pk).update(
        status=VisitTask.Status.DONE, completed_at=cst(2026, 11, 15, 11), reached=True, satisfaction=5
    )
    assert shown(manager, PERIODS["october"]) == before
    counting.count_months(now=cst(2026, 11, 15, 11, 5))
    after = shown(manager, PERIODS["october"])
    assert after != before
    MonthCountRun.objects.all().delete()
    assert shown(manager, PERIODS["october"]) == after


def test_a_second_run_replaces_the_counts(october, company, time_machine):
    time_machine.move_to(COUNTED_ON)
    first = counting.count_months(now=COUNTED_ON)
    rows = sorted(MonthCount.objects.values_list("source", "project_id", "month", "counts"))
    days = sorted(VisitDayCount.objects.values_list("project_id", "day", "groups"))
    assert first == len(rows) + len(days) > len(rows) > 0
    assert counting.count_months(now=cst(2026, 11, 15, 11)) == first
    assert sorted(MonthCount.objects.values_list("source", "project_id", "month", "counts")) == rows
    assert sorted(VisitDayCount.objects.values_list("project_id", "day", "groups")) == days
    run = MonthCountRun.objects.get(company=company)
    assert (run.first_month, run.last_month) == (date(2025, 10, 1), date(2026, 10, 1))
    # Thirteen closed months by default; customers registered in every month before November.
    assert set(MonthCount.objects.filter(company=company, source="visits").values_list("month", flat=True)) <= {
        date(2026, 9, 1),
        date(2026, 10, 1),
    }
    registered = MonthCount.objects.filter(company=company, source="customers", counts__has_key="registered")
    assert max(registered.values_list("month", flat=True)) == date(2026, 10, 1)


def test_counts_replaced_while_the_page_reads_them_are_not_mixed(october, manager, time_machine):
    """A run commits between the page reading the run and its counts: the page sees
    counts of another run than the one it read, reads again, and never mixes the two."""
    time_machine.move_to(COUNTED_ON)
    live, _ = live_and_counted(manager, PERIODS["october"])
    MonthCount.objects.filter(source="visits").update(counted_at=cst(2026, 11, 15, 11), counts={"due": 999})
    assert (
        counting.coverage(
            manager, first=date(2025, 11, 1), last=date(2026, 10, 31), period=(date(2026, 10, 1), date(2026, 10, 31))
        )
        is None
    )
    assert shown(manager, PERIODS["october"]) == live


def test_the_page_says_when_the_months_were_counted(october, manager, login, time_machine):
    time_machine.move_to(COUNTED_ON)
    html = login(manager).get("/kpis/?kind=month&value=2026-10").content.decode()
    assert "往月数字统计于" not in html
    counting.count_months(now=COUNTED_ON)
    html = login(manager).get("/kpis/?kind=month&value=2026-10").content.decode()
    assert "往月数字统计于 2026-11-15 10:00" in html
