"""Planning jobs: turn today's occasions into outbox rows (idempotent, set-based).

Each job takes ``now``, finds the occasions of its trigger that fall on today (Asia/Shanghai),
and inserts one OutboundMessage per recipient in one statement (crm.care.outbox) with ON
CONFLICT DO NOTHING: the unique (customer, trigger, occasion) key makes a second run, a
second runner or a redelivered Celery task a no-op. Consent is filtered here and checked
again at send time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat

from crm.care import outbox, templating, timing
from crm.care.audience import reachable
from crm.care.models import CareRule, Draft, MoveInBatch, OutboundMessage
from crm.care.rules import FESTIVALS, Audience, Purpose, Trigger
from crm.care.services import base_values, create_draft, ensure_rules
from crm.core.calendar import work_calendar
from crm.customers.models import Customer, Deal, FamilyMember, MoveInKind, Stage
from crm.lib.dates import local_day
from crm.lib.lunar import leap_month, lunar_date_of
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar
from crm.projects.models import Project

log = logging.getLogger("crm.care.planning")

Row = tuple[int, int | None, dict[str, object]]  # (customer id, family member id, values)


def _rules(trigger: str) -> list[CareRule]:
    for project in Project.objects.filter(is_active=True).exclude(care_rules__trigger=trigger):
        ensure_rules(project)
    return list(
        CareRule.objects.filter(trigger=trigger, is_enabled=True, project__is_active=True).select_related(
            "project__company"
        )
    )


def _grouped(rows: Iterable[tuple[int, int, int | None, dict[str, object]]]) -> dict[int, list[Row]]:
    """(project id, customer id, member id, values) rows → the rows of each project."""
    by_project: dict[int, list[Row]] = defaultdict(list)
    for project_id, customer_id, member_id, values in rows:
        by_project[project_id].append((customer_id, member_id, values))
    return by_project


def not_planned(trigger: str, occasion: Any, *, customer: str = "pk", member: str | None = None) -> Q:
    """No message of ``trigger`` for this occasion yet: an anti-join the unique key's index
    answers, so a planner's query returns only what is new (every run after the day's first
    is then a read)."""
    planned = OutboundMessage.objects.filter(customer_id=OuterRef(customer), trigger=trigger, occasion=occasion)
    if member is None:
        planned = planned.filter(family_member__isnull=True)
    else:
        planned = planned.filter(family_member_id=OuterRef(member))
    return ~Q(Exists(planned))


DEAL_OCCASION = Concat(Value("deal:"), Cast(OuterRef("pk"), output_field=CharField()))


def _queue(
    rules: list[CareRule],
    day: date,
    rows: dict[int, list[Row]],
    *,
    occasion: str | None = None,
    occasion_of: Any = None,
) -> int:
    """Insert one scheduled message per row (``rows`` by project) in its project's rule window
    on ``day``; returns how many were inserted.

    The planners' queries leave out what is already planned (``not_planned``), so the rows
    are new but for a concurrent runner's, which the unique key settles (ON CONFLICT DO
    NOTHING: the count is of rows really inserted). One INSERT (crm.care.outbox.queue); a
    text is rendered once per rule and distinct set of the values its template uses (for
    most rules: once), and each row only points at its text's spec.
    """
    texts = _Texts(day)
    keyed: dict[tuple[int, int | None, str], int] = {}
    for rule in rules:
        for customer_id, member_id, values in rows.get(rule.project_id, ()):
            key = occasion if occasion is not None else occasion_of(customer_id, member_id, values)
            keyed[(customer_id, member_id, key)] = texts.spec(rule, values)
    return outbox.queue([(c, m, o, k) for (c, m, o), k in keyed.items()], texts.specs)


class _Texts:
    """The outbox values shared by many rows (rule, text, gateway parameters, window):
    one spec per rule and distinct set of the values its template uses."""

    def __init__(self, day: date) -> None:
        self.day = day
        self.specs: list[dict[str, object]] = []
        self._index: dict[tuple[object, ...], int] = {}
        self._used: dict[int, list[str]] = {}

    def spec(self, rule: CareRule, values: dict[str, object]) -> int:
        """The index in ``specs`` of this rule's spec for ``values``."""
        if rule.pk not in self._used:
            self._used[rule.pk] = templating.placeholders(rule.template)
        key = (rule.pk, *(values.get(name) for name in self._used[rule.pk]))
        index = self._index.get(key)
        if index is None:
            merged = base_values(rule.project) | values
            start, end = timing.window(self.day, rule.window_start, rule.window_end)
            index = self._index[key] = len(self.specs)
            self.specs.append(
                {
                    "project_id": rule.project_id,
                    "rule_id": rule.pk,
                    "trigger": rule.trigger,
                    "purpose": rule.purpose,
                    "text": templating.render(rule.template, merged, purpose=rule.purpose, strict=False),
                    "params": templating.template_params(rule.template, merged),
                    "scheduled_at": start,
                    "next_attempt_at": start,
                    "window_ends_at": end,
                }
            )
        return index


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


