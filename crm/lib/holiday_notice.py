"""Reading the State Council's yearly holiday notice (国务院办公厅关于某年部分节假日安排的通知).

Each autumn the General Office publishes next year's statutory holidays and 调休 make-up
working days, one numbered item per festival::

    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。

``parse_notice`` turns the pasted text into holidays (date ranges named by their festival)
and make-up working days, so an administrator reviews the result before it becomes the
work calendar. Nothing is guessed and nothing is dropped silently:

1. the header (title, document number, addressees), the preamble, the closing paragraph,
   the signature and the date are recognised as such;
2. every numbered item is read clause by clause; a clause it cannot read, a weekday in
   brackets that does not match the date, or a "共N天" that does not match the range
   makes the whole line a ``Problem``;
3. any other line that mentions a date or a holiday word is a ``Problem`` too; lines
   without either (a news site's byline) are kept in ``ignored`` and shown.

Full-width and half-width punctuation and digits are both accepted; 周六 and 星期六 too.
Pure: no database, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["WEEKDAYS", "Holiday", "MakeUpDay", "Notice", "Problem", "parse_notice"]

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

# One character for one character, so a position in the normalised text is the same
# position in the pasted one: full-width ASCII forms (：（），；０-９) and the ideographic space.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0x301C: ord("~")}

_FULL_WIDTH = str.maketrans({",": "，", "(": "（", ")": "）", ":": "：", ";": "；"})

_NUMERAL = "一二三四五六七八九十"
# Items and the closing paragraph pasted without line breaks still start after a full
# stop, a colon or a space: 通知如下。一、元旦：…上班。节假日期间，…
_ITEM_SPLIT = re.compile(rf"(?<=[。:\s])\s*(?=[{_NUMERAL}]{{1,3}}、|节假日期间|鼓励单位和个人)")
_ITEM = re.compile(
    rf"^(?:[{_NUMERAL}]{{1,3}}、|\([{_NUMERAL}]{{1,3}}\)|\d{{1,2}}[.、])?"
    r"(?P<name>[\u4e00-\u9fff][\u4e00-\u9fff\d、和与]{0,39}):(?P<body>.+)$"
)
_DATE = re.compile(r"(?:(?P<y>\d{4})年)?(?:(?P<m>\d{1,2})月)?(?P<d>\d{1,2})日(?:\((?P<note>[^)]*)\))?")
_RANGE_SEPARATORS = ("至", "到", "-", "~", "—", "–")
_HOLIDAY_TAIL = re.compile(r"^(?:放假(?:调休)?)?(?:(?P<n>\d+)天)?(?:与周[末六日]连休)?$")
_TOTAL = re.compile(r"^共(?P<n>\d+)天$")
_HARMLESS = frozenset({"不调休", "与周末连休", "与周六连休", "与周日连休", "放假调休", "调休", "放假"})
_WEEKDAY_IN_NOTE = re.compile(r"(?:周|星期)([一二三四五六日天])")
_WEEKDAY_INDEX = {c: i for i, c in enumerate("一二三四五六日")} | {"天": 6}

_TITLE = re.compile(r"关于(?P<y>\d{4})年部分节假日安排的通知")
_BOILERPLATE = (
    re.compile(r"^国办发(?:明电)?[〔\[(]\d{4}[〕\])]\d+号$"),  # document number
    re.compile(r"^各省.{0,40}人民政府.{0,60}:$"),  # addressees
    re.compile(r"^(?:经.{0,12}批准|按照上述原则|现将)"),  # preamble
    re.compile(r"^(?:节假日期间|鼓励单位和个人)"),  # closing paragraph
    re.compile(r"^国务院办公厅$"),  # signature
    re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$"),  # date of the notice
    re.compile(r"^\(此件公开发布\)$"),
)
_ARRANGEMENT_WORDS = re.compile(r"\d{1,2}日|放假|上班|调休|休息")


@dataclass(frozen=True)
class Holiday:
    """Consecutive rest days of one festival, weekends inside the range included."""

    name: str
    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class MakeUpDay:
    """A weekend day worked in exchange for a festival's holiday (调休上班)."""

    day: date
    name: str  # the festival it belongs to: 春节


