"""Maintaining the work calendar: a click on a day, a notice applied, the year marked complete."""

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from crm.core import services
from crm.core.calendar import day_cell, month_grids, work_calendar, year_days
from crm.core.errors import DomainError
from crm.core.models import AuditLog, CalendarDay, CalendarYear
from crm.lib.holiday_notice import parse_notice
from crm.lib.workcalendar import CalendarUnknown

NOTICES = Path(__file__).resolve().parents[2] / "lib" / "tests" / "notices"


@pytest.fixture
def notice_2027():
    return parse_notice((NOTICES / "2027-example.txt").read_text(encoding="utf-8"), 2027)


def calendar_audits():
    return list(AuditLog.objects.filter(action=AuditLog.Action.CALENDAR).order_by("id"))


# ---------------------------------------------------------------- a click on a day


def test_a_weekday_of_an_unknown_year_becomes_a_holiday_and_back(admin_user):
    monday = date(2027, 2, 8)
    assert day_cell(monday).kind == "work"

    services.set_day(monday, working=False, actor=admin_user)
    assert CalendarDay.objects.get(day=monday).is_working_day is False
    assert day_cell(monday).kind == "holiday"

    services.set_day(monday, working=True, actor=admin_user)
    assert not CalendarDay.objects.exists()  # back to the weekday rule: no row needed
    assert day_cell(monday).kind == "work"

    first, second = calendar_audits()
    assert (first.actor, first.target_type, first.target_id) == (admin_user, "core.calendarday", "2027-02-08")
    assert first.changes == {"is_working_day": [True, False], "name": ["", ""]}
    assert second.changes == {"is_working_day": [False, True], "name": ["", ""]}


def test_a_saturday_made_a_working_day_is_a_make_up_day(admin_user):
    services.set_day(date(2027, 2, 20), working=True, name="春节调休", actor=admin_user)
    cell = day_cell(date(2027, 2, 20))
    assert (cell.kind, cell.name, cell.is_override) == ("makeup", "春节调休", True)


def test_a_library_holiday_overridden_and_restored(admin_user):
    new_year = date(2026, 2, 17)  # 春节 in chinese-calendar
    assert (day_cell(new_year).kind, day_cell(new_year).name) == ("holiday", "春节")

    services.set_day(new_year, working=True, actor=admin_user)
    assert work_calendar().is_working_day(new_year)

    services.set_day(new_year, working=False, actor=admin_user)
    assert not CalendarDay.objects.exists()
    assert (day_cell(new_year).kind, day_cell(new_year).name) == ("holiday", "春节")
    assert calendar_audits()[-1].changes == {"is_working_day": [True, False], "name": ["", "春节"]}


# ---------------------------------------------------------------- a notice applied


def test_applying_the_2027_notice_makes_the_year_known(admin_user, notice_2027):
    with pytest.raises(CalendarUnknown):
        work_calendar().is_working_day(date(2027, 2, 8))

    result = services.apply_notice(2027, notice_2027, actor=admin_user)

    holidays = sum(len(h.days) for h in notice_2027.holidays)
    assert result == services.NoticeApplied(created=holidays + 5, updated=0, unchanged=0)
    assert CalendarDay.objects.get(day=date(2027, 2, 8)).name == "春节"
    assert CalendarDay.objects.get(day=date(2027, 2, 20)).name == "春节调休"
    year = CalendarYear.objects.get(year=2027)
    assert (year.source, year.entered_by) == ("国务院办公厅关于2027年部分节假日安排的通知", admin_user)

    calendar = work_calendar()
    assert calendar.knows(2027)
    every_day = [date(2027, 1, 1) + timedelta(days=i) for i in range(365)]
    assert [calendar.is_working_day(d) for d in every_day] == [notice_2027.is_working_day(d) for d in every_day]
    assert [c.is_working_day for c in year_days(2027)] == [notice_2027.is_working_day(d) for d in every_day]

    applied, marked = calendar_audits()
    assert applied.target_type == "core.calendaryear"
    assert applied.summary.startswith("按《国务院办公厅关于2027年部分节假日安排的通知》录入2027年工作日历")
    assert applied.changes["holidays"][1] == ["春节", "2027-02-05", "2027-02-12"]
    assert marked.target_type == "core.calendaryear"
    assert "已录入完整" in marked.summary


def test_applying_the_same_notice_again_changes_nothing(admin_user, notice_2027):
    first = services.apply_notice(2027, notice_2027, actor=admin_user)
    rows = list(CalendarDay.objects.values_list("day", "is_working_day", "name"))

    again = services.apply_notice(2027, notice_2027, actor=admin_user)

    assert again == services.NoticeApplied(created=0, updated=0, unchanged=first.created)
    assert list(CalendarDay.objects.values_list("day", "is_working_day", "name")) == rows
    assert CalendarYear.objects.filter(year=2027).count() == 1
    assert len(calendar_audits()) == 4  # each save is on the record


def test_a_corrected_notice_changes_the_days_it_names_and_keeps_the_companys_own(admin_user, notice_2027):
    CalendarDay.objects.create(day=date(2027, 2, 8), is_working_day=True, name="")  # an earlier wrong entry
    CalendarDay.objects.create(day=date(2027, 12, 31), is_working_day=False, name="公司年会")

    result = services.apply_notice(2027, notice_2027, actor=admin_user)

    assert result.updated == 1
    assert CalendarDay.objects.get(day=date(2027, 2, 8)).is_working_day is False
    assert CalendarDay.objects.get(day=date(2027, 12, 31)).name == "公司年会"


