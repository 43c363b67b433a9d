"""The State Council's holiday notice, read: the real 2024–2026 texts against chinese-calendar,
the formats of earlier years, and every line it cannot read reported."""

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from crm.lib.holiday_notice import Holiday, MakeUpDay, Problem, parse_notice

NOTICES = Path(__file__).parent / "notices"


def notice_text(name: str) -> str:
    return (NOTICES / f"{name}.txt").read_text(encoding="utf-8")


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_a_real_notice_gives_chinese_calendars_answer_for_every_day_of_its_year(year):
    notice = parse_notice(notice_text(str(year)), year)
    assert notice.problems == ()
    assert notice.title == f"国务院办公厅关于{year}年部分节假日安排的通知"
    wrong = [day for day in days_of(year) if notice.is_working_day(day) != chinese_calendar.is_workday(day)]
    assert wrong == []


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_a_real_notice_names_exactly_chinese_calendars_holidays_and_make_up_days(year):
    notice = parse_notice(notice_text(str(year)), year)
    named = notice.overrides()
    holidays = {day for day, (working, _) in named.items() if not working}
    make_up = {day for day, (working, _) in named.items() if working}
    library_holidays = {day for day in chinese_calendar.constants.holidays if day.year == year}
    library_make_up = {day for day in chinese_calendar.constants.workdays if day.year == year}
    assert make_up == library_make_up
    # A range includes the weekend days inside it; the library lists only the statutory days.
    assert library_holidays <= holidays
    assert all(day.weekday() >= 5 for day in holidays - library_holidays)


def test_the_2026_spring_festival_line_gives_nine_days_and_two_saturdays():
    notice = parse_notice(notice_text("2026"), 2026)
    assert Holiday("春节", date(2026, 2, 15), date(2026, 2, 23)) in notice.holidays
    assert [m for m in notice.make_up_days if m.name == "春节"] == [
        MakeUpDay(date(2026, 2, 14), "春节"),
        MakeUpDay(date(2026, 2, 28), "春节"),
    ]
    assert notice.overrides()[date(2026, 2, 14)] == (True, "春节调休")
    assert notice.overrides()[date(2026, 2, 21)] == (False, "春节")


def test_national_day_and_mid_autumn_share_one_item_in_2025():
    notice = parse_notice(notice_text("2025"), 2025)
    assert Holiday("国庆节、中秋节", date(2025, 10, 1), date(2025, 10, 8)) in notice.holidays
    assert Holiday("元旦", date(2025, 1, 1), date(2025, 1, 1)) in notice.holidays


def test_advice_in_an_item_is_a_note_not_a_holiday():
    notice = parse_notice(notice_text("2024"), 2024)
    assert notice.notes == ("鼓励各单位结合带薪年休假等制度落实，安排职工在除夕（2月9日）休息。",)
    assert notice.is_working_day(date(2024, 2, 9))


def test_the_header_the_preamble_and_the_closing_paragraph_are_neither_holidays_nor_problems():
    text = "\n".join(
        [
            "新华社北京11月12日电 国务院办公厅关于2025年部分节假日安排的通知，全文如下：",
            notice_text("2025"),
            "（此件公开发布）",
        ]
    )
    notice = parse_notice(text, 2025)
    assert notice.problems == ()
    assert notice.ignored == ()
    assert len(notice.holidays) == 6  # the preamble's "国庆节自10月1日起放假调休7天" is not one


@pytest.mark.parametrize(
    ("line", "holiday", "make_up"),
    [
        # 2026 style, weekdays and lunar dates in brackets
        (
            "一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。",
            Holiday("元旦", date(2026, 1, 1), date(2026, 1, 3)),
            [date(2026, 1, 4)],
        ),
        # a range whose end inherits the month
        ("国庆节：10月1日（周四）至8日放假调休，共8天。", Holiday("国庆节", date(2026, 10, 1), date(2026, 10, 8)), []),
        # a single day
        ("三、清明节：4月4日（周六）放假，共1天。", Holiday("清明节", date(2026, 4, 4), date(2026, 4, 4)), []),
        ("一、元旦：1月1日（周四）放假1天，不调休。", Holiday("元旦", date(2026, 1, 1), date(2026, 1, 1)), []),
        # no number, no verb
        ("清明节：4月4日至6日", Holiday("清明节", date(2026, 4, 4), date(2026, 4, 6)), []),
        # 与周末连休, with and without a comma
        ("五、端午节：6月19日放假，与周末连休。", Holiday("端午节", date(2026, 6, 19), date(2026, 6, 19)), []),
        ("五、端午节：6月19日与周末连休。", Holiday("端午节", date(2026, 6, 19), date(2026, 6, 19)), []),
        # half-width punctuation and full-width digits
        (
            "二、春节:２月１５日(农历腊月二十八、周日)至２３日(农历正月初七、周一)放假调休,共９天。２月１４日(周六)、２月２８日(周六)上班。",
            Holiday("春节", date(2026, 2, 15), date(2026, 2, 23)),
            [date(2026, 2, 14), date(2026, 2, 28)],
        ),
    ],
)
def test_the_formats_of_the_notices(line, holiday, make_up):
    notice = parse_notice(line, 2026)
    assert notice.problems == ()
    assert notice.holidays == (holiday,)
    assert [m.day for m in notice.make_up_days] == make_up


