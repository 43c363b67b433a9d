"""Repair callbacks (seed 004, 回访管理规定): every completed repair gets a callback visit
(100%), due within one working day; each quarter the customer-service director re-checks
20% of the quarter's completed repair callbacks (抽查), drawn reproducibly.

Once only, however often a job runs:
- a callback task per repair: the occasion key ``repair:<id>`` under the unique rule for
  plan-less tasks (customer, occasion), inserted with ``ignore_conflicts``;
- a sample per company and quarter: ``RecheckSample`` is unique on (company, quarter) and
  created first, in the same transaction as its tasks (``recheck:<quarter>:<task id>``).

The draw: per project (stratified), the quarter's completed repair callbacks ordered by
id, ``ceil(20% × n)`` of them picked by ``random.Random(seed)``; the seed is derived from
the company and the quarter and stored, so the same quarter always gives the same sample.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from crm.accounts.roles import Role, group_name
from crm.core import audit
from crm.core.calendar import work_calendar
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers import timeline
from crm.customers.models import TimelineEvent
from crm.lib.dates import at, local_day
from crm.lib.workcalendar import CalendarUnknown
from crm.visits import timing
from crm.visits.models import Channel, RecheckSample, Repair, TaskKind, VisitTask

if TYPE_CHECKING:
    from crm.accounts.models import Company, User
    from crm.customers.models import Customer
    from crm.lib.workcalendar import WorkCalendar
    from crm.projects.models import Unit

ADD = "visits.add_repair"
VIEW = "visits.view_repair"
EXPORT = "visits.export_repairs"
RATE_PERCENT = 20
CALLBACK_PURPOSE = "报修完工回访：了解维修质量和维修人员的服务"
CALLBACK_QUESTIONS = ("对维修质量的满意程度", "对维修及时性的满意程度", "对维修人员服务态度的满意程度")
RECHECK_PURPOSE = "客服中心主任季度抽查回访：维修服务、前台接待、保洁绿化、治安管理"
RECHECK_QUESTIONS = ("对维修服务的满意程度", "对前台接待的满意程度", "对保洁绿化的满意程度", "对治安管理的满意程度")
RECHECK_WINDOW_WORKING_DAYS = 20


def _staff_of(project_id: int, role: Role) -> list[int]:
    from crm.accounts.models import User

    return list(
        User.objects.filter(is_active=True, projects=project_id, groups__name=group_name(role))
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )


# ---------------------------------------------------------------- repairs and callbacks


def record_repair(
    *,
    actor: User | None,
    customer: Customer,
    problem: str,
    contractor: str,
    unit: Unit | None = None,
    completed_at: datetime | None = None,
    source: str = Repair.Source.FORM,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> Repair:
    """A repair of the customer's unit; completed (a completion time given): its callback
    task is made at once. Chinese errors name the field."""
    if actor is not None and not actor.has_perm(ADD):
        raise NotAllowed("您没有登记报修的权限")
    problem, contractor = problem.strip(), contractor.strip()
    if not problem:
        raise DomainError("请填写报修问题", field="problem")
    if not contractor:
        raise DomainError("请填写维修单位", field="contractor")
    if customer.project_id is None:
        raise DomainError("客户没有所属楼盘，不能登记报修", field="customer")
    if unit is not None and unit.project_id != customer.project_id:
        raise DomainError("房号不属于客户的楼盘", field="unit")
    now = now or timezone.now()
    if completed_at is not None and completed_at > now:
        raise DomainError("完工时间不能晚于现在", field="completed_at")
    with transaction.atomic():
        repair = Repair.objects.create(
            company_id=customer.company_id,
            project_id=customer.project_id,
            customer=customer,
            unit=unit,
            problem=problem,
            contractor=contractor,
            completed_at=completed_at,
            source=source,
            recorded_by=actor,
            created_at=now,
        )
        timeline.record(
            customer.pk,
            TimelineEvent.Kind.VISIT,
            f"报修（{contractor}）：{problem[:80]}"
            + (f"，{timezone.localtime(completed_at):%m-%d %H:%M} 完工" if completed_at else ""),
            actor=actor,
            at=now,
            data={"visit_repair": repair.pk},
            source=repair,
        )
        audit.log(audit.AuditLog.Action.CREATE, actor=actor, target=repair, customer_id=customer.pk, summary="登记报修")
        if completed_at is not None:
            make_callbacks(Repair.objects.filter(pk=repair.pk), calendar=calendar)
    return repair


def complete_repair(
    repair: Repair,
    *,
    actor: User | None,
    completed_at: datetime,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> Repair:
    """The repair-completed event (entered by staff, or sent by another system): stamps the
    completion once and makes the callback."""
    if actor is not None and not actor.has_perm(ADD):
        raise NotAllowed("您没有登记报修的权限")
    now = now or timezone.now()
    if completed_at > now:
        raise DomainError("完工时间不能晚于现在", field="completed_at")
    with transaction.atomic():
        updated = Repair.objects.filter(pk=repair.pk, completed_at__isnull=True).update(completed_at=completed_at)
        if not updated:
            raise DomainError("这条报修已登记完工")
        repair.refresh_from_db()
        timeline.record(
            repair.customer_id,
            TimelineEvent.Kind.VISIT,
            f"报修完工：{repair.problem[:80]}",
            actor=actor,
            at=now,
            data={"visit_repair": repair.pk},
            source=repair,
        )
        make_callbacks(Repair.objects.filter(pk=repair.pk), calendar=calendar)
    return repair


def _working_days_later(day: date, days: int, calendar: WorkCalendar) -> tuple[date, str]:
    """``days`` working days after ``day``, and the note when the year's calendar was not
    entered (then a Monday–Friday estimate, as the plans do: crm.visits.timing)."""
    try:
        return calendar.add_working_days(day, days), ""
    except CalendarUnknown as exc:
        return timing.lenient(calendar).add_working_days(day, days), exc.message + timing.ESTIMATE_NOTE


def callback_dates(completed_at: datetime, calendar: WorkCalendar) -> tuple[date, date, str]:
    """Start on the completion day; due within one working day (a repair finished on the
    Wednesday before National Day is called by the first working day after it)."""
    day = local_day(completed_at)
    return day, *_working_days_later(day, 1, calendar)


def make_callbacks(repairs: QuerySet[Repair] | None = None, *, calendar: WorkCalendar | None = None) -> int:
    """A callback task for every completed repair (of ``repairs``, else all) that has none:
    assigned round-robin to the project's 客服专员 (by repair id), else left for the
    director to assign. Returns how many were made; a rerun makes none."""
    calendar = calendar or work_calendar()
    rows = repairs if repairs is not None else Repair.objects.all()
    pending = (
        rows.filter(completed_at__isnull=False)
        .exclude(tasks__kind=TaskKind.REPAIR)
        .select_related("customer")
        .order_by("pk")
    )
    staff: dict[int, list[int]] = {}
    tasks = []
    for repair in pending:
        if repair.completed_at is None:  # filtered out above; for the type checker
            continue
        if repair.project_id not in staff:
            staff[repair.project_id] = _staff_of(repair.project_id, Role.SERVICE)
        people = staff[repair.project_id]
        start, due, note = callback_dates(repair.completed_at, calendar)
        tasks.append(
            VisitTask(
                company_id=repair.company_id,
                customer_id=repair.customer_id,
                project_id=repair.project_id,
                kind=TaskKind.REPAIR,
                repair=repair,
                occasion=f"repair:{repair.pk}",
                occasion_on=start,
                purpose=CALLBACK_PURPOSE,
                channel=Channel.PHONE,
                questions=list(CALLBACK_QUESTIONS),
                assignee_id=people[repair.pk % len(people)] if people else None,
                start_on=start,
                due_on=due,
                due_note=note[:200],
            )
        )
    before = VisitTask.objects.filter(kind=TaskKind.REPAIR).count()
    VisitTask.objects.bulk_create(tasks, ignore_conflicts=True)
    return VisitTask.objects.filter(kind=TaskKind.REPAIR).count() - before


# ---------------------------------------------------------------- the quarterly re-check


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def key(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    @property
    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, key: str) -> Quarter:
        year, _, number = key.partition("Q")
        if not (year.isdigit() and number in {"1", "2", "3", "4"}):
            raise DomainError("季度格式应为 2026Q3", field="quarter")
        return cls(int(year), int(number))


def sample_seed(company_id: int, quarter: Quarter) -> int:
    """The stored seed of a quarter's draw: derived from the company and the quarter."""
    digest = hashlib.sha256(f"recheck:{company_id}:{quarter.key}".encode()).hexdigest()
    return int(digest[:15], 16)