def test_a_notice_with_unread_lines_needs_them_acknowledged(admin_user):
    notice = parse_notice("二、春节：2月5日至12日放假调休，共8天。\n三、清明节：4月初放假。", 2027)
    with pytest.raises(DomainError, match="未能识别") as error:
        services.apply_notice(2027, notice, actor=admin_user)
    assert error.value.field == "problems_acknowledged"
    assert not CalendarDay.objects.exists()

    services.apply_notice(2027, notice, actor=admin_user, problems_acknowledged=True)
    assert CalendarDay.objects.count() == 8
    assert calendar_audits()[0].reason == "1处未识别内容已确认"


def test_a_notice_for_another_year_or_without_holidays_is_refused(admin_user, notice_2027):
    with pytest.raises(DomainError, match="这是2027年的安排"):
        services.apply_notice(2028, notice_2027, actor=admin_user)
    with pytest.raises(DomainError, match="没有识别到任何放假安排"):
        services.apply_notice(2027, parse_notice("", 2027), actor=admin_user, problems_acknowledged=True)
    assert not CalendarYear.objects.exists()


# ---------------------------------------------------------------- the year marked complete


def test_a_year_entered_by_hand_is_marked_complete_and_audited(admin_user):
    services.set_day(date(2027, 2, 8), working=False, name="春节", actor=admin_user)
    services.mark_year_complete(2027, actor=admin_user, source="手工逐日录入")
    assert work_calendar().knows(2027)
    services.mark_year_complete(2027, actor=admin_user, source="国务院办公厅关于2027年部分节假日安排的通知")
    assert CalendarYear.objects.get().source == "国务院办公厅关于2027年部分节假日安排的通知"
    assert [a.target_type for a in calendar_audits()] == ["core.calendarday", "core.calendaryear", "core.calendaryear"]


# ---------------------------------------------------------------- the page's view of a year


def test_a_library_year_shows_chinese_calendars_answer_for_every_day(db):
    cells = year_days(2026)
    assert len(cells) == 365
    assert [c.is_working_day for c in cells] == [chinese_calendar.is_workday(c.day) for c in cells]
    kinds = {c.day: (c.kind, c.name) for c in cells}
    assert kinds[date(2026, 2, 14)] == ("makeup", "春节")
    assert kinds[date(2026, 2, 16)] == ("holiday", "春节")
    assert kinds[date(2026, 3, 7)] == ("rest", "")


def test_an_unknown_year_shows_weekends_as_rest_days(db):
    cells = year_days(2027)
    assert all(c.is_working_day == (c.day.weekday() < 5) for c in cells)
    assert not any(c.name for c in cells)


def test_a_year_is_laid_out_as_twelve_months_of_monday_to_sunday_weeks(db):
    grids = month_grids(year_days(2027))
    assert [g.month for g in grids] == list(range(1, 13))
    assert all(len(week) == 7 for g in grids for week in g.weeks)
    february = grids[1]
    assert february.weeks[0][0].day == date(2027, 2, 1)  # a Monday
    january = grids[0]
    assert january.weeks[0][:4] == [None] * 4
    assert january.weeks[0][4].day == date(2027, 1, 1)  # a Friday


# ---------------------------------------------------------------- the cached calendar


def test_the_calendar_is_read_once_and_a_click_is_seen_at_once(admin_user, django_assert_num_queries):
    new_year = date(2026, 2, 17)  # 春节 in chinese-calendar
    assert not work_calendar().is_working_day(new_year)
    with django_assert_num_queries(0):
        assert not work_calendar().is_working_day(new_year)

    services.set_day(new_year, working=True, actor=admin_user)
    assert work_calendar().is_working_day(new_year)
    services.set_day(new_year, working=False, actor=admin_user)  # the row deleted
    assert not work_calendar().is_working_day(new_year)


def test_a_notice_saved_in_bulk_is_seen_at_once(admin_user, notice_2027):
    services.mark_year_complete(2027, actor=admin_user, source="国务院办公厅关于2027年部分节假日安排的通知")
    assert work_calendar().is_working_day(date(2027, 2, 8))  # entered, no holidays yet: a Monday

    # The year's row is unchanged (no post_save); the days are written by bulk_create.
    services.apply_notice(2027, notice_2027, actor=admin_user)

    assert not work_calendar().is_working_day(date(2027, 2, 8))
    assert work_calendar().is_working_day(date(2027, 2, 20))  # 春节调休


def test_rows_written_outside_the_services_are_seen_at_once(db):
    monday = date(2027, 2, 8)
    assert not work_calendar().knows(2027)
    CalendarYear.objects.create(year=2027, source="admin")
    assert work_calendar().is_working_day(monday)
    CalendarDay.objects.create(day=monday, is_working_day=False, name="春节")
    assert not work_calendar().is_working_day(monday)
    CalendarDay.objects.filter(day=monday).delete()  # the admin's "delete selected"
    assert work_calendar().is_working_day(monday)
    CalendarYear.objects.all().delete()
    assert not work_calendar().knows(2027)


def test_what_another_process_read_before_the_commit_is_not_kept(admin_user, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    from crm.lib.workcalendar import WorkCalendar

    new_year = date(2026, 2, 17)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_day(new_year, working=True, actor=admin_user)
        # Meanwhile another process reads the rows as committed so far and caches them
        # under the stamp the change gave at once.
        cache.set(f"work-calendar:{cache.get('work-calendar:stamp')}", WorkCalendar(), 60)
        assert not work_calendar().is_working_day(new_year)
    assert work_calendar().is_working_day(new_year)  # the commit gave another stamp
