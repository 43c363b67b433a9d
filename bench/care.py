"""The care-message benchmark: one day's planning beside hand-written SQL floors, and dispatch
throughput through the Aliyun protocol fake with worker processes.

``run`` works on whatever customers the database holds (the dataset of ``python -m bench
customers``, bench/customers.py); ``python -m bench care`` runs it on its own. Everything it
writes (outbox rows, drafts, timeline events) is removed again, except a one-off outbox
history (``ensure_history``: two years of delivered messages, so the outbox has a real size).

1. Planning (``plan_lines``): each planner of crm.care.planning is timed for one day, and
   beside it its *floor*: the same rows inserted by one hand-written ``INSERT … SELECT … ON
   CONFLICT DO NOTHING`` per rule set (PostgreSQL). Floor and planner run interleaved on an
   empty day, ``repeat`` times each; the medians are reported with the rows each inserted
   (they must agree). Then the whole day (``plan_today``) on an empty day and again with
   everything planned: the job runs every ten minutes, so the second figure is the one paid
   all day long. Targets on PostgreSQL: the whole day under 2 s, each planner within 3x of
   its floor.
2. Dispatch (``dispatch_lines``): ``messages`` due rows, ``workers`` processes of
   ``manage.py dispatch --until-empty`` through the real Aliyun adapter to the fake in this
   process. Reports messages per second between the first and the last message the fake
   accepted, and any message it accepted twice. Target: 500 messages/s with 2 workers.
"""

from __future__ import annotations

import collections
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from crm.care import planning, templating, timing
from crm.care.models import CareRule, Draft, OutboundMessage
from crm.care.rules import Purpose, Trigger
from crm.care.services import base_values, ensure_rules
from crm.core.calendar import work_calendar
from crm.customers.models import Customer, Deal, FamilyMember, TimelineEvent
from crm.lib.dates import CHINA_TZ, at
from crm.lib.lunar import leap_month, lunar_date_of
from crm.projects.models import Project, Unit

Write = Callable[[str], None]

TARGET_DAY_S = 2.0
TARGET_RATIO = 3.0
TARGET_RATE = 500.0


# ----------------------------------------------------------------------------- planning


@dataclass
class PlanTiming:
    label: str
    rows: int
    seconds: float
    floor_rows: int | None = None
    floor_seconds: float | None = None

    @property
    def ratio(self) -> float | None:
        if not self.floor_seconds:
            return None
        return self.seconds / self.floor_seconds


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


COLUMNS = (
    "customer_id, family_member_id, project_id, rule_id, trigger, occasion, draft_id, purpose, text, params,"
    " status, scheduled_at, window_ends_at, next_attempt_at, attempts, claimed_at, gateway, gateway_message_id,"
    " error_code, error, submitted_at, delivered_at, created_at, updated_at, contact_mobile, contact_name"
)
RULES = (
    "unnest(%(r_id)s::bigint[], %(r_project)s::bigint[], %(r_purpose)s::text[], %(r_text)s::text[],"
    " %(r_params)s::text[], %(r_start)s::timestamptz[], %(r_end)s::timestamptz[])"
    " AS r(id, project_id, purpose, text, params, starts, ends)"
)
CONSENT = {Purpose.NOTIFICATION: "consent_notification", Purpose.CARE: "consent_care"}


def _values(customer: str, member: str, occasion: str, text: str, params: str) -> str:
    return (
        f"SELECT {customer}, {member}, r.project_id, r.id, %(trigger)s, {occasion}, NULL, r.purpose, {text},"
        f" {params}, 'scheduled', r.starts, r.ends, r.starts, 0, NULL, '', '', '', '', NULL, NULL, now(), now(), '', ''"
    )


def _insert(select: str) -> str:
    return f"INSERT INTO {_table(OutboundMessage)} ({COLUMNS}) {select} ON CONFLICT DO NOTHING"


def _reachable(alias: str, purpose: str) -> str:
    return f"{alias}.{CONSENT[Purpose(purpose)]} AND NOT {alias}.has_opted_out AND NOT {alias}.is_archived"