# Each planner reads its candidates for every project in one query (a scan of the customers
# or deals per trigger, not per project) and inserts per rule; see docs/performance.md.


@transaction.atomic  # one commit for both triggers
def plan_birthdays(*, now: datetime) -> int:
    """Owners' birthdays (solar or lunar) today, 10:00–10:30; family members' where consented."""
    day = local_day(now)
    mmdd = day.strftime("%m%d")
    created = 0
    rules = _rules(Trigger.BIRTHDAY)
    owners = reachable(
        Customer.objects.filter(project_id__in=[r.project_id for r in rules], stage=Stage.OWNER), Purpose.CARE
    ).filter(Q(birth_mmdd=mmdd) | lunar_birthday_q(day), not_planned(Trigger.BIRTHDAY, day.isoformat()))
    rows = _grouped((project_id, pk, None, {}) for project_id, pk in owners.order_by().values_list("project_id", "pk"))
    created += _queue(rules, day, rows, occasion=day.isoformat())
    rules = _rules(Trigger.FAMILY_BIRTHDAY)
    members = (
        FamilyMember.objects.filter(
            Q(birth_mmdd=mmdd) | lunar_birthday_q(day),
            not_planned(Trigger.FAMILY_BIRTHDAY, day.isoformat(), customer="customer_id", member="pk"),
            consent_care=True,
            customer__project_id__in=[r.project_id for r in rules],
            customer__stage=Stage.OWNER,
            customer__consent_care=True,
            customer__has_opted_out=False,
            customer__is_archived=False,
        )
        .order_by()
        .values_list("customer__project_id", "customer_id", "pk", "name")
    )
    rows = _grouped((project_id, cid, mid, {"家人": name}) for project_id, cid, mid, name in members)
    return created + _queue(rules, day, rows, occasion=day.isoformat())


DEAL_FIELDS = ("project_id", "pk", "customer_id", "subscribed_on", "contracted_on")


def _deal_rows(
    deals: Any, rules: list[CareRule], purpose: str, trigger: str, occasion: Any = DEAL_OCCASION
) -> dict[int, list[Row]]:
    """Rows of the deals not yet planned whose customer may receive a message of ``purpose``,
    by project (the occasion is the deal unless given). The unit's layout ({户型}) is read
    only when one of ``rules``' templates uses it: otherwise the join costs a probe per deal
    for nothing (6,000 on a busy subscription day)."""
    reachable_customer = reachable(Customer.objects.filter(pk=OuterRef("customer_id")), purpose)
    deals = deals.filter(Exists(reachable_customer), not_planned(trigger, occasion, customer="customer_id"))
    with_layout = any("户型" in templating.placeholders(rule.template) for rule in rules)
    fields = (*DEAL_FIELDS, "unit__layout") if with_layout else DEAL_FIELDS
    deadline_days = getattr(settings, "CARE_SIGNING_DEADLINE_DAYS", 7)
    return _grouped(
        (project_id, customer_id, None, _deal_values(pk, subscribed_on, contracted_on, layout, deadline_days))
        for project_id, pk, customer_id, subscribed_on, contracted_on, *layout in deals.order_by().values_list(*fields)
    )


def _deal_values(
    pk: int, subscribed_on: date, contracted_on: date | None, layout: list[str], deadline_days: int
) -> dict[str, object]:
    due = subscribed_on + timedelta(days=deadline_days)
    values: dict[str, object] = {"_deal": pk, "签约日期": f"{due.year}年{due.month}月{due.day}日"}
    if layout:
        values["户型"] = layout[0]
    if contracted_on:
        values["_contracted_year"] = contracted_on.year
    return values


def _by_deal(customer_id: int, member_id: int | None, values: dict[str, object]) -> str:
    return f"deal:{values['_deal']}"


def _per_offset(rules: list[CareRule], condition: Any) -> Q:
    """One query for rules whose offset (days after the trigger date) differs by project:
    ``condition(offset_days)`` for the projects of each distinct offset, OR-ed."""
    projects: dict[int, list[int]] = defaultdict(list)
    for rule in rules:
        projects[rule.offset_days].append(rule.project_id)
    q = Q(pk__in=[])
    for offset_days, project_ids in projects.items():
        q |= Q(project_id__in=project_ids) & condition(offset_days)
    return q


def plan_subscription_congratulations(*, now: datetime, cal: WorkCalendar | None = None) -> int:
    """Working days 10:00–10:30: customers who subscribed since the previous working day."""
    day = local_day(now)
    cal = cal or work_calendar()
    span = timing.subscription_range(day, cal)
    if span is None:
        return 0
    rules = _rules(Trigger.SUBSCRIPTION)
    deals = Deal.objects.filter(
        project_id__in=[r.project_id for r in rules], status=Deal.Status.ACTIVE, subscribed_on__range=span
    )
    purpose = rules[0].purpose if rules else Purpose.CARE
    return _queue(rules, day, _deal_rows(deals, rules, purpose, Trigger.SUBSCRIPTION), occasion_of=_by_deal)


