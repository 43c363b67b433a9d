"""When the scheduled packs are made, on real dates, and that a second run adds nothing."""

from __future__ import annotations

from datetime import date

import pytest

from crm.core.models import CalendarYear
from crm.lib.workcalendar import WorkCalendar
from crm.reports import jobs, periods
from crm.reports.models import Kind, ReportPack

from .conftest import cst


def test_week_and_month_bounds():
    assert periods.week_bounds(date(2026, 9, 23)) == (date(2026, 9, 21), date(2026, 9, 27))
    assert periods.month_bounds(date(2026, 2, 10)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert periods.month_bounds(date(2026, 12, 31)) == (date(2026, 12, 1), date(2026, 12, 31))


def test_the_week_is_due_from_sunday_evening():
    before = periods.due_week(cst(9, 27, 19, 59), close_weekday=6, close_hour=20)
    after = periods.due_week(cst(9, 27, 20), close_weekday=6, close_hour=20)
    assert before == (date(2026, 9, 14), date(2026, 9, 20))
    assert after == (date(2026, 9, 21), date(2026, 9, 27))
    assert periods.due_week(cst(9, 28, 8), close_weekday=6, close_hour=20) == after


def test_an_administrator_may_close_the_week_on_friday():
    assert periods.due_week(cst(9, 25, 20), close_weekday=4, close_hour=20) == (date(2026, 9, 21), date(2026, 9, 27))


def test_september_2026_closes_on_wednesday_the_30th_before_national_day():
    cal = WorkCalendar()
    assert periods.month_close_day(date(2026, 9, 1), cal) == date(2026, 9, 30)
    assert periods.due_month(cst(9, 29, 21), calendar=cal, close_hour=20) == (date(2026, 8, 1), date(2026, 8, 31))
    assert periods.due_month(cst(9, 30, 20), calendar=cal, close_hour=20) == (date(2026, 9, 1), date(2026, 9, 30))
    # During the holiday the month is still September's.
    assert periods.due_month(cst(10, 5, 12), calendar=cal, close_hour=20) == (date(2026, 9, 1), date(2026, 9, 30))


def test_february_2026_closes_on_the_make_up_saturday():
    cal = WorkCalendar()
    assert periods.month_close_day(date(2026, 2, 1), cal) == date(2026, 2, 28)
    assert periods.due_month(cst(2, 27, 21), calendar=cal, close_hour=20)[0] == date(2026, 1, 1)
    assert periods.due_month(cst(2, 28, 20), calendar=cal, close_hour=20)[0] == date(2026, 2, 1)


def test_january_2027_closes_on_friday_the_29th_once_the_year_is_entered():
    entered = WorkCalendar(entered_years=[2027])
    assert periods.month_close_day(date(2027, 1, 5), entered) == date(2027, 1, 29)
    # Not entered yet: the month's last day, rather than a guessed working day.
    assert periods.month_close_day(date(2027, 1, 5), WorkCalendar()) == date(2027, 1, 31)


def test_the_day_is_due_from_the_close_hour():
    assert periods.due_day(cst(9, 21, 19, 59), close_hour=20) == date(2026, 9, 20)
    assert periods.due_day(cst(9, 21, 20), close_hour=20) == date(2026, 9, 21)


@pytest.fixture
def _close(settings):
    settings.REPORTS_CLOSE_HOUR = 20
    settings.REPORTS_WEEK_CLOSE_WEEKDAY = 6


@pytest.mark.usefixtures("_close")
def test_weekly_job_makes_one_pack_per_project_and_one_for_all_once(project, project_b):
    assert jobs.generate_weekly_packs(now=cst(9, 27, 20)) == 3
    assert jobs.generate_weekly_packs(now=cst(9, 27, 20, 30)) == 0
    assert jobs.generate_weekly_packs(now=cst(9, 28, 9)) == 0
    packs = ReportPack.objects.filter(kind=Kind.WEEKLY, period_start=date(2026, 9, 21))
    assert sorted(p.scope_label for p in packs) == ["全部楼盘", "滨江御府", "锦华苑"]
    assert all(p.generated_by_id is None and p.status == "draft" for p in packs)


@pytest.mark.usefixtures("_close")
def test_weekly_job_follows_the_configured_weekday(project, settings):
    settings.REPORTS_WEEK_CLOSE_WEEKDAY = 4
    assert jobs.generate_weekly_packs(now=cst(9, 25, 20)) == 2
    assert ReportPack.objects.filter(period_start=date(2026, 9, 21), period_end=date(2026, 9, 27)).count() == 2


@pytest.mark.usefixtures("_close")
def test_monthly_job_runs_on_the_last_working_day(project):
    jobs.generate_monthly_packs(now=cst(9, 29, 21))
    assert not ReportPack.objects.filter(period_start=date(2026, 9, 1)).exists()
    made = jobs.generate_monthly_packs(now=cst(9, 30, 20))
    kinds = set(ReportPack.objects.filter(period_start=date(2026, 9, 1)).values_list("kind", flat=True))
    assert kinds == {Kind.MONTHLY, Kind.COMPLAINT_MONTHLY, Kind.VISIT_MONTHLY}
    assert made == 4  # 月报 for the project and for all, 投诉分析, 回访统计
    assert jobs.generate_monthly_packs(now=cst(10, 2, 20)) == 0


@pytest.mark.usefixtures("_close")
def test_monthly_job_in_january_2027_uses_the_entered_calendar(project):
    CalendarYear.objects.create(year=2027, source="测试")
    assert jobs.generate_monthly_packs(now=cst(1, 29, 20, year=2027)) == 4
    assert ReportPack.objects.filter(period_start=date(2027, 1, 1), period_end=date(2027, 1, 31)).count() == 4


@pytest.mark.usefixtures("_close")
def test_daily_inspection_job_makes_each_projects_pack_once(project, project_b):
    assert jobs.generate_daily_inspection_packs(now=cst(9, 21, 20)) == 2
    assert jobs.generate_daily_inspection_packs(now=cst(9, 21, 23)) == 0
    assert set(ReportPack.objects.values_list("kind", "period_start")) == {(Kind.DAILY_INSPECTION, date(2026, 9, 21))}
