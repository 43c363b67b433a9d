"""A small known dataset for October 2026, with its edges (docs/kpis.md has the rules).

Real dates: the National Day holiday 2026 is 10-01..10-07; Saturday 10-10 is a 调休
working day. A complaint registered on Friday 10-09 must be resolved by the end of 10-13
(10-10, 10-12, 10-13 are its three working days).

Customers (created_at; owner; project)
  c1   09-01 consultant A   owner of u1 (06-01) and u2 (10-10: a repurchase in October);
       referred c2
  c2   10-05 consultant A   referred by c1; owner of u7 (10-25: a first purchase)
  c3   08-01 teammate A     owner of u3 (05-01); referred c7 → retained by referral
  c4   07-01 outsider  B    owner of u4 (03-01) and u5 (04-01): a repurchase, not in October
  c5   11-02 consultant A   after October: not counted
  c6   09-01 consultant A   archived: never counted
  c7   10-20 teammate A     referred by c3; a deal on 11-05 (not an owner at October's end)
  x1   another company's customer, with a complaint and a visit in October: never counted

Complaints (registered; project; customer)
  k1  09-29 17:00 A c1        September's
  k2  10-09 10:00 A c1        acknowledged exactly at its deadline, resolved 10-13 23:59:59 (on time), 5
  k3  10-09 11:00 A c1        acknowledged 1 s late, resolved 10-14 00:00:01 (late), 3, a repeat
  k4  10-31 23:59 A none      open, not rated (seen by project and company scopes only)
  k5  11-01 00:00 A c1        November's
  k6  10-15 A c1              cancelled: counted nowhere
  k7  10-20 B c4              acknowledged after 1 h, resolved next day, 4

Visit tasks (due; assignee; status)
  t1  10-09 consultant c1  done 10-09 23:59, reached, 5          on time
  t2  10-09 consultant c1  done 10-10 09:00 (调休 Saturday), 3    late: after the due day
  t3  10-30 consultant c2  unreachable
  t4  10-12 teammate  c3   pending
  t5  10-15 teammate  c3   cancelled
  t6  09-30 consultant c1  done 10-08 10:00, 4   September's (by its due date)
  t7  10-20 outsider  c4   done 10-19, reached, 2 (project B)
  t8  11-02 consultant c1  pending: November's

Care messages (scheduled day; status): m1 10-01 delivered (c1), m2 10-31 sent (c3),
  m3 10-15 failed (c1), m4 10-20 undelivered (c4, B), m5 11-01 sent (c1), m6 10-10
  scheduled (c2). Opt-outs: c3 on 10-31 23:00, c1 on 09-30 (September's).
Gifts: g1 10-01 (2 pieces, c1, A), g2 10-31 (1 piece, c4, B), g3 11-01 (c1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import pytest

from crm.accounts.models import Company, User
from crm.accounts.roles import Role
from crm.accounts.services import create_staff
from crm.care import services as care_services
from crm.care.models import OutboundMessage
from crm.care.rules import Trigger
from crm.complaints import services as complaint_services
from crm.complaints.models import Category, Channel, Complaint
from crm.customers.models import Customer, Deal
from crm.kpis.definitions import KpiQuery
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar
from crm.projects.models import Project, Unit
from crm.service.models import Gift, GiftIssue
from crm.service.models import Occasion as GiftOccasion
from crm.visits.models import VisitTask

OCT_START, OCT_END = date(2026, 10, 1), date(2026, 10, 31)


def cst(year: int, month: int, day: int, hour: int = 9, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CHINA_TZ)


@pytest.fixture
def manager(make_staff) -> User:
    return make_staff("manager", Role.MANAGEMENT, display_name="黄总")


@pytest.fixture
def leader_of_team(leader, teams) -> User:
    """赵组长 leads 销售一组 (the consultant's and the teammate's team)."""
    team = teams[0]
    team.leader = leader
    team.save()
    return leader


@pytest.fixture
def other_company() -> Company:
    return Company.objects.create(name="别家地产", sms_signature="别家地产")


@pytest.fixture
def other_manager(other_company: Company) -> User:
    return create_staff("other_manager", company=other_company, roles=(Role.MANAGEMENT,), password="x-Passw0rd!")


@dataclass
class Dataset:
    customers: dict[str, Customer]
    complaints: dict[str, Complaint]
    tasks: dict[str, VisitTask]


def _created(customer: Customer, when: datetime) -> None:
    Customer.objects.filter(pk=customer.pk).update(created_at=when)


def _deal(customer: Customer, unit: Unit, subscribed_on: date, *, project: Project | None = None) -> Deal:
    return Deal.objects.create(
        company_id=customer.company_id,
        customer=customer,
        project=project or customer.project,
        unit=unit,
        consultant=customer.owner,
        subscribed_on=subscribed_on,
    )


def _stamp(complaint: Complaint, **fields: Any) -> None:
    Complaint.objects.filter(pk=complaint.pk).update(**fields)


@pytest.fixture
def october(
    company: Company,
    project: Project,
    project_b: Project,
    consultant: User,
    teammate: User,
    outsider: User,
    service: User,
    make_customer: Callable[..., Customer],
    make_unit: Callable[..., Unit],
    other_company: Company,
    settings: Any,
) -> Dataset:
    settings.COMPLAINT_REPEAT_WINDOW_DAYS = 0  # the one repeat is flagged by hand
    c = {
        "c1": make_customer("客户一", owner=consultant),
        "c2": make_customer("客户二", owner=consultant),
        "c3": make_customer("客户三", owner=teammate),
        "c4": make_customer("客户四", owner=outsider, project=project_b),
        "c5": make_customer("客户五", owner=consultant),
        "c6": make_customer("客户六", owner=consultant),
        "c7": make_customer("客户七", owner=teammate),
    }
    for key, when in {
        "c1": cst(2026, 9, 1),
        "c2": cst(2026, 10, 5),
        "c3": cst(2026, 8, 1),
        "c4": cst(2026, 7, 1),
        "c5": cst(2026, 11, 2),
        "c6": cst(2026, 9, 1),
        "c7": cst(2026, 10, 20),
    }.items():
        _created(c[key], when)
    Customer.objects.filter(pk=c["c6"].pk).update(is_archived=True)
    Customer.objects.filter(pk=c["c2"].pk).update(referrer=c["c1"])
    Customer.objects.filter(pk=c["c7"].pk).update(referrer=c["c3"])
    unit_b = [make_unit(project=project_b) for _ in range(2)]
    _deal(c["c1"], make_unit(), date(2026, 6, 1))
    _deal(c["c1"], make_unit(), date(2026, 10, 10))
    _deal(c["c2"], make_unit(), date(2026, 10, 25))
    _deal(c["c3"], make_unit(), date(2026, 5, 1))
    _deal(c["c4"], unit_b[0], date(2026, 3, 1))
    _deal(c["c4"], unit_b[1], date(2026, 4, 1))
    _deal(c["c7"], make_unit(), date(2026, 11, 5))

    complaint_services.ensure_default_categories(company)
    category = Category.objects.get(company=company, name="服务质量")
    category.owner = service
    category.save()
    calendar = WorkCalendar()

    def complaint(now: datetime, customer: Customer | None, *, proj: Project = project) -> Complaint:
        made = complaint_services.register_complaint(
            complaint_services.Intake(
                channel=Channel.PHONE,
                complainant_name=customer.name if customer else "路人",
                complainant_mobile=customer.mobile if customer else "13700009999",
                content="售楼处接待人员态度冷淡",
                project=proj,
                category=category,
            ),
            actor=service,
            now=now,
            calendar=calendar,
        )
        if customer is not None:
            Complaint.objects.filter(pk=made.pk).update(customer=customer)
        made.refresh_from_db()
        return made

    k = {
        "k1": complaint(cst(2026, 9, 29, 17), c["c1"]),
        "k2": complaint(cst(2026, 10, 9, 10), c["c1"]),
        "k3": complaint(cst(2026, 10, 9, 11), c["c1"]),
        "k4": complaint(cst(2026, 10, 31, 23, 59), None),
        "k5": complaint(cst(2026, 11, 1, 0, 0), c["c1"]),
        "k6": complaint(cst(2026, 10, 15), c["c1"]),
        "k7": complaint(cst(2026, 10, 20), c["c4"], proj=project_b),
    }
    # The deadline is the end of 10-13 (10-10 is a 调休 working day); check the calendar
    # gave it, so the boundary below is the real one.
    assert k["k2"].resolution_due_at == cst(2026, 10, 14, 0, 0)
    S = Complaint.Status
    _stamp(
        k["k2"],
        acknowledged_at=k["k2"].first_response_due_at,
        resolved_at=cst(2026, 10, 13, 23, 59, 59),
        status=S.CONFIRMED,
        satisfaction=5,
    )
    _stamp(
        k["k3"],
        acknowledged_at=k["k3"].first_response_due_at.replace(second=1),
        resolved_at=cst(2026, 10, 14, 0, 0, 1),
        status=S.CONFIRMED,
        satisfaction=3,
        is_repeat=True,
        repeat_of=k["k2"],
    )
    _stamp(k["k6"], status=S.CANCELLED, cancelled_at=cst(2026, 10, 15, 12))
    _stamp(
        k["k7"],
        acknowledged_at=cst(2026, 10, 20, 10),
        resolved_at=cst(2026, 10, 21, 10),
        status=S.CONFIRMED,
        satisfaction=4,
    )
    for key in k:
        k[key].refresh_from_db()

    counter = iter(range(1, 1000))

    def task(customer: Customer, due: date, assignee: User, status: str, **kw: Any) -> VisitTask:
        return VisitTask.objects.create(
            company=company,
            customer=customer,
            project_id=customer.project_id,
            occasion=f"kpi:{next(counter)}",
            occasion_on=due,
            purpose="签约回访",
            start_on=due,
            due_on=due,
            assignee=assignee,
            status=status,
            **kw,
        )

    T = VisitTask.Status
    t = {
        "t1": task(
            c["c1"],
            date(2026, 10, 9),
            consultant,
            T.DONE,
            completed_at=cst(2026, 10, 9, 23, 59),
            reached=True,
            satisfaction=5,
        ),
        "t2": task(
            c["c1"],
            date(2026, 10, 9),
            consultant,
            T.DONE,
            completed_at=cst(2026, 10, 10, 9),
            reached=True,
            satisfaction=3,
        ),
        "t3": task(c["c2"], date(2026, 10, 30), consultant, T.UNREACHABLE, reached=False),
        "t4": task(c["c3"], date(2026, 10, 12), teammate, T.PENDING),
        "t5": task(c["c3"], date(2026, 10, 15), teammate, T.CANCELLED),
        "t6": task(
            c["c1"],
            date(2026, 9, 30),
            consultant,
            T.DONE,
            completed_at=cst(2026, 10, 8, 10),
            reached=True,
            satisfaction=4,
        ),
        "t7": task(
            c["c4"],
            date(2026, 10, 20),
            outsider,
            T.DONE,
            completed_at=cst(2026, 10, 19, 15),
            reached=True,
            satisfaction=2,
        ),
        "t8": task(c["c1"], date(2026, 11, 2), consultant, T.PENDING),
    }

    M = OutboundMessage.Status
    made: dict[str, int] = {}

    def message(customer: Customer, day: date, status: str) -> OutboundMessage:
        rule = care_services.rule_for(customer.project_id, Trigger.BIRTHDAY)
        made[customer.name] = made.get(customer.name, 0) + 1
        at = datetime.combine(day, time(10), tzinfo=CHINA_TZ)
        return OutboundMessage.objects.create(
            customer=customer,
            project_id=customer.project_id,
            rule=rule,
            trigger=Trigger.BIRTHDAY,
            occasion=f"kpi-{made[customer.name]}",
            purpose=rule.purpose,
            text=f"{customer.name}，您好。",
            status=status,
            scheduled_at=at,
            next_attempt_at=at,
            window_ends_at=at.replace(hour=10, minute=30),
        )

    message(c["c1"], date(2026, 10, 1), M.DELIVERED)
    message(c["c3"], date(2026, 10, 31), M.SENT)
    message(c["c1"], date(2026, 10, 15), M.FAILED)
    message(c["c4"], date(2026, 10, 20), M.UNDELIVERED)
    message(c["c1"], date(2026, 11, 1), M.SENT)
    message(c["c2"], date(2026, 10, 10), M.SCHEDULED)
    Customer.objects.filter(pk=c["c3"].pk).update(has_opted_out=True, opted_out_at=cst(2026, 10, 31, 23))
    Customer.objects.filter(pk=c["c1"].pk).update(has_opted_out=True, opted_out_at=cst(2026, 9, 30, 12))

    gift = Gift.objects.create(company=company, name="定制保温杯", unit="个")

    def issue(customer: Customer, when: datetime, quantity: int, issuer: User) -> None:
        GiftIssue.objects.create(
            company=company,
            project_id=customer.project_id,
            gift=gift,
            quantity=quantity,
            occasion=GiftOccasion.BIRTHDAY,
            customer=customer,
            issuer=issuer,
            issued_at=when,
        )

    issue(c["c1"], cst(2026, 10, 1, 0, 0), 2, consultant)
    issue(c["c4"], cst(2026, 10, 31, 23, 59), 1, outsider)
    issue(c["c1"], cst(2026, 11, 1, 0, 0), 1, consultant)

    _other_company_rows(other_company)
    for key in c:
        c[key].refresh_from_db()
    return Dataset(c, k, t)


def _other_company_rows(other: Company) -> None:
    """Another company's customer, complaint, visit, message and gift in October."""
    project = Project.objects.create(company=other, name="别家楼盘", code="BJ", city="郑州")
    staff = create_staff(
        "other_service", company=other, roles=(Role.SERVICE,), password="x-Passw0rd!", projects=(project,)
    )
    customer = Customer.objects.create(
        company=other,
        number="KH9000001",
        name="别家客户",
        mobile="13900000001",
        owner=staff,
        project=project,
        source_channel="visit",
    )
    complaint_services.ensure_default_categories(other)
    category = Category.objects.get(company=other, name="服务质量")
    made = complaint_services.register_complaint(
        complaint_services.Intake(
            channel=Channel.PHONE,
            complainant_name="别家客户",
            complainant_mobile="13900000001",
            content="别家投诉",
            project=project,
            category=category,
        ),
        actor=staff,
        now=cst(2026, 10, 10, 10),
        calendar=WorkCalendar(),
    )
    Complaint.objects.filter(pk=made.pk).update(satisfaction=5, is_repeat=True)
    VisitTask.objects.create(
        company=other,
        customer=customer,
        project=project,
        occasion="other:1",
        occasion_on=date(2026, 10, 9),
        purpose="回访",
        start_on=date(2026, 10, 9),
        due_on=date(2026, 10, 9),
        assignee=staff,
        status=VisitTask.Status.DONE,
        completed_at=cst(2026, 10, 9, 10),
        reached=True,
        satisfaction=5,
    )


@pytest.fixture
def oct_query() -> Callable[..., KpiQuery]:
    def make(user: User, *projects: Project, start: date = OCT_START, end: date = OCT_END) -> KpiQuery:
        return KpiQuery(user, start, end, tuple(p.pk for p in projects))

    return make