def plan_signing_reminders(*, now: datetime) -> int:
    """Day 5 after subscription at 16:00, only while the contract is unsigned (checked again at send)."""
    day = local_day(now)
    rules = _rules(Trigger.SIGNING_REMINDER)
    deals = Deal.objects.filter(
        _per_offset(rules, lambda offset: Q(subscribed_on=day - timedelta(days=offset))),
        status=Deal.Status.ACTIVE,
        contracted_on__isnull=True,
    )
    purpose = rules[0].purpose if rules else Purpose.NOTIFICATION
    return _queue(rules, day, _deal_rows(deals, rules, purpose, Trigger.SIGNING_REMINDER), occasion_of=_by_deal)


CATCH_UP_DAYS = 7  # a milestone entered late is still announced, once


@transaction.atomic  # one commit for both triggers
def plan_milestone_notices(*, now: datetime) -> int:
    """Full payment received and contract filed: the next day at 10:00."""
    day = local_day(now)
    created = 0
    for trigger, field in ((Trigger.FULL_PAYMENT, "full_payment_on"), (Trigger.FILING, "filed_on")):
        rules = _rules(trigger)

        def announced(offset: int, field: str = field) -> Q:
            latest = day - timedelta(days=offset)
            return Q(**{f"{field}__lte": latest, f"{field}__gt": latest - timedelta(days=CATCH_UP_DAYS)})

        deals = Deal.objects.filter(_per_offset(rules, announced), status=Deal.Status.ACTIVE)
        purpose = rules[0].purpose if rules else Purpose.NOTIFICATION
        created += _queue(rules, day, _deal_rows(deals, rules, purpose, trigger), occasion_of=_by_deal)
    return created


def plan_move_in_greetings(*, now: datetime) -> int:
    """Batch move-in: the 3rd day after the batch ends; individual: the 7th day after moving in."""
    day = local_day(now)
    rules = _rules(Trigger.MOVE_IN)
    projects = [r.project_id for r in rules]
    moved_in = Q(moved_in_on=day - timedelta(days=7), move_in_kind=MoveInKind.INDIVIDUAL)
    for batch in MoveInBatch.objects.filter(project_id__in=projects, ends_on=day - timedelta(days=3)):
        moved_in |= Q(
            project_id=batch.project_id,
            moved_in_on__range=(batch.starts_on, batch.ends_on),
            move_in_kind=MoveInKind.BATCH,
        )
    deals = Deal.objects.filter(moved_in, project_id__in=projects, status=Deal.Status.ACTIVE)
    purpose = rules[0].purpose if rules else Purpose.CARE
    return _queue(rules, day, _deal_rows(deals, rules, purpose, Trigger.MOVE_IN), occasion_of=_by_deal)


def plan_anniversaries(*, now: datetime) -> int:
    """Owners on the anniversary of signing (seed 003: 购房周年)."""
    day = local_day(now)
    rules = _rules(Trigger.ANNIVERSARY)
    deals = Deal.objects.filter(
        project_id__in=[r.project_id for r in rules],
        status=Deal.Status.ACTIVE,
        contracted_on__month=day.month,
        contracted_on__day=day.day,
        contracted_on__lt=day.replace(day=1, month=1),
    )
    purpose = rules[0].purpose if rules else Purpose.CARE
    rows = {
        project_id: [(c, m, v | {"年数": day.year - int(str(v["_contracted_year"]))}) for c, m, v in project_rows]
        for project_id, project_rows in _deal_rows(deals, rules, purpose, Trigger.ANNIVERSARY, str(day.year)).items()
    }
    return _queue(rules, day, rows, occasion=str(day.year))


def draft_approval_messages(*, now: datetime, cal: WorkCalendar | None = None) -> int:
    """The working day before a festival or a construction-progress Thursday, draft the
    message for the general-affairs group's approval (seed 001: 前一工作日编写…上报审批)."""
    day = local_day(now)
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
    """Every planner for today; safe to run any number of times a day.

    A planner that needs the work calendar of a year nobody has entered yet (CalendarUnknown)
    plans nothing and is logged; the others still run (birthdays need no work calendar).
    Administrators are warned on the workbench from 1 November.
    """
    total = 0
    for planner in (*PLANNERS, draft_approval_messages):
        try:
            total += planner(now=now)
        except CalendarUnknown as exc:
            log.error("%s skipped: %s", planner.__name__, exc.message)
    return total


__all__ = ["PLANNERS", "Audience", "draft_approval_messages", "plan_today"]
