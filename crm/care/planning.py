"""Planning jobs: turn today's occasions into outbox rows (idempotent, set-based).

Each job takes ``now``, finds the occasions of its trigger that fall on today (Asia/Shanghai),
and inserts one OutboundMessage per recipient in one statement (crm.care.outbox) with ON
CONFLICT DO NOTHING: the unique (customer, trigger, occasion) key makes a second run, a
second runner or a redelivered Celery task a no-op. Consent is filtered here and checked
again at send time.

Nothing is lost to timing or sent with a gap:
1. A message goes in its rule's window today while that is open; once it has closed (a full
   payment recorded in the afternoon, the first start of a server at 11:13) it goes in the
   next allowed window within the rule's catch-up period (crm.care.timing.send_slot), and
   only past that is it recorded as expired, with the reason.
2. Deal milestones entered late are still found while their catch-up period lasts (the
   planners' date ranges reach back over it).
3. Every placeholder is checked first: a message with one left blank is recorded as held,
   with what to fix (crm.care.rendering).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat

from crm.care import outbox, rendering, templating, timing
from crm.care.audience import reachable
from crm.care.models import CareRule, Draft, MoveInBatch, OutboundMessage
from crm.care.rules import FESTIVALS, Audience, Purpose, Trigger
from crm.care.services import base_values, create_draft, ensure_rules
from crm.core.calendar import work_calendar
from crm.customers.models import Customer, Deal, FamilyMember, MoveInKind, Stage
from crm.customers.services import default_signing_deadline
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
    texts: _Texts,
    rules: list[CareRule],
    rows: dict[int, list[Row]],
    *,
    occasion: str | None = None,
    occasion_of: Any = None,
) -> int:
    """Insert one message per row (``rows`` by project) in its project's rule slot
    (``texts``); returns how many were inserted.

    The planners' queries leave out what is already planned (``not_planned``), so the rows
    are new but for a concurrent runner's, which the unique key settles (ON CONFLICT DO
    NOTHING: the count is of rows really inserted). One INSERT (crm.care.outbox.queue); a
    text is rendered once per rule and distinct set of the values its template uses (for
    most rules: once), and each row only points at its text's spec.
    """
    keyed: dict[tuple[int, int | None, str], int] = {}
    for rule in rules:
        for customer_id, member_id, values in rows.get(rule.project_id, ()):
            key = occasion if occasion is not None else occasion_of(customer_id, member_id, values)
            keyed[(customer_id, member_id, key)] = texts.spec(rule, values)
    return outbox.queue([(c, m, o, k) for (c, m, o), k in keyed.items()], texts.specs)


class _Texts:
    """What the outbox rows of one planning run share (rule, text, gateway parameters,
    window, status): one spec per rule and distinct set of the values its template uses.

    The window is the rule's slot for messages due ``day`` as of ``now`` (today's window, or
    a catch-up one; none: the rows are recorded as expired). A text with a placeholder left
    blank is recorded as held, with the reason.
    """

    def __init__(self, day: date, now: datetime, cal: WorkCalendar | None = None) -> None:
        self.day = day
        self.now = now
        self._cal = cal
        self.specs: list[dict[str, object]] = []
        self._index: dict[tuple[object, ...], int] = {}
        self._used: dict[int, list[str]] = {}
        self._slots: dict[int, timing.Slot | None] = {}
        self._base: dict[int, dict[str, object]] = {}

    def cal(self) -> WorkCalendar:
        if self._cal is None:
            self._cal = work_calendar()
        return self._cal

    def slot(self, rule: CareRule) -> timing.Slot | None:
        """The window this run's messages of ``rule`` go in; None past the catch-up period.
        Raises CalendarUnknown for a working-days-only rule in a year nobody entered."""
        if rule.pk not in self._slots:
            self._slots[rule.pk] = timing.send_slot(
                self.day,
                rule.window_start,
                rule.window_end,
                now=self.now,
                catch_up_days=rule.catch_up_days,
                working_days_only=rule.working_days_only,
                cal=self.cal() if rule.working_days_only else None,
            )
        return self._slots[rule.pk]

    def earliest_due(self, rule: CareRule) -> date | None:
        """The earliest day a message of ``rule`` may have been due and still go in this
        run's slot (late entries reach back this far); None when nothing can go."""
        slot = self.slot(rule)
        if slot is None:
            return None
        if rule.working_days_only:
            return self.cal().add_working_days(slot.day, -rule.catch_up_days)
        return slot.day - timedelta(days=rule.catch_up_days)

    def spec(self, rule: CareRule, values: dict[str, object]) -> int:
        """The index in ``specs`` of this rule's spec for ``values``."""
        if rule.pk not in self._used:
            self._used[rule.pk] = templating.placeholders(rule.template)
            self._base[rule.pk] = base_values(rule.project)
        key = (rule.pk, *(values.get(name) for name in self._used[rule.pk]))
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self.specs)
            self.specs.append(self._spec(rule, self._base[rule.pk] | values))
        return index

    def _spec(self, rule: CareRule, values: dict[str, object]) -> dict[str, object]:
        text = rendering.render(rule, values)
        slot = self.slot(rule)
        status, error = OutboundMessage.Status.SCHEDULED, ""
        if slot is None:
            start, end = timing.window(self.day, rule.window_start, rule.window_end)
            status = OutboundMessage.Status.EXPIRED
            error = timing.expired_reason(rule.catch_up_days, working_days_only=rule.working_days_only)
        else:
            start, end = slot.starts_at, slot.ends_at
            if slot.is_late:
                error = timing.late_note(slot)
        if text.is_held:
            status, error = OutboundMessage.Status.HELD, text.hold_reason
        return {
            "project_id": rule.project_id,
            "rule_id": rule.pk,
            "trigger": rule.trigger,
            "purpose": rule.purpose,
            "text": text.text,
            "params": text.params,
            "status": status,
            "error": error,
            "scheduled_at": start,
            "next_attempt_at": start,
            "window_ends_at": end,
        }