def sample_size(population: int, rate_percent: int = RATE_PERCENT) -> int:
    """20% rounded up (1 of 1 … 5, 2 of 6 …); nothing of nothing."""
    return math.ceil(population * rate_percent / 100)


def draw(candidates_by_project: dict[int, list[int]], seed: int, rate_percent: int = RATE_PERCENT) -> list[int]:
    """The stratified draw (pure): per project in id order, ``sample_size`` of its ids
    (sorted) picked with one generator seeded by ``seed``. Same input, same seed: same ids."""
    rng = random.Random(seed)
    picked: list[int] = []
    for project_id in sorted(candidates_by_project):
        ids = sorted(candidates_by_project[project_id])
        picked.extend(sorted(rng.sample(ids, sample_size(len(ids), rate_percent))))
    return picked


def quarter_population(company_id: int, quarter: Quarter) -> dict[int, list[int]]:
    """The quarter's completed repair callbacks (done, completed within the quarter), by project."""
    start, end = at(quarter.first_day, datetime.min.time()), at(quarter.next.first_day, datetime.min.time())
    rows = VisitTask.objects.filter(
        company_id=company_id,
        kind=TaskKind.REPAIR,
        status=VisitTask.Status.DONE,
        completed_at__gte=start,
        completed_at__lt=end,
    ).values_list("project_id", "pk")
    by_project: dict[int, list[int]] = {}
    for project_id, pk in rows:
        by_project.setdefault(project_id, []).append(pk)
    return by_project