def _rule_params(trigger: str, day: date) -> dict[str, Any]:
    """The enabled rules of ``trigger`` as arrays, their texts rendered with the project's
    values (per-row placeholders such as {家人} stay for the floor to fill in)."""
    rules = list(
        CareRule.objects.filter(trigger=trigger, is_enabled=True, project__is_active=True).select_related(
            "project__company"
        )
    )
    params: dict[str, Any] = {key: [] for key in ("r_id", "r_project", "r_purpose", "r_text", "r_params")}
    params |= {"r_start": [], "r_end": [], "trigger": trigger}
    for rule in rules:
        base = base_values(rule.project)
        start, end = timing.window(day, rule.window_start, rule.window_end)
        params["r_id"].append(rule.pk)
        params["r_project"].append(rule.project_id)
        params["r_purpose"].append(rule.purpose)
        params["r_text"].append(templating.render(rule.template, base, purpose=rule.purpose, strict=False))
        params["r_params"].append(_json(templating.template_params(rule.template, base)))
        params["r_start"].append(start)
        params["r_end"].append(end)
    params["purpose"] = rules[0].purpose if rules else Purpose.CARE
    return params


def _json(value: dict[str, str]) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _birthday_sql(alias: str, day: date) -> tuple[str, dict[str, Any]]:
    """crm.care.planning.lunar_birthday_q and the solar match, by hand."""
    lunar_year, month, lunar_day, is_leap = lunar_date_of(day)
    days = [lunar_day]
    if lunar_day == 29 and lunar_date_of(day + timedelta(days=1))[2] == 1:
        days.append(30)
    leap = ""
    if is_leap:
        leap = f" AND {alias}.lunar_is_leap"
    elif leap_month(lunar_year) == month:
        leap = f" AND NOT {alias}.lunar_is_leap"
    sql = (
        f"({alias}.birth_mmdd = %(mmdd)s OR ({alias}.birthday_is_lunar AND {alias}.lunar_month = %(l_month)s"
        f" AND {alias}.lunar_day = ANY(%(l_days)s::int[]){leap}))"
    )
    return sql, {"mmdd": day.strftime("%m%d"), "l_month": month, "l_days": days}


def _offset_and_catch_up(trigger: str, default_offset: int) -> tuple[int, int]:
    """The (offset, catch-up days) of the trigger's rules (the floors assume one set; the
    benchmark runs at 01:00, when today's window is still ahead)."""
    found = CareRule.objects.filter(trigger=trigger).values_list("offset_days", "catch_up_days").first()
    return (found[0] or default_offset, found[1]) if found else (default_offset, 0)