def _per_rule(rules: list[CareRule], condition: Any) -> Q:
    """One query for rules whose condition differs by project: ``condition(rule)`` (a Q, or
    None for a rule with nothing to find) for the projects of each distinct condition, OR-ed."""
    projects: dict[Q, list[int]] = defaultdict(list)
    for rule in rules:
        q = condition(rule)
        if q is not None:
            projects[q].append(rule.project_id)
    found = Q(pk__in=[])
    for q, project_ids in projects.items():
        found |= Q(project_id__in=project_ids) & q
    return found


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


def _uses(rules: list[CareRule], name: str) -> bool:
    return any(name in templating.placeholders(rule.template) for rule in rules)


def _customer_name(rest: list[Any]) -> dict[str, object]:
    """{客户} from the row's trailing name column, cleaned (present only when a template uses it)."""
    return {"客户": templating.customer_value(rest[0])} if rest else {}


@transaction.atomic  # one commit for both triggers
def due_days(now: datetime, *triggers: str) -> list[date]:
    """Today and, oldest first, the days before it still inside the longest catch-up period
    of the triggers' rules. A planner for a dated occasion (a birthday, an anniversary) plans
    them all, so a day on which planning never ran (the server was down) is planned the
    next day in its catch-up window, or recorded as expired with the reason — never lost
    silently; what was planned already is left out by the unique occasion."""
    today = local_day(now)
    back = max((rule.catch_up_days for trigger in triggers for rule in _rules(trigger)), default=0)
    return [today - timedelta(days=n) for n in range(back, -1, -1)]


def plan_birthdays(*, now: datetime) -> int:
    """Owners' birthdays (solar or lunar), 10:00–10:30 on the day; family members' where
    consented; a day missed is caught up (``due_days``). Names enter the text cleaned
    (crm.care.templating.customer_value)."""
    return sum(_plan_birthdays_on(day, now) for day in due_days(now, Trigger.BIRTHDAY, Trigger.FAMILY_BIRTHDAY))


def _plan_birthdays_on(day: date, now: datetime) -> int:
    mmdd = day.strftime("%m%d")
    created = 0
    rules = _rules(Trigger.BIRTHDAY)
    owners = reachable(
        Customer.objects.filter(project_id__in=[r.project_id for r in rules], stage=Stage.OWNER), Purpose.CARE
    ).filter(Q(birth_mmdd=mmdd) | lunar_birthday_q(day), not_planned(Trigger.BIRTHDAY, day.isoformat()))
    fields = ("project_id", "pk", *(("name",) if _uses(rules, "客户") else ()))
    rows = _grouped(
        (project_id, pk, None, _customer_name(rest)) for project_id, pk, *rest in owners.order_by().values_list(*fields)
    )
    created += _queue(_Texts(day, now), rules, rows, occasion=day.isoformat())
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
        .values_list(
            "customer__project_id", "customer_id", "pk", "name", *(("customer__name",) if _uses(rules, "客户") else ())
        )
    )
    rows = _grouped(
        (project_id, cid, mid, {"家人": templating.customer_value(name), **_customer_name(rest)})
        for project_id, cid, mid, name, *rest in members
    )
    return created + _queue(_Texts(day, now), rules, rows, occasion=day.isoformat())