def test_a_range_crossing_months_names_the_end_month():
    # The 2023 notice.
    line = "六、中秋节、国庆节：9月29日至10月6日放假调休，共8天。10月7日（星期六）、10月8日（星期日）上班。"
    notice = parse_notice(line, 2023)
    assert notice.problems == ()
    assert notice.holidays == (Holiday("中秋节、国庆节", date(2023, 9, 29), date(2023, 10, 6)),)
    days = [date(2023, 9, 28) + timedelta(days=i) for i in range(12)]
    assert [notice.is_working_day(d) for d in days] == [chinese_calendar.is_workday(d) for d in days]


def test_a_new_years_day_beginning_in_december_keeps_the_written_years():
    # The 2019 notice: 元旦 began on 30 December 2018, with a make-up Saturday in 2018.
    notice = parse_notice("一、元旦：2018年12月30日至2019年1月1日放假调休，共3天。2018年12月29日（星期六）上班。", 2019)
    assert notice.problems == ()
    assert notice.holidays == (Holiday("元旦", date(2018, 12, 30), date(2019, 1, 1)),)
    assert notice.make_up_days == (MakeUpDay(date(2018, 12, 29), "元旦"),)


def test_a_range_over_new_year_without_years_ends_in_the_next_year():
    notice = parse_notice("元旦：12月31日至1月2日放假，共3天。", 2027)
    assert notice.holidays == (Holiday("元旦", date(2027, 12, 31), date(2028, 1, 2)),)


def test_a_notice_pasted_as_one_line_reads_like_the_original():
    text = notice_text("2026")
    assert parse_notice(" ".join(text.split()), 2026) == parse_notice(text, 2026)


def test_items_pasted_on_one_line_are_read_one_by_one():
    text = "一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。二、春节：2月15日至23日放假调休，共9天。"
    notice = parse_notice(text, 2026)
    assert [h.name for h in notice.holidays] == ["元旦", "春节"]


def test_malformed_lines_are_reported_with_the_line_as_pasted_and_are_not_applied():
    text = "\n".join(
        [
            "三、清明节：4月4日前后放假。",
            "四、劳动节：5月1日（周五）至5日（周二）放假调休，共6天。5月9日（周六）上班。",
            "五、端午节：6月19日（周四）至21日（周日）放假，共3天。",
            "六、中秋节：9月25日至9月23日放假。",
            "七、国庆节：10月1日至7日放假调休，共7天。9月20日（周日）、10月10日加班。",
            "5月1日大家都休息",
            "八、元旦：2月30日放假。",
            "[责任编辑：张倩]",
        ]
    )
    notice = parse_notice(text, 2026)
    assert notice.holidays == ()
    assert notice.make_up_days == ()
    assert notice.problems == (
        Problem("三、清明节：4月4日前后放假。", "无法识别“4月4日前后放假”"),
        Problem(
            "四、劳动节：5月1日（周五）至5日（周二）放假调休，共6天。5月9日（周六）上班。",
            "“共6天”与放假日期不符",
        ),
        Problem("五、端午节：6月19日（周四）至21日（周日）放假，共3天。", "6月19日是周五，通知中写的是周四"),
        Problem("六、中秋节：9月25日至9月23日放假。", "“9月25日至9月23日放假”结束日期早于开始日期"),
        Problem(
            "七、国庆节：10月1日至7日放假调休，共7天。9月20日（周日）、10月10日加班。",
            "无法识别“9月20日(周日)、10月10日加班”",
        ),
        Problem("5月1日大家都休息", "无法识别这一行"),
        Problem("八、元旦：2月30日放假。", "“2月30日”不是有效日期"),
        Problem("", "没有找到任何放假安排，请粘贴通知全文"),
    )
    assert notice.ignored == ("[责任编辑：张倩]",)


def test_last_years_notice_pasted_for_next_year_is_refused_line_by_line():
    notice = parse_notice(notice_text("2026"), 2027)
    assert notice.problems[0] == Problem("国务院办公厅关于2026年部分节假日安排的通知", "这是2026年的通知，不是2027年的")
    assert notice.holidays == ()  # every weekday in brackets is now wrong
    assert len(notice.problems) == 1 + 7 + 1


def test_a_day_both_off_and_worked_is_a_problem():
    notice = parse_notice("春节：2月15日至23日放假调休，共9天。2月16日上班。", 2026)
    assert Problem("2月16日", "2月16日既是放假日又是上班日") in notice.problems


def test_an_empty_paste_finds_nothing():
    assert parse_notice("  \n", 2027).problems == (Problem("", "没有找到任何放假安排，请粘贴通知全文"),)