def _floor_statements(planner: Callable[..., int], day: date) -> list[tuple[str, dict[str, Any]]]:
    """The hand-written INSERT … SELECT statements that insert what ``planner`` inserts."""
    customers, families, deals, units = _table(Customer), _table(FamilyMember), _table(Deal), _table(Unit)
    occasion_day = {"occasion": day.isoformat()}
    by_deal = "'deal:' || d.id"
    if planner is planning.plan_birthdays:
        owners = _rule_params(Trigger.BIRTHDAY, day)
        match, lunar = _birthday_sql("c", day)
        family = _rule_params(Trigger.FAMILY_BIRTHDAY, day)
        member_match, _ = _birthday_sql("f", day)
        return [
            (
                _insert(
                    _values("c.id", "NULL", "%(occasion)s", "r.text", "r.params::jsonb")
                    + f" FROM {customers} c JOIN {RULES} ON c.project_id = r.project_id"
                    f" WHERE c.stage = 'owner' AND {_reachable('c', owners['purpose'])} AND {match}"
                ),
                owners | lunar | occasion_day,
            ),
            (
                _insert(
                    _values(
                        "c.id",
                        "f.id",
                        "%(occasion)s",
                        "replace(r.text, '{家人}', f.name)",
                        "r.params::jsonb || jsonb_build_object('家人', f.name)",
                    )
                    + f" FROM {families} f JOIN {customers} c ON c.id = f.customer_id"
                    f" JOIN {RULES} ON c.project_id = r.project_id"
                    f" WHERE f.consent_care AND c.stage = 'owner' AND {_reachable('c', family['purpose'])}"
                    f" AND {member_match}"
                ),
                family | lunar | occasion_day,
            ),
        ]
    if planner is planning.plan_milestone_notices:
        statements = []
        for trigger, field in ((Trigger.FULL_PAYMENT, "full_payment_on"), (Trigger.FILING, "filed_on")):
            params = _rule_params(trigger, day)
            offset, catch_up = _offset_and_catch_up(trigger, 1)
            latest = day - timedelta(days=offset)
            statements.append(
                (
                    _insert(
                        _values("d.customer_id", "NULL", by_deal, "r.text", "r.params::jsonb")
                        + f" FROM {deals} d JOIN {RULES} ON d.project_id = r.project_id"
                        f" JOIN {customers} c ON c.id = d.customer_id"
                        f" WHERE d.status = 'active' AND d.{field} BETWEEN %(earliest)s AND %(latest)s"
                        f" AND {_reachable('c', params['purpose'])}"
                    ),
                    params | {"latest": latest, "earliest": latest - timedelta(days=catch_up)},
                )
            )
        return statements
    if planner is planning.plan_anniversaries:
        params = _rule_params(Trigger.ANNIVERSARY, day)
        return [
            (
                _insert(
                    _values(
                        "d.customer_id",
                        "NULL",
                        "%(occasion)s",
                        "replace(r.text, '{年数}', (%(year)s - extract(year FROM d.contracted_on)::int)::text)",
                        "r.params::jsonb || jsonb_build_object('年数',"
                        " (%(year)s - extract(year FROM d.contracted_on)::int)::text)",
                    )
                    + f" FROM {deals} d JOIN {RULES} ON d.project_id = r.project_id"
                    f" JOIN {customers} c ON c.id = d.customer_id"
                    " WHERE d.status = 'active' AND extract(month FROM d.contracted_on) = %(month)s"
                    " AND extract(day FROM d.contracted_on) = %(day)s AND d.contracted_on < %(jan1)s"
                    f" AND {_reachable('c', params['purpose'])}"
                ),
                params
                | {
                    "occasion": str(day.year),
                    "year": day.year,
                    "month": day.month,
                    "day": day.day,
                    "jan1": date(day.year, 1, 1),
                },
            )
        ]
    if planner is planning.plan_signing_reminders:
        params = _rule_params(Trigger.SIGNING_REMINDER, day)
        reminder_offset, catch_up = _offset_and_catch_up(Trigger.SIGNING_REMINDER, 5)
        deadline = int(getattr(settings, "CARE_SIGNING_DEADLINE_DAYS", 7))
        # The deadline recorded at subscription (the planner computes a missing one with the
        # work calendar; the floor adds the days: the same rows, a text off on holidays).
        signing_date = (
            'to_char(coalesce(d.signing_deadline_on, d.subscribed_on + %(deadline)s), \'YYYY"年"FMMM"月"FMDD"日"\')'
        )
        return [
            (
                _insert(
                    _values(
                        "d.customer_id",
                        "NULL",
                        by_deal,
                        f"replace(replace(r.text, '{{签约日期}}', {signing_date}), '{{户型}}', u.layout)",
                        f"r.params::jsonb || jsonb_build_object('签约日期', {signing_date})",
                    )
                    + f" FROM {deals} d JOIN {RULES} ON d.project_id = r.project_id"
                    f" JOIN {customers} c ON c.id = d.customer_id JOIN {units} u ON u.id = d.unit_id"
                    " WHERE d.status = 'active' AND d.contracted_on IS NULL"
                    " AND d.subscribed_on BETWEEN %(first)s AND %(subscribed)s"
                    f" AND {_reachable('c', params['purpose'])}"
                ),
                params
                | {
                    "subscribed": day - timedelta(days=reminder_offset),
                    "first": day - timedelta(days=reminder_offset + catch_up),
                    "deadline": deadline,
                },
            )
        ]
    if planner is planning.plan_subscription_congratulations:
        cal = work_calendar()
        span = timing.subscription_range(day, cal)
        if span is None:
            return []
        _, catch_up = _offset_and_catch_up(Trigger.SUBSCRIPTION, 1)
        # Late entries: back over the catch-up period (in working days), as the planner does.
        first = min(span[0], cal.previous_working_day(cal.add_working_days(day, -catch_up)))
        params = _rule_params(Trigger.SUBSCRIPTION, day)
        return [
            (
                _insert(
                    _values("d.customer_id", "NULL", by_deal, "r.text", "r.params::jsonb")
                    + f" FROM {deals} d JOIN {RULES} ON d.project_id = r.project_id"
                    f" JOIN {customers} c ON c.id = d.customer_id"
                    " WHERE d.status = 'active' AND d.subscribed_on BETWEEN %(first)s AND %(last)s"
                    f" AND {_reachable('c', params['purpose'])}"
                ),
                params | {"first": first, "last": span[1]},
            )
        ]
    return []  # move-in greetings: batches are per project; timed without a floor