DEAL_FIELDS = ("project_id", "pk", "customer_id", "subscribed_on", "contracted_on", "signing_deadline_on")


def _deal_rows(
    texts: _Texts,
    deals: Any,
    rules: list[CareRule],
    purpose: str,
    trigger: str,
    occasion: Any = DEAL_OCCASION,
) -> dict[int, list[Row]]:
    """Rows of the deals not yet planned whose customer may receive a message of ``purpose``,
    by project (the occasion is the deal unless given). The unit's layout ({户型}) and the
    customer's name ({客户}) are read only when one of ``rules``' templates uses them:
    otherwise the join costs a probe per deal for nothing (6,000 on a busy subscription day);
    the signing date ({签约日期}) likewise is only formatted when used."""
    reachable_customer = reachable(Customer.objects.filter(pk=OuterRef("customer_id")), purpose)
    deals = deals.filter(Exists(reachable_customer), not_planned(trigger, occasion, customer="customer_id"))
    extra = {
        name: column
        for name, column in (("户型", "unit__layout"), ("客户", "customer__name"), ("签约日期", None))
        if _uses(rules, name)
    }
    columns = [column for column in extra.values() if column]
    return _grouped(
        (project_id, customer_id, None, _deal_values(texts, pk, subscribed, contracted, deadline, extra, rest))
        for project_id, pk, customer_id, subscribed, contracted, deadline, *rest in deals.order_by().values_list(
            *DEAL_FIELDS, *columns
        )
    )


def _deal_values(
    texts: _Texts,
    pk: int,
    subscribed_on: date,
    contracted_on: date | None,
    deadline: date | None,
    extra: dict[str, str | None],
    columns: list[Any],
) -> dict[str, object]:
    values: dict[str, object] = {"_deal": pk}
    read = iter(columns)
    for name, column in extra.items():
        if name == "签约日期":
            # The deadline recorded at subscription; for a deal recorded before there was
            # one, computed the same way now (blank, so held, when the year is unknown).
            due = deadline or default_signing_deadline(subscribed_on, texts.cal())
            values[name] = rendering.signing_date(due) if due else ""
        elif name == "客户":
            values[name] = templating.customer_value(next(read))
        elif column:
            values[name] = next(read)
    if contracted_on:
        values["_contracted_year"] = contracted_on.year
    return values


def _by_deal(customer_id: int, member_id: int | None, values: dict[str, object]) -> str:
    return f"deal:{values['_deal']}"


def _since(texts: _Texts, rule: CareRule, latest: date, days_before_due: int) -> tuple[date, date]:
    """The range of trigger dates (a milestone, a subscription…) whose message is due by
    today, ``latest`` being today's: back over the catch-up period, so that a date entered
    late, or a day the server was down, is still announced once. A message due
    ``days_before_due`` days after its trigger date."""
    earliest = texts.earliest_due(rule)
    if earliest is None:
        return latest, latest  # nothing can still go: today's are recorded as expired
    return min(latest, earliest - timedelta(days=days_before_due)), latest


def plan_subscription_congratulations(*, now: datetime, cal: WorkCalendar | None = None) -> int:
    """Working days 10:00–10:30: customers who subscribed since the previous working day
    (and, late entries, over the catch-up period before)."""
    day = local_day(now)
    cal = cal or work_calendar()
    span = timing.subscription_range(day, cal)
    if span is None:
        return 0
    rules = _rules(Trigger.SUBSCRIPTION)
    texts = _Texts(day, now, cal)

    def subscribed(rule: CareRule) -> Q:
        earliest = texts.earliest_due(rule)
        # A subscription is due on the working day after it: the earliest due day is that
        # of the subscriptions since the working day before it.
        first = span[0] if earliest is None else min(span[0], cal.previous_working_day(earliest))
        return Q(subscribed_on__range=(first, span[1]))

    deals = Deal.objects.filter(_per_rule(rules, subscribed), status=Deal.Status.ACTIVE)
    purpose = rules[0].purpose if rules else Purpose.CARE
    return _queue(texts, rules, _deal_rows(texts, deals, rules, purpose, Trigger.SUBSCRIPTION), occasion_of=_by_deal)