@dataclass(frozen=True)
class Problem:
    """A line that was not understood or contradicts itself; ``reason`` is Chinese."""

    line: str
    reason: str


@dataclass(frozen=True)
class Notice:
    """What a notice says about ``year``."""

    year: int
    title: str
    holidays: tuple[Holiday, ...] = ()
    make_up_days: tuple[MakeUpDay, ...] = ()
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()  # advice without dates' effect: "鼓励各单位……安排职工在除夕休息"
    ignored: tuple[str, ...] = ()  # lines with neither a date nor a holiday word

    def overrides(self) -> dict[date, tuple[bool, str]]:
        """Each day the notice names → (is working day, name): 春节 for a holiday,
        春节调休 for a make-up working day."""
        days: dict[date, tuple[bool, str]] = {}
        for holiday in self.holidays:
            for day in holiday.days:
                days[day] = (False, holiday.name)
        for make_up in self.make_up_days:
            days[make_up.day] = (True, f"{make_up.name}调休")
        return days

    def is_working_day(self, day: date) -> bool:
        """The answer the work calendar gives once the notice is applied: the notice's
        days, otherwise Monday to Friday."""
        named = self.overrides().get(day)
        return named[0] if named else day.weekday() < 5


def parse_notice(text: str, year: int) -> Notice:
    """Read a pasted notice for ``year`` (see the module docstring)."""
    reader = _Reader(year)
    normal = text.translate(_HALF_WIDTH)
    position = 0
    for raw_line in normal.splitlines(keepends=True):
        start = position
        position += len(raw_line)
        offset = start
        for piece in _ITEM_SPLIT.split(raw_line):
            offset = normal.index(piece, offset)
            original = text[offset : offset + len(piece)]
            offset += len(piece)
            reader.read_line(original.strip(), re.sub(r"\s+", "", piece))
    return reader.notice()