def draw_recheck_sample(
    company: Company, quarter: Quarter, *, now: datetime, calendar: WorkCalendar | None = None
) -> RecheckSample | None:
    """Draw the quarter's re-check sample once (None when it was already drawn): the
    RecheckSample row and one re-check task per sampled callback, for the project's
    客服中心主任 (else unassigned), due 20 working days after the draw."""
    if RecheckSample.objects.filter(company=company, quarter=quarter.key).exists():
        return None
    calendar = calendar or work_calendar()
    seed = sample_seed(company.pk, quarter)
    population = quarter_population(company.pk, quarter)
    picked = draw(population, seed)
    today = local_day(now)
    due, note = _working_days_later(today, RECHECK_WINDOW_WORKING_DAYS, calendar)
    try:
        with transaction.atomic():
            sample = RecheckSample.objects.create(
                company=company,
                quarter=quarter.key,
                seed=seed,
                rate_percent=RATE_PERCENT,
                population=sum(len(v) for v in population.values()),
                size=len(picked),
                per_project={str(p): [len(ids), sample_size(len(ids))] for p, ids in population.items()},
                drawn_at=now,
            )
            directors: dict[int, list[int]] = {}
            tasks = []
            for source in VisitTask.objects.filter(pk__in=picked).order_by("pk"):
                if source.project_id not in directors:
                    directors[source.project_id] = _staff_of(source.project_id, Role.DIRECTOR)
                people = directors[source.project_id]
                tasks.append(
                    VisitTask(
                        company_id=company.pk,
                        customer_id=source.customer_id,
                        project_id=source.project_id,
                        kind=TaskKind.RECHECK,
                        repair_id=source.repair_id,
                        source_task=source,
                        occasion=f"recheck:{quarter.key}:{source.pk}",
                        occasion_on=today,
                        purpose=RECHECK_PURPOSE,
                        channel=Channel.PHONE,
                        questions=list(RECHECK_QUESTIONS),
                        assignee_id=people[0] if people else None,
                        start_on=today,
                        due_on=due,
                        due_note=note[:200],
                    )
                )
            VisitTask.objects.bulk_create(tasks)
    except IntegrityError:  # a second runner drew it at the same moment
        return None
    audit.log(
        audit.AuditLog.Action.CREATE,
        actor=None,
        target=sample,
        summary=f"{quarter.key} 报修回访抽查：{sample.size}/{sample.population}，种子 {seed}",
    )
    return sample


def draw_due_samples(*, now: datetime, calendar: WorkCalendar | None = None) -> int:
    """The job: in a new quarter, draw the previous quarter's sample for every company
    (once: unique per company and quarter). Returns how many samples were drawn."""
    from crm.accounts.models import Company

    quarter = Quarter.of(local_day(now)).previous
    made = 0
    for company in Company.objects.order_by("pk"):
        if draw_recheck_sample(company, quarter, now=now, calendar=calendar) is not None:
            made += 1
    return made


@dataclass(frozen=True)
class SampleProgress:
    sample: RecheckSample
    done: int
    open: int
    averages: dict[str, float]

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.sample.size) if self.sample.size else 100


def sample_progress(sample: RecheckSample) -> SampleProgress:
    """How far the director is (done / still open) and the average score per question."""
    tasks = VisitTask.objects.filter(
        company_id=sample.company_id, kind=TaskKind.RECHECK, occasion__startswith=f"recheck:{sample.quarter}:"
    )
    done_scores = list(tasks.filter(status=VisitTask.Status.DONE).values_list("scores", flat=True))
    totals: dict[str, list[int]] = {}
    for scores in done_scores:
        for question, score in scores.items():
            totals.setdefault(question, []).append(int(score))
    averages = {q: round(sum(v) / len(v), 2) for q, v in totals.items()}
    return SampleProgress(
        sample=sample,
        done=tasks.exclude(status__in=list(VisitTask.OPEN)).count(),
        open=tasks.filter(status__in=list(VisitTask.OPEN)).count(),
        averages=averages,
    )


__all__ = [
    "Quarter",
    "callback_dates",
    "complete_repair",
    "draw",
    "draw_due_samples",
    "draw_recheck_sample",
    "make_callbacks",
    "record_repair",
    "sample_progress",
    "sample_seed",
    "sample_size",
]