def plan_signing_reminders(*, now: datetime) -> int:
    """Day 5 after subscription at 16:00, only while the contract is unsigned (checked again
    at send), naming the deal's signing deadline."""
    day = local_day(now)
    rules = _rules(Trigger.SIGNING_REMINDER)
    texts = _Texts(day, now)

    def reminded(rule: CareRule) -> Q:
        return Q(subscribed_on__range=_since(texts, rule, day - timedelta(days=rule.offset_days), rule.offset_days))

    deals = Deal.objects.filter(_per_rule(rules, reminded), status=Deal.Status.ACTIVE, contracted_on__isnull=True)
    purpose = rules[0].purpose if rules else Purpose.NOTIFICATION
    return _queue(
        texts, rules, _deal_rows(texts, deals, rules, purpose, Trigger.SIGNING_REMINDER), occasion_of=_by_deal
    )


@transaction.atomic  # one commit for both triggers
def plan_milestone_notices(*, now: datetime) -> int:
    """Full payment received and contract filed: the next day at 10:00; entered late, still
    announced once while the rule's catch-up period lasts (docs/care.md: 7 days)."""
    day = local_day(now)
    created = 0
    for trigger, field in ((Trigger.FULL_PAYMENT, "full_payment_on"), (Trigger.FILING, "filed_on")):
        rules = _rules(trigger)
        texts = _Texts(day, now)

        def announced(rule: CareRule, field: str = field, texts: _Texts = texts) -> Q:
            latest = day - timedelta(days=rule.offset_days)
            return Q(**{f"{field}__range": _since(texts, rule, latest, rule.offset_days)})

        deals = Deal.objects.filter(_per_rule(rules, announced), status=Deal.Status.ACTIVE)
        purpose = rules[0].purpose if rules else Purpose.NOTIFICATION
        created += _queue(texts, rules, _deal_rows(texts, deals, rules, purpose, trigger), occasion_of=_by_deal)
    return created


BATCH_DAYS, INDIVIDUAL_DAYS = 3, 7  # seed 001: 集中入住结束后第三天, 零星入住第七天


def plan_move_in_greetings(*, now: datetime) -> int:
    """Batch move-in: the 3rd day after the batch ends; individual: the 7th day after moving
    in (a move-in recorded late: while the catch-up period lasts)."""
    day = local_day(now)
    rules = _rules(Trigger.MOVE_IN)
    texts = _Texts(day, now)
    latest_end = day - timedelta(days=BATCH_DAYS)
    first_end = min((_since(texts, rule, latest_end, BATCH_DAYS)[0] for rule in rules), default=latest_end)
    batches = defaultdict(list)
    for batch in MoveInBatch.objects.filter(
        project_id__in=[r.project_id for r in rules], ends_on__range=(first_end, latest_end)
    ):
        batches[batch.project_id].append(batch)

    def moved_in(rule: CareRule) -> Q:
        latest = day - timedelta(days=INDIVIDUAL_DAYS)
        q = Q(moved_in_on__range=_since(texts, rule, latest, INDIVIDUAL_DAYS), move_in_kind=MoveInKind.INDIVIDUAL)
        first, last = _since(texts, rule, latest_end, BATCH_DAYS)
        for batch in batches[rule.project_id]:
            if first <= batch.ends_on <= last:
                q |= Q(moved_in_on__range=(batch.starts_on, batch.ends_on), move_in_kind=MoveInKind.BATCH)
        return q

    deals = Deal.objects.filter(_per_rule(rules, moved_in), status=Deal.Status.ACTIVE)
    purpose = rules[0].purpose if rules else Purpose.CARE
    return _queue(texts, rules, _deal_rows(texts, deals, rules, purpose, Trigger.MOVE_IN), occasion_of=_by_deal)


def plan_anniversaries(*, now: datetime) -> int:
    """Owners on the anniversary of signing (seed 003: 购房周年); a day missed is caught up
    (``due_days``)."""
    return sum(_plan_anniversaries_on(day, now) for day in due_days(now, Trigger.ANNIVERSARY))


def _plan_anniversaries_on(day: date, now: datetime) -> int:
    rules = _rules(Trigger.ANNIVERSARY)
    texts = _Texts(day, now)
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
        for project_id, project_rows in _deal_rows(
            texts, deals, rules, purpose, Trigger.ANNIVERSARY, str(day.year)
        ).items()
    }
    return _queue(texts, rules, rows, occasion=str(day.year))


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
