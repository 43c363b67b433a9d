"""Turning the periodic plans into visit tasks (the job ``generate_visit_tasks``), set-based.

For each active plan, the tasks whose visit starts between ``catch_up_days`` ago and
``lead_days`` ahead are inserted by one ``INSERT … SELECT`` (crm.core.bulk.insert_from),
built with the ORM; no customer travels through Python:

1. The dates are computed in Python for the handful of *anchor* values the window can
   involve, not per customer: for a milestone plan, each day of the anchor range (the
   window moved back by the offset, widened for month ends and working-day offsets); for a
   birthday plan, each birthday key (a solar month-day, or a lunar month, day and leap
   flag) whose birthday in the year falls in that range (``birthday_in``, with
   crm.lib.lunar's fallbacks). Each anchor's start and due date come from the work calendar
   (crm.visits.timing.schedule); anchors whose start is outside the window are dropped.
   A window of a few weeks has a few dozen distinct dates.
2. The statement selects the deals (or owners) with one of those anchors and maps each
   anchor to its dates with ``CASE`` (one branch per distinct date, over the anchors that
   share it), leaving out occasions that already have a task (an anti-join on the unique
   key's index: every run after the day's first is a read).
3. The unique (customer, plan, occasion) key settles a second runner (``ON CONFLICT DO
   NOTHING``), so the job is idempotent; the count returned is of rows really inserted.

The occasion key is ``deal:<id>`` for a milestone (a customer with two units gets two
visits) and the solar year for a birthday. A birthday plan runs one statement per solar
year the range touches (a range across New Year). docs/performance.md has the figures.
"""

from __future__ import annotations

import calendar as month_calendar
import functools
import operator
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    DateField,
    Exists,
    F,
    Field,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat
from lunar_python import Lunar, LunarMonth, LunarYear

from crm.core import bulk
from crm.customers.models import Customer, Deal, Stage
from crm.lib.dates import local_day
from crm.lib.lunar import lunar_birthday_in
from crm.visits import timing
from crm.visits.models import AssigneeRule, Occasion, VisitPlan, VisitTask

if TYPE_CHECKING:
    from crm.lib.workcalendar import WorkCalendar

MILESTONE_FIELDS = {
    Occasion.CONTRACT: "contracted_on",
    Occasion.DELIVERY: "delivery_planned_on",
    Occasion.MOVE_IN: "moved_in_on",
}


def rule_of(plan: VisitPlan) -> timing.Rule:
    return timing.Rule(
        offset_months=plan.offset_months,
        offset_days=plan.offset_days,
        offset_in_working_days=plan.offset_in_working_days,
        window_days=plan.window_days,
        window_in_working_days=plan.window_in_working_days,
    )


def _margin(plan: VisitPlan) -> int:
    """Calendar days by which the occasion's date may differ from ``start − offset`` (month
    ends; working-day offsets across a holiday)."""
    if plan.offset_in_working_days:
        return 2 * abs(plan.offset_days) + 15
    return 4


def _anchor_range(plan: VisitPlan, first: date, last: date) -> tuple[date, date]:
    margin = _margin(plan)
    days = 0 if plan.offset_in_working_days else plan.offset_days
    lo = timing.add_months(first - timedelta(days=days), -plan.offset_months) - timedelta(days=margin)
    hi = timing.add_months(last - timedelta(days=days), -plan.offset_months) + timedelta(days=margin)
    return lo, hi


# ------------------------------------------------------------------ anchors → dates

Schedule = tuple[date, date, str]  # (start, due, note)


def _schedules(
    plan: VisitPlan, anchors: Iterable[date], first: date, last: date, calendar: WorkCalendar
) -> dict[date, Schedule]:
    """Each anchor date's (start, due, note) on the work calendar, for the anchors whose
    visit starts in [first, last]."""
    rule = rule_of(plan)
    found: dict[date, Schedule] = {}
    for day in anchors:
        start, due, note = timing.schedule(day, rule, calendar)
        if first <= start <= last:
            found[day] = (start, due, note.lstrip("；")[:200])
    return found


