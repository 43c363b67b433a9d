"""Planning jobs: turn today's occasions into outbox rows (idempotent, set-based).

Each job takes ``now``, finds the occasions of its trigger that fall on today (Asia/Shanghai),
and bulk-inserts one OutboundMessage per recipient with ``ignore_conflicts``: the unique
(customer, trigger, occasion) key makes a second run, a second runner or a redelivered
Celery task a no-op. Consent is filtered here and checked again at send time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from crm.care import templating, timing
from crm.care.audience import reachable
from crm.care.models import CareRule, Draft, MoveInBatch, OutboundMessage
from crm.care.rules import FESTIVALS, Audience, Purpose, Trigger
from crm.care.services import base_values, create_draft, ensure_rules
from crm.core.calendar import work_calendar
from crm.customers.models import Customer, Deal, FamilyMember, MoveInKind, Stage
from crm.lib.lunar import leap_month, lunar_date_of
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar
from crm.projects.models import Project

Row = tuple[int, int | None, dict[str, object]]  # (customer id, family member id, values)


def _today(now: datetime) -> date:
    return timezone.localtime(now, timing.SHANGHAI).date()


def _rules(trigger: str) -> list[CareRule]:
    for project in Project.objects.filter(is_active=True).exclude(care_rules__trigger=trigger):
        ensure_rules(project)
    return list(
        CareRule.objects.filter(trigger=trigger, is_enabled=True, project__is_active=True).select_related(
            "project__company"
        )
    )


def _queue(
    rule: CareRule, day: date, rows: Iterable[Row], *, occasion: str | None = None, occasion_of: Any = None
) -> int:
    """Insert one scheduled message per row in the rule's window on ``day``; existing ones stay.

    Rows already planned are skipped before the insert (for the count); the unique key with
    ``ignore_conflicts`` still settles a race with a concurrent runner.
    """
    start, end = timing.window(day, rule.window_start, rule.window_end)
    base = base_values(rule.project)
    keyed = [
        (
            customer_id,
            member_id,
            values,
            occasion if occasion is not None else occasion_of(customer_id, member_id, values),
        )
        for customer_id, member_id, values in rows
    ]
    if not keyed:
        return 0
    existing = set(
        OutboundMessage.objects.filter(
            trigger=rule.trigger,
            customer_id__in={k[0] for k in keyed},
            occasion__in={k[3] for k in keyed},
        ).values_list("customer_id", "family_member_id", "occasion")
    )
    messages = [
        OutboundMessage(
            customer_id=customer_id,
            family_member_id=member_id,
            project_id=rule.project_id,
            rule=rule,
            trigger=rule.trigger,
            occasion=key,
            purpose=rule.purpose,
            text=templating.render(rule.template, base | values, purpose=rule.purpose, strict=False),
            params=templating.template_params(rule.template, base | values),
            scheduled_at=start,
            next_attempt_at=start,
            window_ends_at=end,
        )
        for customer_id, member_id, values, key in keyed
        if (customer_id, member_id, key) not in existing
    ]
    OutboundMessage.objects.bulk_create(messages, batch_size=1000, ignore_conflicts=True)
    return len(messages)


def lunar_birthday_q(day: date, prefix: str = "") -> Q:
    """Lunar birthdays celebrated on solar ``day``, with the fallbacks of crm.lib.lunar:
    a 30th the month lacks is kept on its 29th; a leap-month birthday is kept in the
    regular month when the year has no such leap month."""
    lunar_year, month, lunar_day, is_leap = lunar_date_of(day)
    days = [lunar_day]
    if lunar_day == 29 and lunar_date_of(day + timedelta(days=1))[2] == 1:
        days.append(30)  # this month has no 30th
    born = Q(**{f"{prefix}birthday_is_lunar": True, f"{prefix}lunar_month": month, f"{prefix}lunar_day__in": days})
    if is_leap:
        return born & Q(**{f"{prefix}lunar_is_leap": True})
    if leap_month(lunar_year) == month:
        return born & Q(**{f"{prefix}lunar_is_leap": False})
    return born  # no leap month of this number this year: leap-born celebrate in the regular one


def plan_birthdays(*, now: datetime) -> int:
    """Owners' birthdays (solar or lunar) today, 10:00–10:30; family members' where consented."""
    day = _today(now)
    mmdd = day.strftime("%m%d")
    created = 0
    for rule in _rules(Trigger.BIRTHDAY):
        owners = reachable(Customer.objects.filter(project_id=rule.project_id, stage=Stage.OWNER), Purpose.CARE)
        ids = owners.filter(Q(birth_mmdd=mmdd) | lunar_birthday_q(day)).values_list("pk", flat=True)
        created += _queue(rule, day, ((pk, None, {}) for pk in ids.iterator()), occasion=day.isoformat())
    for rule in _rules(Trigger.FAMILY_BIRTHDAY):
        members = FamilyMember.objects.filter(
            Q(birth_mmdd=mmdd) | lunar_birthday_q(day),
            consent_care=True,
            customer__project_id=rule.project_id,
            customer__stage=Stage.OWNER,
            customer__consent_care=True,
            customer__has_opted_out=False,
            customer__is_archived=False,
        ).values_list("customer_id", "pk", "name")
        rows: list[Row] = [(cid, mid, {"家人": name}) for cid, mid, name in members.iterator()]
        created += _queue(rule, day, rows, occasion=day.isoformat())
    return created


def _deal_rows(deals: Any, purpose: str) -> list[Row]:
    customers = set(
        reachable(Customer.objects.filter(pk__in=deals.values("customer_id")), purpose).values_list("pk", flat=True)
    )
    return [(d.customer_id, None, {"_deal": d.pk, **_deal_values(d)}) for d in deals if d.customer_id in customers]


def _deal_values(deal: Deal) -> dict[str, object]:
    deadline_days = getattr(settings, "CARE_SIGNING_DEADLINE_DAYS", 7)
    due = deal.subscribed_on + timedelta(days=deadline_days)
    values: dict[str, object] = {"签约日期": f"{due.year}年{due.month}月{due.day}日", "户型": deal.unit.layout}
    if deal.contracted_on:
        values["_contracted_year"] = deal.contracted_on.year
    return values


def _by_deal(customer_id: int, member_id: int | None, values: dict[str, object]) -> str:
    return f"deal:{values['_deal']}"


def plan_subscription_congratulations(*, now: datetime, cal: WorkCalendar | None = None) -> int:
    """Working days 10:00–10:30: customers who subscribed since the previous working day."""
    day = _today(now)
    cal = cal or work_calendar()
    span = timing.subscription_range(day, cal)
    if span is None:
        return 0
    created = 0
    for rule in _rules(Trigger.SUBSCRIPTION):
        deals = Deal.objects.filter(
            project_id=rule.project_id, status=Deal.Status.ACTIVE, subscribed_on__range=span
        ).select_related("unit")
        created += _queue(rule, day, _deal_rows(deals, rule.purpose), occasion_of=_by_deal)
    return created


def plan_signing_reminders(*, now: datetime) -> int:
    """Day 5 after subscription at 16:00, only while the contract is unsigned (checked again at send)."""
    day = _today(now)
    created = 0
    for rule in _rules(Trigger.SIGNING_REMINDER):
        deals = Deal.objects.filter(
            project_id=rule.project_id,
            status=Deal.Status.ACTIVE,
            contracted_on__isnull=True,
            subscribed_on=day - timedelta(days=rule.offset_days),
        ).select_related("unit")
        created += _queue(rule, day, _deal_rows(deals, rule.purpose), occasion_of=_by_deal)
    return created


CATCH_UP_DAYS = 7  # a milestone entered late is still announced, once


def plan_milestone_notices(*, now: datetime) -> int:
    """Full payment received and contract filed: the next day at 10:00."""
    day = _today(now)
    created = 0
    for trigger, field in ((Trigger.FULL_PAYMENT, "full_payment_on"), (Trigger.FILING, "filed_on")):
        for rule in _rules(trigger):
            latest = day - timedelta(days=rule.offset_days)
            deals = Deal.objects.filter(
                project_id=rule.project_id,
                status=Deal.Status.ACTIVE,
                **{f"{field}__lte": latest, f"{field}__gt": latest - timedelta(days=CATCH_UP_DAYS)},
            ).select_related("unit")
            created += _queue(rule, day, _deal_rows(deals, rule.purpose), occasion_of=_by_deal)
    return created


def plan_move_in_greetings(*, now: datetime) -> int:
    """Batch move-in: the 3rd day after the batch ends; individual: the 7th day after moving in."""
    day = _today(now)
    created = 0
    for rule in _rules(Trigger.MOVE_IN):
        batches = MoveInBatch.objects.filter(project_id=rule.project_id, ends_on=day - timedelta(days=3))
        batch_q = Q()
        for batch in batches:
            batch_q |= Q(moved_in_on__range=(batch.starts_on, batch.ends_on), move_in_kind=MoveInKind.BATCH)
        individual = Q(moved_in_on=day - timedelta(days=7), move_in_kind=MoveInKind.INDIVIDUAL)
        deals = Deal.objects.filter(
            individual | batch_q if batches else individual, project_id=rule.project_id, status=Deal.Status.ACTIVE
        ).select_related("unit")
        created += _queue(rule, day, _deal_rows(deals, rule.purpose), occasion_of=_by_deal)
    return created


def plan_anniversaries(*, now: datetime) -> int:
    """Owners on the anniversary of signing (seed 003: 购房周年)."""
    day = _today(now)
    created = 0
    for rule in _rules(Trigger.ANNIVERSARY):
        deals = Deal.objects.filter(
            project_id=rule.project_id,
            status=Deal.Status.ACTIVE,
            contracted_on__month=day.month,
            contracted_on__day=day.day,
            contracted_on__lt=day.replace(day=1, month=1),
        ).select_related("unit")
        rows = [
            (c, m, v | {"年数": day.year - int(str(v["_contracted_year"]))})
            for c, m, v in _deal_rows(deals, rule.purpose)
        ]
        created += _queue(rule, day, rows, occasion=str(day.year))
    return created


def draft_approval_messages(*, now: datetime, cal: WorkCalendar | None = None) -> int:
    """The working day before a festival or a construction-progress Thursday, draft the
    message for the general-affairs group's approval (seed 001: 前一工作日编写…上报审批)."""
    day = _today(now)
    cal = cal or work_calendar()
    try:
        if not cal.is_working_day(day):
            return 0
        next_working = cal.next_working_day(day)
    except CalendarUnknown:
        return 0
    created = 0
    # Every day from tomorrow up to the next working day is drafted today (weekends, holidays).
    horizon = [day + timedelta(days=i) for i in range(1, (next_working - day).days + 1)]
    for target in horizon:
        for trigger in FESTIVALS:
            for year in {target.year}:
                try:
                    send_on = timing.festival_day(trigger, year, cal)
                except CalendarUnknown:
                    continue
                if send_on != target:
                    continue
                for rule in _rules(trigger):
                    if _draft(rule, occasion=f"{year}", send_on=send_on):
                        created += 1
        if timing.is_construction_day(target):
            for rule in _rules(Trigger.CONSTRUCTION):
                if _draft(rule, occasion=target.isoformat(), send_on=target):
                    created += 1
    return created


def _draft(rule: CareRule, *, occasion: str, send_on: date) -> bool:
    exists = Draft.objects.filter(rule=rule, occasion=occasion).exists()
    if not exists:
        create_draft(rule, occasion=occasion, send_on=send_on)
    return not exists


PLANNERS = (
    plan_birthdays,
    plan_subscription_congratulations,
    plan_signing_reminders,
    plan_milestone_notices,
    plan_move_in_greetings,
    plan_anniversaries,
)


def plan_today(*, now: datetime) -> int:
    """Every planner for today; safe to run any number of times a day."""
    return sum(planner(now=now) for planner in PLANNERS) + draft_approval_messages(now=now)


__all__ = ["PLANNERS", "Audience", "draft_approval_messages", "plan_today"]
