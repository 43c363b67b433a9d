"""Turning the periodic plans into visit tasks (the job ``generate_visit_tasks``).

For each active plan:
1. the occasions whose visit starts between ``catch_up_days`` ago and ``lead_days`` ahead
   are read in one query (deals of the plan's project with the milestone date in a range
   wide enough for the offset; owners of the project with a birthday near the range),
   and each one's start and due date are computed on the work calendar (crm.visits.timing);
2. occasions that already have a task are left out, the rest are inserted in one
   statement; the unique (customer, plan, occasion) key makes a second runner or a rerun
   insert nothing (``ignore_conflicts``), so the job is idempotent.

The occasion key is ``deal:<id>`` for a milestone (a customer with two units gets two
visits) and the solar year for a birthday.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q

from crm.customers.models import Customer, Deal, Stage
from crm.lib.dates import local_day
from crm.lib.lunar import lunar_birthday_in, solar_to_lunar
from crm.visits import timing
from crm.visits.models import AssigneeRule, Occasion, VisitPlan, VisitTask

if TYPE_CHECKING:
    from crm.lib.workcalendar import WorkCalendar

MILESTONE_FIELDS = {
    Occasion.CONTRACT: "contracted_on",
    Occasion.DELIVERY: "delivery_planned_on",
    Occasion.MOVE_IN: "moved_in_on",
}
BATCH = 1000


@dataclass(frozen=True)
class Candidate:
    customer_id: int
    owner_id: int
    occasion: str
    occasion_on: date
    deal_id: int | None = None


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


def _milestones(plan: VisitPlan, first: date, last: date) -> Iterator[Candidate]:
    field = MILESTONE_FIELDS[Occasion(plan.occasion)]
    lo, hi = _anchor_range(plan, first, last)
    rows = (
        Deal.objects.filter(
            project_id=plan.project_id,
            status=Deal.Status.ACTIVE,
            customer__is_archived=False,
            **{f"{field}__gte": lo, f"{field}__lte": hi},
        )
        .order_by()
        .values_list("pk", "customer_id", "customer__owner_id", field)
    )
    for deal_id, customer_id, owner_id, day in rows.iterator(chunk_size=BATCH):
        yield Candidate(customer_id, owner_id, f"deal:{deal_id}", day, deal_id)


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


def _birthdays(plan: VisitPlan, first: date, last: date) -> Iterator[Candidate]:
    lo, hi = _anchor_range(plan, first, last)
    days = [lo + timedelta(days=n) for n in range((hi - lo).days + 1)]
    mmdds = {d.strftime("%m%d") for d in days} | ({"0229"} if "0228" in {d.strftime("%m%d") for d in days} else set())
    lunar_months = {solar_to_lunar(d)[0] for d in days}
    rows = (
        Customer.objects.filter(project_id=plan.project_id, stage=Stage.OWNER, is_archived=False)
        .filter(
            Q(birthday_is_lunar=False, birth_mmdd__in=sorted(mmdds))
            | Q(birthday_is_lunar=True, lunar_month__in=sorted(lunar_months))
        )
        .order_by()
        .values_list("pk", "owner_id", "birth_mmdd", "birthday_is_lunar", "lunar_month", "lunar_day", "lunar_is_leap")
    )
    for pk, owner_id, mmdd, is_lunar, lunar_month, lunar_day, is_leap in rows.iterator(chunk_size=BATCH):
        for year in sorted({lo.year, hi.year}):
            day = birthday_in(year, (mmdd, is_lunar, lunar_month, lunar_day, is_leap))
            if day is not None and lo <= day <= hi:
                yield Candidate(pk, owner_id, str(year), day)


def candidates(plan: VisitPlan, first: date, last: date) -> Iterator[Candidate]:
    if plan.occasion == Occasion.BIRTHDAY:
        return _birthdays(plan, first, last)
    return _milestones(plan, first, last)


def generate_for_plan(plan: VisitPlan, *, today: date, calendar: WorkCalendar) -> int:
    """The plan's tasks starting between ``catch_up_days`` ago and ``lead_days`` ahead."""
    first, last = today - timedelta(days=plan.catch_up_days), today + timedelta(days=plan.lead_days)
    rule = rule_of(plan)
    questions = plan.question_list
    created = 0
    for chunk in _chunks(candidates(plan, first, last), BATCH):
        existing = set(
            VisitTask.objects.filter(
                plan=plan, customer_id__in={c.customer_id for c in chunk}, occasion__in={c.occasion for c in chunk}
            ).values_list("customer_id", "occasion")
        )
        rows = []
        for c in chunk:
            if (c.customer_id, c.occasion) in existing:
                continue
            start, due, note = timing.schedule(c.occasion_on, rule, calendar)
            if not first <= start <= last:
                continue
            assignee_id = c.owner_id if plan.assignee_rule == AssigneeRule.OWNER else plan.assignee_id
            rows.append(
                VisitTask(
                    company_id=plan.company_id,
                    customer_id=c.customer_id,
                    project_id=plan.project_id,
                    plan=plan,
                    occasion=c.occasion,
                    deal_id=c.deal_id,
                    occasion_on=c.occasion_on,
                    purpose=plan.purpose,
                    channel=plan.channel,
                    questions=questions,
                    assignee_id=assignee_id,
                    start_on=start,
                    due_on=due,
                    due_note=note.lstrip("；")[:200],
                    max_attempts=plan.max_attempts,
                )
            )
        with transaction.atomic():
            # A second runner may insert the same occasion between the read and here: the
            # unique key turns its row into a no-op instead of a duplicate visit.
            VisitTask.objects.bulk_create(rows, ignore_conflicts=True)
        created += len(rows)
    return created


def _chunks(items: Iterable[Candidate], size: int) -> Iterator[list[Candidate]]:
    chunk: list[Candidate] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def generate(*, now: datetime, calendar: WorkCalendar) -> int:
    """Every active plan of every project; returns how many tasks were created."""
    today = local_day(now)
    plans = VisitPlan.objects.filter(is_active=True).order_by("pk")
    return sum(generate_for_plan(plan, today=today, calendar=calendar) for plan in plans)