def _case(branches: dict[Any, list[Q]], output_field: Field[Any, Any]) -> Case | Value:
    """``CASE`` choosing each value where one of its conditions holds (value → conditions).

    Every row the statement selects matches exactly one anchor, so the value with the most
    anchors is the ``ELSE`` and needs no branch (for the due note, nearly always the only
    value): fewer conditions to compile and to evaluate."""
    common = max(branches, key=lambda value: len(branches[value]))
    if len(branches) == 1:
        return Value(common, output_field=output_field)
    whens = [
        When(functools.reduce(operator.or_, conditions), then=Value(value, output_field=output_field))
        for value, conditions in branches.items()
        if value != common
    ]
    return Case(*whens, default=Value(common, output_field=output_field), output_field=output_field)


def _by_value(conditions: dict[Any, Q], values: Mapping[Any, Any], pick: Callable[[Any], Any]) -> dict[Any, list[Q]]:
    """The conditions of the anchors sharing a value (``pick`` of the anchor's entry)."""
    merged: dict[Any, list[Q]] = {}
    for anchor, condition in conditions.items():
        merged.setdefault(pick(values[anchor]), []).append(condition)
    return merged


def _date_columns(conditions: dict[Any, Q], schedules: dict[Any, Schedule]) -> dict[str, Case | Value]:
    return {
        "start_on": _case(_by_value(conditions, schedules, lambda s: s[0]), DateField()),
        "due_on": _case(_by_value(conditions, schedules, lambda s: s[1]), DateField()),
        "due_note": _case(_by_value(conditions, schedules, lambda s: s[2]), CharField()),
    }


def _assignee(plan: VisitPlan, owner: str) -> Any:
    if plan.assignee_rule == AssigneeRule.OWNER:
        return F(owner)
    return Cast(Value(plan.assignee_id), BigIntegerField())  # typed: a NULL in a SELECT list is text


def _constants(plan: VisitPlan) -> dict[str, object]:
    return {
        "company_id": plan.company_id,
        "project_id": plan.project_id,
        "plan_id": plan.pk,
        "purpose": plan.purpose,
        "channel": plan.channel,
        "questions": plan.question_list,
        "max_attempts": plan.max_attempts,
    }


FIELDS = ("customer_id", "occasion", "deal_id", "occasion_on", "assignee_id", "start_on", "due_on", "due_note")


def _not_planned(plan: VisitPlan, customer: str, occasion: Any) -> Q:
    """No task of this plan for the occasion yet: an anti-join the unique key's index answers."""
    return ~Q(Exists(VisitTask.objects.filter(customer_id=OuterRef(customer), plan_id=plan.pk, occasion=occasion)))


# ------------------------------------------------------------------ the statements


def milestone_source(plan: VisitPlan, first: date, last: date, calendar: WorkCalendar) -> QuerySet[Any] | None:
    """The new tasks of a milestone plan as a ``values()`` queryset of ``FIELDS``; None
    when no anchor day starts in the window."""
    field = MILESTONE_FIELDS[Occasion(plan.occasion)]
    lo, hi = _anchor_range(plan, first, last)
    schedules = _schedules(plan, (lo + timedelta(days=n) for n in range((hi - lo).days + 1)), first, last, calendar)
    if not schedules:
        return None
    conditions = {day: Q(**{field: day}) for day in schedules}
    occasion = Concat(Value("deal:"), Cast("pk", CharField()), output_field=CharField())
    # The same key inside the anti-join, where "pk" would be the task's.
    outer_occasion = Concat(Value("deal:"), Cast(OuterRef("pk"), CharField()), output_field=CharField())
    return (
        Deal.objects.filter(
            _not_planned(plan, "customer_id", outer_occasion),
            project_id=plan.project_id,
            status=Deal.Status.ACTIVE,
            customer__is_archived=False,
            **{f"{field}__in": sorted(schedules)},
        )
        .order_by()
        .values(
            "customer_id",
            occasion_key=occasion,
            deal_key=F("pk"),
            anchor=F(field),
            assignee_key=_assignee(plan, "customer__owner_id"),
            **_date_columns(conditions, schedules),
        )
    )


