"""Send slots on real dates: a window that closed goes to the next allowed one within the
catch-up period (pure; ``now`` passed in, the library's 2026 work calendar)."""

from datetime import date, time

import pytest

from crm.care import templating, timing
from crm.care.tests.conftest import local
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar

TEN, ELEVEN = time(10, 0), time(11, 0)
CAL = WorkCalendar()


def slot(due_on, now, *, days=7, working=False, start=TEN, end=ELEVEN):
    return timing.send_slot(
        due_on, start, end, now=now, catch_up_days=days, working_days_only=working, cal=CAL if working else None
    )


class TestSendSlot:
    def test_an_open_window_is_used_even_once_begun(self):
        found = slot(date(2026, 11, 24), local(date(2026, 11, 24), 10, 40))
        assert (found.starts_at, found.ends_at, found.is_late) == (
            local(date(2026, 11, 24), 10),
            local(date(2026, 11, 24), 11),
            False,
        )

    def test_a_filing_recorded_at_1122_for_a_10_to_11_window_goes_the_next_morning(self):
        found = slot(date(2026, 11, 24), local(date(2026, 11, 24), 11, 22))
        assert (found.starts_at, found.ends_at, found.is_late) == (
            local(date(2026, 11, 25), 10),
            local(date(2026, 11, 25), 11),
            True,
        )

    def test_a_rule_without_catch_up_has_no_later_window(self):
        assert slot(date(2026, 11, 24), local(date(2026, 11, 24), 11, 22), days=0) is None
        assert slot(date(2026, 11, 24), local(date(2026, 11, 24), 9, 0), days=0).day == date(2026, 11, 24)

    def test_past_the_catch_up_period_nothing_is_left(self):
        # Due Friday 2026-09-25 with one day's catch-up: Saturday is the last chance.
        assert slot(date(2026, 9, 25), local(date(2026, 9, 26), 10, 59), days=1).day == date(2026, 9, 26)
        assert slot(date(2026, 9, 25), local(date(2026, 9, 26), 11, 0), days=1) is None

    def test_a_server_down_for_days_catches_up_from_today_not_from_the_due_day(self):
        found = slot(date(2026, 11, 20), local(date(2026, 11, 23), 8, 0))
        assert found.day == date(2026, 11, 23)

    def test_a_friday_before_national_day_goes_on_the_make_up_sunday(self):
        # Fri 2026-09-18 after the window: the next working day is Sun 09-20 (调休上班).
        found = slot(date(2026, 9, 18), local(date(2026, 9, 18), 15), days=3, working=True)
        assert found.starts_at == local(date(2026, 9, 20), 10)

    def test_the_eve_of_national_day_waits_for_the_first_working_day_after_it(self):
        found = slot(date(2026, 9, 30), local(date(2026, 9, 30), 15), days=1, working=True)
        assert found.starts_at == local(date(2026, 10, 8), 10)

    def test_the_friday_after_national_day_goes_on_the_make_up_saturday(self):
        found = slot(date(2026, 10, 9), local(date(2026, 10, 9), 15), days=1, working=True)
        assert found.starts_at == local(date(2026, 10, 10), 10)

    def test_the_make_up_saturday_before_spring_festival_waits_nine_days(self):
        # Sat 2026-02-14 is a working day; 02-15..02-23 is the holiday.
        found = slot(date(2026, 2, 14), local(date(2026, 2, 14), 11, 30), days=1, working=True)
        assert found.starts_at == local(date(2026, 2, 24), 10)

    def test_working_days_only_on_a_holiday_due_day_goes_the_first_working_day(self):
        found = slot(date(2026, 10, 3), local(date(2026, 10, 3), 9), days=3, working=True)
        assert found.day == date(2026, 10, 8)

    def test_catch_up_in_working_days_runs_out_after_the_last_one(self):
        # Two working days after Wed 2026-09-30 are 10-08 and 10-09.
        assert slot(date(2026, 9, 30), local(date(2026, 10, 9), 10), days=2, working=True).day == date(2026, 10, 9)
        assert slot(date(2026, 9, 30), local(date(2026, 10, 9), 12), days=2, working=True) is None

    def test_an_unknown_year_is_not_guessed(self):
        with pytest.raises(CalendarUnknown):
            slot(date(2026, 12, 31), local(date(2026, 12, 31), 15), days=3, working=True)

    def test_a_rule_on_working_days_needs_the_calendar(self):
        with pytest.raises(ValueError, match="work calendar"):
            timing.send_slot(
                date(2026, 9, 18),
                TEN,
                ELEVEN,
                now=local(date(2026, 9, 18), 15),
                catch_up_days=1,
                working_days_only=True,
            )


def test_the_reasons_say_when_it_goes_or_why_not():
    late = timing.Slot(local(date(2026, 9, 26), 10), local(date(2026, 9, 26), 11), is_late=True)
    assert timing.late_note(late) == "已过原定发送时段，顺延至 9月26日 10:00–11:00 补发"
    assert timing.expired_reason(0) == "已过发送时段，该类短信不补发"
    assert timing.expired_reason(7) == "已过发送时段，且超过补发期限（7天），不再发送"
    assert timing.expired_reason(3, working_days_only=True) == "已过发送时段，且超过补发期限（3个工作日），不再发送"


class TestCustomerValues:
    def test_a_phishing_family_name_loses_its_brackets_and_link_and_is_capped(self):
        cleaned = templating.customer_value("】【工商银行】您的账户异常，请登录 http://x.cn 验证【")
        assert "【" not in cleaned
        assert "】" not in cleaned
        assert "http" not in cleaned
        assert "x.cn" not in cleaned
        assert len(cleaned) <= templating.NAME_LIMIT
        assert cleaned.startswith("工商银行您的账户异常")

    @pytest.mark.parametrize(
        ("raw", "clean"),
        [
            ("林太太", "林太太"),
            ("买买提·艾力", "买买提·艾力"),
            ("J.K. Rowling", "J.K. Rowling"),
            ("王小明 www.x.com/a?b=1", "王小明"),
            ("ＨＴＴＰ：／／ｘ．ｃｎ 王五", "王五"),  # full-width link
            ("李\u202e四\u200b", "李四"),  # bidi override, zero-width space
            ("张\n三\x07", "张 三"),
            ("〖客服〗{物业电话}赵六", "客服物业电话赵六"),
            ("http://x.cn", ""),
        ],
    )
    def test_names_are_cleaned(self, raw, clean):
        assert templating.customer_value(raw) == clean

    def test_missing_lists_each_blank_placeholder_once(self):
        template = "{公司}{家人}{物业电话}{家人}{客服电话}"
        assert templating.missing(template, {"公司": "测试", "家人": "", "客服电话": "1"}) == ["家人", "物业电话"]