class _Reader:
    def __init__(self, year: int) -> None:
        self.year = year
        self.title = ""
        self.holidays: list[Holiday] = []
        self.make_up_days: list[MakeUpDay] = []
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.ignored: list[str] = []

    def notice(self) -> Notice:
        problems = list(self.problems)
        holiday_days = {day: h for h in self.holidays for day in h.days}
        for make_up in self.make_up_days:
            if make_up.day in holiday_days:
                problems.append(Problem(_md(make_up.day), f"{_md(make_up.day)}既是放假日又是上班日"))
        if not self.holidays:
            problems.append(Problem("", "没有找到任何放假安排，请粘贴通知全文"))
        return Notice(
            year=self.year,
            title=self.title or f"国务院办公厅关于{self.year}年部分节假日安排的通知",
            holidays=tuple(sorted(self.holidays, key=lambda h: h.start)),
            make_up_days=tuple(sorted(self.make_up_days, key=lambda m: m.day)),
            problems=tuple(problems),
            notes=tuple(self.notes),
            ignored=tuple(self.ignored),
        )

    def read_line(self, original: str, line: str) -> None:
        if not line:
            return
        title = _TITLE.search(line)
        if title:
            if self.title:
                return
            self.title = f"国务院办公厅关于{title['y']}年部分节假日安排的通知"
            if int(title["y"]) != self.year:
                self.problems.append(Problem(original, f"这是{title['y']}年的通知，不是{self.year}年的"))
            return
        if any(pattern.search(line) for pattern in _BOILERPLATE):
            return
        item = _ITEM.match(line)
        if item:
            self.read_item(original, item["name"], item["body"])
        elif _ARRANGEMENT_WORDS.search(line):
            self.problems.append(Problem(original, "无法识别这一行"))
        else:
            self.ignored.append(original)

    def read_item(self, original: str, name: str, body: str) -> None:
        """One festival's item: sentences of clauses; all of it is taken, or none."""
        holidays: list[Holiday] = []
        make_up_days: list[MakeUpDay] = []
        notes: list[str] = []
        reasons: list[str] = []
        for sentence in filter(None, re.split(r"[。;]", body)):
            if sentence.startswith(("鼓励", "提倡")):
                notes.append(sentence.translate(_FULL_WIDTH) + "。")
                continue
            last: Holiday | None = None
            for clause in filter(None, sentence.split(",")):
                if clause in _HARMLESS:
                    continue
                if total := _TOTAL.match(clause):
                    # Without a readable range before it, the range's own reason says enough.
                    if (last is None and not reasons) or (last is not None and len(last.days) != int(total["n"])):
                        reasons.append(f"“{clause}”与放假日期不符")
                    continue
                known = len(reasons)
                if clause.endswith("上班"):
                    days = self.read_dates(clause[: -len("上班")], reasons)
                    make_up_days.extend(MakeUpDay(day, name) for day in days or ())
                    if days is None and len(reasons) == known:
                        reasons.append(f"无法识别“{clause}”")
                    continue
                last = self.read_range(name, clause, reasons)
                if last is not None:
                    holidays.append(last)
                elif len(reasons) == known:
                    reasons.append(f"无法识别“{clause}”")
        if not holidays and not reasons:
            reasons.append("没有找到放假日期")
        if reasons:
            self.problems.append(Problem(original, "；".join(dict.fromkeys(reasons))))
            return
        self.holidays.extend(holidays)
        self.make_up_days.extend(make_up_days)
        self.notes.extend(notes)

    def read_range(self, name: str, clause: str, reasons: list[str]) -> Holiday | None:
        """``1月1日(周四)至3日(周六)放假调休`` · ``9月29日至10月6日`` · ``4月4日放假1天``."""
        first = _DATE.match(clause)
        if not first or not first["m"]:
            return None
        start = end = self.to_date(first, None, reasons)
        rest = clause[first.end() :]
        separator = next((s for s in _RANGE_SEPARATORS if rest.startswith(s)), None)
        if separator:
            second = _DATE.match(rest, len(separator))
            if not second or start is None:
                return None
            end = self.to_date(second, start, reasons)
            rest = rest[second.end() :]
        tail = _HOLIDAY_TAIL.match(rest)
        if not tail or start is None or end is None:
            return None
        if end < start:
            reasons.append(f"“{clause}”结束日期早于开始日期")
            return None
        holiday = Holiday(name, start, end)
        if tail["n"] and int(tail["n"]) != len(holiday.days):
            reasons.append(f"“{clause}”天数与日期不符")
        return holiday

    def read_dates(self, text: str, reasons: list[str]) -> list[date] | None:
        """``1月26日(周日)、2月8日(周六)``: dates joined by 、 or 和."""
        days: list[date] = []
        position = 0
        previous: date | None = None
        while True:
            found = _DATE.match(text, position)
            if not found or (not found["m"] and previous is None):
                return None
            day = self.to_date(found, previous, reasons)
            if day is None:
                return None
            days.append(day)
            previous = day
            position = found.end()
            if position == len(text):
                return days
            if text[position] not in "、和":
                return None
            position += 1

    def to_date(self, found: re.Match[str], after: date | None, reasons: list[str]) -> date | None:
        """A date from its parts: year and month as written, else those of ``after`` (the
        date before it in the clause), else the notice's year. A date written without a
        year in a month before ``after``'s is in the next year (12月31日至1月2日). The
        weekday in brackets, when given, must be the date's."""
        year = int(found["y"]) if found["y"] else (after.year if after else self.year)
        month = int(found["m"]) if found["m"] else (after.month if after else 0)
        if after and not found["y"] and found["m"] and month < after.month:
            year += 1
        try:
            day = date(year, month, int(found["d"]))
        except ValueError:
            reasons.append(f"“{found.group(0)}”不是有效日期")
            return None
        if not date(self.year - 1, 12, 1) <= day <= date(self.year + 1, 1, 31):
            reasons.append(f"{day.year}年{_md(day)}不在{self.year}年")
        written = _WEEKDAY_IN_NOTE.findall(found["note"] or "")
        if written and _WEEKDAY_INDEX[written[-1]] != day.weekday():
            reasons.append(f"{_md(day)}是{WEEKDAYS[day.weekday()]}，通知中写的是周{written[-1]}")
        return day


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"
