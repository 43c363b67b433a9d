"""The pure rules: which days are holidays for the roster, and 四不接 (no database)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar
from crm.service import duty
from crm.service.duty import ItemCheck

CAL = WorkCalendar()


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (date(2026, 9, 29), False),  # Tuesday, working
        (date(2026, 10, 1), True),  # 国庆 Thursday
        (date(2026, 10, 3), True),  # a Saturday inside the 国庆 run
        (date(2026, 9, 12), False),  # an ordinary Saturday
        (date(2026, 9, 13), False),  # an ordinary Sunday
        (date(2026, 9, 26), True),  # the Saturday after 中秋 (Friday 25th): a three-day holiday
    ],
)
def test_a_holiday_is_a_day_off_that_is_not_an_ordinary_weekend(day, holiday):
    assert duty.is_holiday(day, CAL) is holiday


def test_a_make_up_weekend_day_is_not_a_holiday():
    assert duty.is_holiday(date(2026, 10, 10), CAL) is False  # 国庆调休 Saturday


def test_an_unknown_year_is_an_error_not_a_guess():
    with pytest.raises(CalendarUnknown):
        duty.is_holiday(date(2027, 10, 1), CAL)


def test_a_night_shift_into_a_holiday_touches_it():
    start = datetime(2026, 9, 30, 20, 0, tzinfo=CHINA_TZ)
    end = datetime(2026, 10, 1, 8, 0, tzinfo=CHINA_TZ)
    assert duty.shift_days(start, end) == [date(2026, 9, 30), date(2026, 10, 1)]
    assert duty.touches_holiday(start, end, CAL)
    assert not duty.touches_holiday(start.replace(day=29), end.replace(month=9, day=30), CAL)


GOOD = {"log_summary": "平安无事", "log_clear": True, "area_clean": True, "items": [], "major_repair_open": False}


def test_nothing_to_refuse():
    assert duty.refusals(**GOOD) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"log_summary": "  "}, "记录不清"),
        ({"log_clear": False}, "记录不清"),
        ({"area_clean": False}, "卫生不洁"),
        ({"items": [ItemCheck("钥匙", "missing", "")]}, "公物缺失"),
        ({"items": [ItemCheck("电脑", "damaged", " ")]}, "公物缺失"),
        ({"major_repair_open": True}, "重大维修未完"),
    ],
)
def test_each_refusal_holds_on_its_own(change, reason):
    reasons = duty.refusals(**(GOOD | change))
    assert len(reasons) == 1
    assert reasons[0].startswith(reason)


def test_an_explained_loss_is_not_a_refusal():
    assert duty.refusals(**(GOOD | {"items": [ItemCheck("钥匙", "missing", "钥匙交物业保管")]})) == []


def test_cover_gaps_finds_the_hours_without_a_shift():
    day = datetime(2026, 9, 29, 0, 0, tzinfo=CHINA_TZ)

    def h(n: float) -> datetime:
        from datetime import timedelta

        return day + timedelta(hours=n)

    assert duty.cover_gaps(h(0), h(24), [(h(-4), h(8)), (h(8), h(20)), (h(20), h(32))]) == []
    assert duty.cover_gaps(h(0), h(24), [(h(8), h(20))]) == [(h(0), h(8)), (h(20), h(24))]
    assert duty.cover_gaps(h(0), h(24), [(h(0), h(12)), (h(10), h(14)), (h(16), h(30))]) == [(h(14), h(16))]
    assert duty.cover_gaps(h(0), h(24), []) == [(h(0), h(24))]