def _run_floor(statements: list[tuple[str, dict[str, Any]]]) -> int:
    rows = 0
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            rows += cursor.rowcount
    return rows


@contextmanager
def _scratch() -> Iterator[Callable[[], None]]:
    """Yields ``reset``, which removes every outbox row, draft and timeline event written since."""
    last_message = OutboundMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_draft = Draft.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_event = TimelineEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def reset() -> None:
        TimelineEvent.objects.filter(pk__gt=last_event).delete()
        OutboundMessage.objects.filter(pk__gt=last_message).delete()
        Draft.objects.filter(pk__gt=last_draft).delete()

    try:
        yield reset
    finally:
        reset()


def _timed(func: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    rows = func()
    return rows, time.perf_counter() - started


def plan_timings(
    day: date, *, repeat: int = 3, write: Write = print
) -> tuple[list[PlanTiming], PlanTiming, PlanTiming]:
    """(per planner, whole day on an empty day, whole day again with everything planned)."""
    now = at(day, dtime(1, 0))
    floors = connection.vendor == "postgresql"
    results: list[PlanTiming] = []
    with _scratch() as reset:
        planning.plan_today(now=now)  # creates missing rules, warms caches
        reset()
        for planner in planning.PLANNERS:
            statements = _floor_statements(planner, day) if floors else []
            mine: list[tuple[int, float]] = []
            hand: list[tuple[int, float]] = []
            for _ in range(repeat):
                if statements:
                    hand.append(_timed(lambda statements=statements: _run_floor(statements)))  # type: ignore[misc]
                    reset()
                mine.append(_timed(lambda planner=planner: planner(now=now)))  # type: ignore[misc]
                reset()
            timing_ = PlanTiming(
                label=planner.__name__,
                rows=mine[0][0],
                seconds=statistics.median(t for _, t in mine),
                floor_rows=hand[0][0] if hand else None,
                floor_seconds=statistics.median(t for _, t in hand) if hand else None,
            )
            write(f"  {timing_.label}: {timing_.rows} rows, {timing_.seconds * 1000:.0f} ms")
            results.append(timing_)
        days = []
        again = []
        for _ in range(repeat):
            days.append(_timed(lambda: planning.plan_today(now=now)))
            again.append(_timed(lambda: planning.plan_today(now=now)))
            reset()
    whole = PlanTiming("plan_today (empty day)", days[0][0], statistics.median(t for _, t in days))
    rerun = PlanTiming("plan_today (again, all planned)", again[0][0], statistics.median(t for _, t in again))
    return results, whole, rerun


def plan_lines(day: date, *, repeat: int = 3, write: Write = print) -> list[str]:
    write(f"Care planning for {day} (median of {repeat})…")
    results, whole, rerun = plan_timings(day, repeat=repeat, write=write)
    lines = [f"Care planning, {day}: {Customer.objects.count():,} customers, {connection.vendor}, median of {repeat}"]
    lines.append(f"{'planner':<36} {'rows':>6} {'ms':>9} {'floor ms':>9} {'ratio':>6}  target ≤{TARGET_RATIO:g}x")
    for r in results:
        if r.floor_seconds is None:
            floor, ratio, verdict = "—", "—", "(no floor)"
        else:
            floor, ratio = f"{r.floor_seconds * 1000:.1f}", f"{r.ratio:.1f}x"
            verdict = "ok" if (r.ratio or 0) <= TARGET_RATIO else "MISS"
            if r.floor_rows != r.rows:
                verdict += f" (floor inserted {r.floor_rows} rows: WRONG FLOOR)"
        lines.append(f"{r.label:<36} {r.rows:>6} {r.seconds * 1000:>9.1f} {floor:>9} {ratio:>6}  {verdict}")
    for r in (whole, rerun):
        verdict = "ok" if r.seconds < TARGET_DAY_S else "MISS"
        lines.append(
            f"{r.label:<36} {r.rows:>6} {r.seconds * 1000:>9.1f} {'':>9} {'':>6}  <{TARGET_DAY_S:g} s {verdict}"
        )
    return lines


HISTORY_KEY = "care-bench:history:v1"


def ensure_history(day: date, *, write: Write = print) -> int:
    """An outbox with the history a system of this size has (PostgreSQL; once per database).

    Every birthday greeting of the two years before ``day`` and, for every deal older than a
    month, its subscription congratulation, signing reminder and milestone notices, all
    delivered. Planning's "already planned?" anti-joins and the outbox's indexes then work
    at their real size; nothing in it collides with what ``day`` plans.
    """
    from crm.core.models import Counter

    done = Counter.objects.filter(key=HISTORY_KEY).values_list("value", flat=True).first()
    if done is not None:
        return int(done)
    if connection.vendor != "postgresql":
        return 0
    write("Generating the outbox history (two years of care messages)…")
    for project in Project.objects.filter(is_active=True):
        ensure_rules(project)
    started = time.perf_counter()
    outbox, customers, deals = _table(OutboundMessage), _table(Customer), _table(Deal)
    rule = f"(SELECT id FROM {_table(CareRule)} r WHERE r.project_id = {{project}} AND r.trigger = {{trigger}})"
    common = (
        "'delivered', {at}, {at} + interval '30 minutes', {at}, 1, NULL, 'aliyun', '', 'DELIVERED', '',"
        " {at}, {at} + interval '1 minute', {at}, {at}, '', ''"
    )
    birthdays = (
        f"INSERT INTO {outbox} ({COLUMNS}) SELECT c.id, NULL, c.project_id,"
        f" {rule.format(project='c.project_id', trigger=repr(Trigger.BIRTHDAY.value))}, 'birthday',"
        " y.year || to_char(c.birthday_on, '-MM-DD'), NULL, 'care', '生日快乐（历史）', '{}'::jsonb, "
        + common.format(
            at="(make_date(y.year, 1, 1) + (c.birthday_on - date_trunc('year', c.birthday_on)::date))::timestamptz"
        )
        + f" FROM {customers} c CROSS JOIN (VALUES (%(y1)s), (%(y2)s)) AS y(year)"
        " WHERE c.stage = 'owner' AND c.consent_care AND c.birthday_on IS NOT NULL ON CONFLICT DO NOTHING"
    )
    milestones = (
        f"INSERT INTO {outbox} ({COLUMNS}) SELECT d.customer_id, NULL, d.project_id,"
        f" {rule.format(project='d.project_id', trigger='m.trigger')}, m.trigger, 'deal:' || d.id, NULL,"
        " m.purpose, '里程碑通知（历史）', '{}'::jsonb, "
        + common.format(at="(m.on_date + 1)::timestamptz")
        + f" FROM {deals} d CROSS JOIN LATERAL (VALUES ('subscription', 'care', d.subscribed_on),"
        " ('signing_reminder', 'notification', d.subscribed_on + 5), ('full_payment', 'notification', d.full_payment_on),"
        " ('filing', 'notification', d.filed_on)) AS m(trigger, purpose, on_date)"
        " WHERE m.on_date IS NOT NULL AND m.on_date < %(month_ago)s ON CONFLICT DO NOTHING"
    )
    rows = 0
    with connection.cursor() as cursor:
        cursor.execute(birthdays, {"y1": day.year - 1, "y2": day.year - 2})
        rows += cursor.rowcount
        cursor.execute(milestones, {"month_ago": day - timedelta(days=30)})
        rows += cursor.rowcount
        cursor.execute(f"ANALYZE {outbox}")
    Counter.objects.create(key=HISTORY_KEY, value=rows)
    write(f"  {rows:,} historical messages in {time.perf_counter() - started:.1f} s")
    return int(rows)


# ----------------------------------------------------------------------------- dispatch


def _bench_messages(count: int, token: str) -> list[int]:
    """``count`` due notifications to distinct reachable customers (not held by quiet hours)."""
    now = timezone.now()
    customers = list(
        Customer.objects.filter(consent_notification=True, has_opted_out=False, is_archived=False)
        .order_by("pk")
        .values_list("pk", "project_id")[:count]
    )
    if len(customers) < count:
        raise ValueError(f"only {len(customers)} reachable customers; need {count}")
    rules = {}
    for project_id in {p for _, p in customers}:
        rule = CareRule.objects.filter(project_id=project_id, trigger=Trigger.FULL_PAYMENT).first()
        if rule is None:
            from crm.care.services import rule_for

            rule = rule_for(project_id, Trigger.FULL_PAYMENT)
        rules[project_id] = rule
    messages = OutboundMessage.objects.bulk_create(
        (
            OutboundMessage(
                customer_id=customer_id,
                project_id=project_id,
                rule=rules[project_id],
                trigger=Trigger.FULL_PAYMENT,
                occasion=token,
                purpose=Purpose.NOTIFICATION,
                text="【压测】您的房款已全部到达我司帐户。",
                scheduled_at=now - timedelta(minutes=1),
                next_attempt_at=now - timedelta(minutes=1),
                window_ends_at=now + timedelta(hours=2),
            )
            for customer_id, project_id in customers
        ),
        batch_size=2000,
    )
    return [m.pk for m in messages]


@contextmanager
def _template_codes() -> Iterator[None]:
    """The fake requires a template code; give the full-payment rules one while benchmarking."""
    rules = CareRule.objects.filter(trigger=Trigger.FULL_PAYMENT, gateway_template_code="")
    ids = list(rules.values_list("pk", flat=True))
    CareRule.objects.filter(pk__in=ids).update(gateway_template_code="SMS_BENCH0001")
    try:
        yield
    finally:
        CareRule.objects.filter(pk__in=ids).update(gateway_template_code="")


def dispatch_lines(*, messages: int = 4000, workers: int = 2, write: Write = print) -> list[str]:
    from crm.sms.fakes.aliyun import FakeAliyunSms

    token = f"bench-dispatch-{int(time.time())}"
    write(f"Care dispatch: {messages:,} messages, {workers} worker processes, Aliyun fake…")
    # The rules may be created by _bench_messages (a new database): template codes after them.
    with _scratch(), FakeAliyunSms() as fake, ExitStack() as stack:
        ids = _bench_messages(messages, token)
        stack.enter_context(_template_codes())
        env = {
            **os.environ,
            "SMS_GATEWAY": "aliyun",
            "ALIYUN_SMS_ACCESS_KEY_ID": fake.access_key_id,
            "ALIYUN_SMS_ACCESS_KEY_SECRET": fake.access_key_secret,
            "ALIYUN_SMS_ENDPOINT": fake.endpoint,
            "SMS_TIMEOUT_SECONDS": "10",
            "LOG_LEVEL": "WARNING",
        }
        started = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, "manage.py", "dispatch", "--until-empty", "--max-seconds", "900"],
                cwd=Path(settings.BASE_DIR),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(workers)
        ]
        marks: list[tuple[float, int]] = []
        while any(p.poll() is None for p in procs):
            marks.append((time.perf_counter(), len(fake.messages)))
            time.sleep(0.05)
        wall = time.perf_counter() - started
        outputs = [p.communicate()[0].decode(errors="replace") for p in procs]
        marks.append((time.perf_counter(), len(fake.messages)))
        first = next(t for t, n in marks if n > 0) if any(n for _, n in marks) else started
        last = next(t for t, n in marks if n >= len(fake.messages))
        received = collections.Counter(m.out_id for m in fake.messages)
        twice = sum(1 for n in received.values() if n > 1)
        statuses = collections.Counter(OutboundMessage.objects.filter(pk__in=ids).values_list("status", flat=True))
    rate = len(received) / (last - first) if last > first else 0.0
    verdict = "ok" if rate >= TARGET_RATE and not twice else "MISS"
    lines = [
        f"Care dispatch: {messages:,} messages, {workers} worker processes (manage.py dispatch), Aliyun fake over HTTP",
        f"  accepted {len(received):,} distinct, {twice} twice, {fake.send_calls:,} send calls; outbox {dict(statuses)}",
        f"  {rate:.0f} messages/s between the first and last accepted ({last - first:.1f} s);"
        f" {wall:.1f} s with process start-up. Target ≥{TARGET_RATE:g}/s, no duplicates: {verdict}",
    ]
    if any(p.returncode for p in procs):
        lines.append("  a worker failed: " + " | ".join(o[-500:] for o in outputs))
    return lines


def run(
    *, write: Write = print, day: date | None = None, repeat: int = 3, messages: int = 4000, workers: int = 2
) -> list[str]:
    """The whole care benchmark; returns the report lines (progress goes to ``write``)."""
    day = day or timezone.localtime(timezone.now(), CHINA_TZ).date()
    history = ensure_history(day, write=write)
    lines = plan_lines(day, repeat=repeat, write=write)
    lines.insert(1, f"outbox history: {history:,} delivered messages (two years)")
    if messages:
        lines += dispatch_lines(messages=messages, workers=workers, write=write)
    return lines


__all__ = ["dispatch_lines", "plan_lines", "plan_timings", "run"]