def birthday_in(year: int, row: tuple[str, bool, int | None, int | None, bool]) -> date | None:
    """A customer's birthday in solar ``year`` (lunar ones with crm.lib.lunar's fallbacks;
    29 February is kept on 28 February in other years)."""
    mmdd, is_lunar, lunar_month, lunar_day, is_leap = row
    if is_lunar and lunar_month and lunar_day:
        return lunar_birthday_in(year, lunar_month, lunar_day, leap=is_leap)
    if len(mmdd) != 4:
        return None
    month, day = int(mmdd[:2]), int(mmdd[2:])
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, day - 1) if (month, day) == (2, 29) else None


SOLAR_KEYS = tuple(f"{m:02d}{d:02d}" for m in range(1, 13) for d in range(1, month_calendar.monthrange(2024, m)[1] + 1))
LUNAR_KEYS = tuple((m, d, leap) for m in range(1, 13) for d in range(1, 31) for leap in (False, True))


@functools.lru_cache(maxsize=16)
def lunar_months_of(lunar_year: int) -> dict[tuple[int, bool], tuple[date, int]]:
    """(first solar day, number of days) of each lunar month of ``lunar_year``, keyed by
    (month, born in a leap month) with crm.lib.lunar's fallback: a leap-born month the
    year lacks is the regular one. 24 look-ups of the lunar library per year instead of
    one per birthday key (each costs milliseconds)."""
    leap = LunarYear.fromYear(lunar_year).getLeapMonth()
    months: dict[tuple[int, bool], tuple[date, int]] = {}
    for month in range(1, 13):
        for is_leap in (False, True):
            signed = -month if is_leap and leap == month else month
            if is_leap and signed == month:
                months[(month, True)] = months[(month, False)]
                continue
            first = Lunar.fromYmd(lunar_year, signed, 1).getSolar()
            count = LunarMonth.fromYm(lunar_year, signed).getDayCount()
            months[(month, is_leap)] = (date(first.getYear(), first.getMonth(), first.getDay()), count)
    return months


def _lunar_to_solar(lunar_year: int, month: int, day: int, leap: bool) -> date:
    """crm.lib.lunar.lunar_to_solar from the month table (a 30th kept on a 29th)."""
    first, count = lunar_months_of(lunar_year)[(month, leap)]
    return first + timedelta(days=min(day, count) - 1)


def _lunar_birthday_in(solar_year: int, month: int, day: int, leap: bool) -> date | None:
    """crm.lib.lunar.lunar_birthday_in from the month table."""
    for lunar_year in (solar_year, solar_year - 1, solar_year + 1):
        candidate = _lunar_to_solar(lunar_year, month, day, leap)
        if candidate.year == solar_year:
            return candidate
    return None  # pragma: no cover - impossible


def lunar_month_of(day: date) -> int:
    """The number of the lunar month ``day`` falls in (crm.lib.lunar.solar_to_lunar's)."""
    for lunar_year in (day.year, day.year - 1):
        for (month, _), (first, count) in lunar_months_of(lunar_year).items():
            if first <= day < first + timedelta(days=count):
                return month
    raise ValueError(f"no lunar month holds {day}")  # pragma: no cover - impossible


@functools.lru_cache(maxsize=8)
def birthdays_of_year(year: int) -> tuple[dict[str, date], dict[tuple[int, int, bool], date]]:
    """Every birthday key's birthday in solar ``year`` (``birthday_in``'s rule for each of
    the 366 month-days and 720 lunar (month, day, leap) keys)."""
    solar = {mmdd: day for mmdd in SOLAR_KEYS if (day := birthday_in(year, (mmdd, False, None, None, False)))}
    lunar = {
        (month, lunar_day, leap): found
        for month, lunar_day, leap in LUNAR_KEYS
        if (found := _lunar_birthday_in(year, month, lunar_day, leap)) is not None
    }
    return solar, lunar


