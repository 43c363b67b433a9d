"""The set-based generation (crm.visits.planning) makes exactly the tasks of the previous
per-customer rule, kept here as the reference: each occasion read one by one, its dates
computed on the work calendar, the task made when its start is in the window.

A varied dataset: contracts, deliveries and move-ins around National Day 2026 and New
Year 2027 (a year without an entered calendar: estimated dates with the note), solar
birthdays (a Monday after a 调休 Sunday, 29 February, 31 December), lunar ones (a 30th in a
short month, a leap month, a missing day), prospects and archived customers (no task),
and a plan assigned to a named person."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.db.models import Q

from crm.customers.models import Customer, Deal, Stage
from crm.lib.lunar import solar_to_lunar
from crm.visits import planning, timing
from crm.visits.models import AssigneeRule, Occasion, VisitPlan, VisitTask

pytestmark = pytest.mark.django_db

Task = tuple[Any, ...]


# ----------------------------------------------------------- the previous rule, per customer


def _old_milestones(plan: VisitPlan, first: date, last: date) -> Iterator[tuple[int, int, str, date, int | None]]:
    field = planning.MILESTONE_FIELDS[Occasion(plan.occasion)]
    lo, hi = planning._anchor_range(plan, first, last)
    rows = Deal.objects.filter(
        project_id=plan.project_id,
        status=Deal.Status.ACTIVE,
        customer__is_archived=False,
        **{f"{field}__gte": lo, f"{field}__lte": hi},
    ).values_list("pk", "customer_id", "customer__owner_id", field)
    for deal_id, customer_id, owner_id, day in rows:
        yield customer_id, owner_id, f"deal:{deal_id}", day, deal_id


def _old_birthdays(plan: VisitPlan, first: date, last: date) -> Iterator[tuple[int, int, str, date, int | None]]:
    lo, hi = planning._anchor_range(plan, first, last)
    days = [lo + timedelta(days=n) for n in range((hi - lo).days + 1)]
    mmdds = {d.strftime("%m%d") for d in days} | ({"0229"} if "0228" in {d.strftime("%m%d") for d in days} else set())
    lunar_months = {solar_to_lunar(d)[0] for d in days}
    rows = (
        Customer.objects.filter(project_id=plan.project_id, stage=Stage.OWNER, is_archived=False)
        .filter(
            Q(birthday_is_lunar=False, birth_mmdd__in=sorted(mmdds))
            | Q(birthday_is_lunar=True, lunar_month__in=sorted(lunar_months))
        )
        .values_list("pk", "owner_id", "birth_mmdd", "birthday_is_lunar", "lunar_month", "lunar_day", "lunar_is_leap")
    )
    for pk, owner_id, mmdd, is_lunar, lunar_month, lunar_day, is_leap in rows:
        for year in sorted({lo.year, hi.year}):
            day = planning.birthday_in(year, (mmdd, is_lunar, lunar_month, lunar_day, is_leap))
            if day is not None and lo <= day <= hi:
                yield pk, owner_id, str(year), day, None


def reference(plan: VisitPlan, today: date, calendar) -> set[Task]:
    first, last = today - timedelta(days=plan.catch_up_days), today + timedelta(days=plan.lead_days)
    found = _old_birthdays if plan.occasion == Occasion.BIRTHDAY else _old_milestones
    tasks = set()
    for customer_id, owner_id, occasion, occasion_on, deal_id in found(plan, first, last):
        start, due, note = timing.schedule(occasion_on, planning.rule_of(plan), calendar)
        if first <= start <= last:
            assignee = owner_id if plan.assignee_rule == AssigneeRule.OWNER else plan.assignee_id
            tasks.add((customer_id, plan.pk, occasion, deal_id, occasion_on, assignee, start, due, note.lstrip("；")))
    return tasks


def made(plan: VisitPlan) -> set[Task]:
    return set(
        VisitTask.objects.filter(plan=plan).values_list(
            "customer_id",
            "plan_id",
            "occasion",
            "deal_id",
            "occasion_on",
            "assignee_id",
            "start_on",
            "due_on",
            "due_note",
        )
    )


# ----------------------------------------------------------------------------- the dataset

BIRTHDAYS: list[dict[str, Any]] = [
    {"birthday_on": date(1980, 9, 21)},  # Monday after the 调休 Sunday 09-20
    {"birthday_on": date(1988, 10, 1)},  # National Day
    {"birthday_on": date(1984, 2, 29)},
    {"birthday_on": date(1990, 12, 31)},
    {"birthday_on": date(1991, 1, 2)},
    {"birthday_on": date(1979, 1, 20)},
    {"birthday_on": date(1975, 9, 20), "birthday_is_lunar": True, "lunar_month": 8, "lunar_day": 15},
    {"birthday_on": date(1982, 10, 1), "birthday_is_lunar": True, "lunar_month": 8, "lunar_day": 30},
    {"birthday_on": date(1983, 10, 1), "birthday_is_lunar": True, "lunar_month": 9, "lunar_day": 1},
    {"birthday_on": date(1976, 11, 1), "birthday_is_lunar": True, "lunar_month": 11, "lunar_day": 30},
    {"birthday_on": date(1977, 12, 1), "birthday_is_lunar": True, "lunar_month": 12, "lunar_day": 8},
    {
        "birthday_on": date(1987, 7, 1),
        "birthday_is_lunar": True,
        "lunar_month": 8,
        "lunar_day": 20,
        "lunar_is_leap": True,
    },
    {"birthday_on": date(1978, 9, 28)},  # made lunar without a day below (an old import): the solar one counts
]
MILESTONES = [
    {"contracted_on": date(2026, 9, 25)},  # Friday before National Day (中秋)
    {"contracted_on": date(2026, 9, 30)},
    {"contracted_on": date(2026, 12, 28)},  # due in 2027: an estimate
    {"contracted_on": date(2027, 1, 4)},
    {"contracted_on": date(2026, 9, 1), "delivery_planned_on": date(2026, 10, 31)},  # −1 month
    {"contracted_on": date(2026, 9, 1), "delivery_planned_on": date(2027, 1, 31)},
    {"contracted_on": date(2026, 5, 1), "moved_in_on": date(2026, 6, 30)},  # +3 months: 09-30
    {"contracted_on": date(2026, 5, 1), "moved_in_on": date(2026, 10, 3)},
]
DAYS = [date(2026, 9, 14), date(2026, 9, 28), date(2026, 10, 8), date(2026, 12, 24), date(2027, 1, 15)]


@pytest.fixture
def varied(plans, project, project_b, make_customer, make_deal, service) -> list[VisitPlan]:
    delivery = plans["交房前回访"]
    delivery.assignee = service
    delivery.save()
    for n, birthday in enumerate(BIRTHDAYS):
        customer = make_customer(f"业主{n}", **birthday)
        Customer.objects.filter(pk=customer.pk).update(stage=Stage.OWNER)
    Customer.objects.filter(pk=customer.pk).update(birthday_is_lunar=True, lunar_month=8, lunar_day=None)
    make_customer("意向客户", birthday_on=date(1980, 9, 21))  # a prospect: no birthday call
    archived = make_customer("归档业主", birthday_on=date(1980, 9, 21))
    Customer.objects.filter(pk=archived.pk).update(stage=Stage.OWNER, is_archived=True)
    other = make_customer("乙盘业主", project=project_b, birthday_on=date(1980, 9, 21))
    Customer.objects.filter(pk=other.pk).update(stage=Stage.OWNER)
    for n, dates in enumerate(MILESTONES):
        buyer = make_customer(f"买家{n}")
        deal = make_deal(buyer, subscribed_on=date(2026, 1, 5))
        Deal.objects.filter(pk=deal.pk).update(**dates)  # dates ahead of the wall clock: set, not entered
    gone = make_customer("退房客户")
    cancelled = make_deal(gone, subscribed_on=date(2026, 9, 20), contracted_on=date(2026, 9, 25))
    Deal.objects.filter(pk=cancelled.pk).update(status=Deal.Status.CANCELLED)
    return list(VisitPlan.objects.order_by("pk"))


@pytest.mark.parametrize("today", DAYS, ids=str)
def test_the_set_based_generation_makes_the_tasks_of_the_per_customer_rule(varied, today, calendar):
    expected = {plan.pk: reference(plan, today, calendar) for plan in varied}
    created = sum(planning.generate_for_plan(plan, today=today, calendar=calendar) for plan in varied)

    assert {plan.pk: made(plan) for plan in varied} == expected
    assert created == sum(len(tasks) for tasks in expected.values()) > 0
    assert sum(planning.generate_for_plan(plan, today=today, calendar=calendar) for plan in varied) == 0


def test_the_dataset_reaches_every_kind_of_occasion(varied, calendar):
    """The comparison above means something: over its days every plan made tasks, some
    with estimated dates, lunar and leap-month birthdays among them."""
    tasks: set[Task] = set()
    for today in DAYS:
        for plan in varied:
            tasks |= reference(plan, today, calendar)
    plans = {p.pk: p for p in varied}
    assert {plans[t[1]].name for t in tasks} >= {"签约回访", "交房前回访", "入住回访", "生日回访"}
    assert any(t[8] for t in tasks)  # a 2027 date: the estimate note
    lunar = set(Customer.objects.filter(birthday_is_lunar=True).values_list("pk", flat=True))
    assert len({t[0] for t in tasks} & lunar) >= 4
    leap = Customer.objects.get(lunar_is_leap=True).pk
    assert leap in {t[0] for t in tasks}


def test_the_month_table_gives_crm_lib_lunar_dates_for_every_key():
    """The planner's lunar month table (24 look-ups a year) agrees with crm.lib.lunar's
    per-key conversion for every birthday key in a year with a leap month (2025: 闰六月)
    and in the months around its New Year."""
    from crm.lib.lunar import lunar_birthday_in, solar_to_lunar

    _, lunar = planning.birthdays_of_year(2025)
    for (month, day, leap), found in lunar.items():
        assert found == lunar_birthday_in(2025, month, day, leap=leap), (month, day, leap)
    for n in range(0, 400, 3):
        day = date(2024, 12, 1) + timedelta(days=n)
        assert planning.lunar_month_of(day) == solar_to_lunar(day)[0], day