def birthday_sources(plan: VisitPlan, first: date, last: date, calendar: WorkCalendar) -> list[QuerySet[Any]]:
    """The new tasks of a birthday plan, one ``values()`` queryset of ``FIELDS`` per solar
    year the anchor range touches."""
    lo, hi = _anchor_range(plan, first, last)
    days = [lo + timedelta(days=n) for n in range((hi - lo).days + 1)]
    schedules = _schedules(plan, days, first, last, calendar)
    # A lunar birthday whose day is missing falls back on the solar month-day (birthday_in):
    # such a row is found among the lunar months the range touches, as before.
    lunar_months = sorted({lunar_month_of(d) for d in days})
    solar_path = Q(birthday_is_lunar=False) | Q(
        Q(lunar_day__isnull=True) | Q(lunar_day=0), birthday_is_lunar=True, lunar_month__in=lunar_months
    )
    sources = []
    for year in sorted({lo.year, hi.year}):
        solar, lunar = birthdays_of_year(year)
        conditions: dict[Any, Q] = {}
        anchors: dict[Any, date] = {}
        by_day: dict[date, list[str]] = {}
        for mmdd, day in solar.items():
            if day in schedules:
                by_day.setdefault(day, []).append(mmdd)
        for day, mmdds in by_day.items():
            conditions[("solar", day)] = solar_path & Q(birth_mmdd__in=mmdds)
            anchors[("solar", day)] = day
        lunar_by_day: dict[tuple[date, int, bool], list[int]] = {}
        for (month, lunar_day, leap), day in lunar.items():
            if day in schedules:
                lunar_by_day.setdefault((day, month, leap), []).append(lunar_day)
        for (day, month, leap), lunar_days in lunar_by_day.items():
            conditions[("lunar", day, month, leap)] = Q(
                birthday_is_lunar=True, lunar_month=month, lunar_is_leap=leap, lunar_day__in=lunar_days
            )
            anchors[("lunar", day, month, leap)] = day
        if not conditions:
            continue
        per_anchor = {key: schedules[day] for key, day in anchors.items()}
        found = functools.reduce(operator.or_, conditions.values())
        occasion = Value(str(year), output_field=CharField())
        sources.append(
            Customer.objects.filter(
                found,
                _not_planned(plan, "pk", occasion),
                project_id=plan.project_id,
                stage=Stage.OWNER,
                is_archived=False,
            )
            .order_by()
            .values(
                "pk",
                occasion_key=occasion,
                deal_key=Cast(Value(None), BigIntegerField()),
                anchor=_case(_by_value(conditions, anchors, lambda d: d), DateField()),
                assignee_key=_assignee(plan, "owner_id"),
                **_date_columns(conditions, per_anchor),
            )
        )
    return sources


def sources(plan: VisitPlan, first: date, last: date, calendar: WorkCalendar) -> list[QuerySet[Any]]:
    """The plan's statements' sources (``FIELDS`` each) for starts in [first, last]."""
    if plan.occasion == Occasion.BIRTHDAY:
        return birthday_sources(plan, first, last, calendar)
    found = milestone_source(plan, first, last, calendar)
    return [] if found is None else [found]


def window(plan: VisitPlan, today: date) -> tuple[date, date]:
    return today - timedelta(days=plan.catch_up_days), today + timedelta(days=plan.lead_days)


def generate_for_plan(plan: VisitPlan, *, today: date, calendar: WorkCalendar) -> int:
    """The plan's tasks starting between ``catch_up_days`` ago and ``lead_days`` ahead;
    returns how many were inserted."""
    first, last = window(plan, today)
    constants = _constants(plan)
    created = 0
    with transaction.atomic():
        for source in sources(plan, first, last, calendar):
            created += bulk.insert_from(VisitTask, FIELDS, source, constants=constants, skip_conflicts=True)
    return created


def generate(*, now: datetime, calendar: WorkCalendar) -> int:
    """Every active plan of every project; returns how many tasks were created."""
    today = local_day(now)
    plans = VisitPlan.objects.filter(is_active=True).order_by("pk")
    return sum(generate_for_plan(plan, today=today, calendar=calendar) for plan in plans)
