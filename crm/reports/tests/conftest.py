"""A small known dataset in the week Monday 2026-09-21 – Sunday 2026-09-27 (project A,
锦华苑), with rows just outside the week and in project B (滨江御府) that must not count.

In the week, project A:
- deals: 张三 subscribes on 09-22; 李四 (subscribed 09-01) signs on 09-23;
- gifts: 定制雨伞 ×1 and ×2 to 张三 on 09-22 (认购礼品);
- care: a subscription message to 张三 planned 09-22 (sent), a birthday one 09-24 (failed);
- phone visits due 09-24: one done (reached, 5 分, an opinion with a mobile), one unreachable;
  a face-to-face visit due and done on 09-25 (4 分);
- one visit issue raised 09-24; one complaint registered 09-23 10:00;
- media: one finding 09-25 (负面) and one weekly check of the week.
Outside: a gift on 09-28 (next week) and a gift in project B on 09-22.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from crm.accounts.models import Department
from crm.accounts.roles import Role
from crm.care import services as care_services
from crm.care.models import OutboundMessage
from crm.care.rules import Trigger
from crm.complaints import services as complaint_services
from crm.complaints.models import Category, Channel, MediaCheck, MediaFinding, Medium
from crm.customers import services as customer_services
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar
from crm.service.models import Gift, GiftIssue, Occasion
from crm.visits.models import IssueCategory, VisitIssue, VisitTask

MONDAY = date(2026, 9, 21)
SUNDAY = date(2026, 9, 27)


def cst(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


@pytest.fixture
def analyst(make_staff) -> Any:
    return make_staff("analyst", Role.ANALYST, display_name="马市场")


@pytest.fixture
def manager(make_staff) -> Any:
    return make_staff("manager", Role.MANAGEMENT, display_name="黄总")


@pytest.fixture
def service_b(make_staff, project_b) -> Any:
    return make_staff("service_b", Role.SERVICE, projects=(project_b,), display_name="周B客服")


def _message(customer: Any, trigger: str, when: datetime, status: str) -> OutboundMessage:
    rule = care_services.rule_for(customer.project_id, trigger)
    return OutboundMessage.objects.create(
        customer=customer,
        project_id=customer.project_id,
        rule=rule,
        trigger=trigger,
        occasion=f"test:{trigger}:{when:%m%d}",
        purpose=rule.purpose,
        text="测试",
        status=status,
        scheduled_at=when,
        next_attempt_at=when,
        window_ends_at=when,
    )


def _task(company: Any, customer: Any, n: int, **kw: Any) -> VisitTask:
    fields: dict[str, Any] = {
        "company": company,
        "customer": customer,
        "project_id": customer.project_id,
        "occasion": f"test:{n}",
        "occasion_on": date(2026, 9, 20),
        "purpose": "签约回访",
        "assignee": customer.owner,
        "start_on": date(2026, 9, 21),
        "due_on": date(2026, 9, 24),
    } | kw
    return VisitTask.objects.create(**fields)


@pytest.fixture
def week_data(company, project, project_b, consultant, service, make_customer, make_unit) -> dict[str, Any]:
    care_services.ensure_rules(project)
    zhang = make_customer("张三", mobile="13812345678")
    li = make_customer("李四")
    other = make_customer("王五", project=project_b)
    deal_zhang = customer_services.create_deal(
        actor=consultant, customer=zhang, unit=make_unit(), subscribed_on=date(2026, 9, 22), price=Decimal("1500000")
    )
    deal_li = customer_services.create_deal(
        actor=consultant, customer=li, unit=make_unit(), subscribed_on=date(2026, 9, 1)
    )
    deal_li.contracted_on = date(2026, 9, 23)
    deal_li.save(update_fields=["contracted_on"])

    umbrella = Gift.objects.create(company=company, name="定制雨伞", unit="把")
    for qty, when, proj, cust in (
        (1, cst(9, 22), project, zhang),
        (2, cst(9, 22, 15), project, zhang),
        (5, cst(9, 28), project, zhang),  # next week
        (7, cst(9, 22), project_b, other),  # project B
    ):
        GiftIssue.objects.create(
            company=company,
            project=proj,
            gift=umbrella,
            quantity=qty,
            occasion=Occasion.SUBSCRIPTION,
            customer=cust,
            issuer=service,
            issued_at=when,
        )

    _message(zhang, Trigger.SUBSCRIPTION, cst(9, 22), OutboundMessage.Status.DELIVERED)
    _message(zhang, Trigger.BIRTHDAY, cst(9, 24), OutboundMessage.Status.FAILED)

    done = _task(
        company,
        zhang,
        1,
        status=VisitTask.Status.DONE,
        reached=True,
        satisfaction=5,
        opinions="样板间很好，回电 13812345678",
        completed_at=cst(9, 24, 11),
    )
    _task(company, li, 2, status=VisitTask.Status.UNREACHABLE, reached=False)
    _task(
        company,
        li,
        3,
        channel="visit",
        due_on=date(2026, 9, 25),
        status=VisitTask.Status.DONE,
        reached=True,
        satisfaction=4,
        completed_at=cst(9, 25, 16),
    )
    engineering = Department.objects.create(company=company, name="工程部")
    category = IssueCategory.objects.create(company=company, name="工程质量", department=engineering)
    VisitIssue.objects.create(
        company=company,
        task=done,
        customer=zhang,
        project=project,
        category=category,
        department=engineering,
        description="阳台渗水",
        promised_on=date(2026, 9, 30),
        raised_by=consultant,
        raised_at=cst(9, 24, 11),
    )

    complaint_services.ensure_default_categories(company)
    complaint = complaint_services.register_complaint(
        complaint_services.Intake(
            channel=Channel.PHONE,
            complainant_name="张三",
            complainant_mobile="13812345678",
            content="售楼处接待人员态度冷淡",
            project=project,
            category=Category.objects.get(company=company, name="服务质量"),
        ),
        actor=service,
        now=cst(9, 23),
        calendar=WorkCalendar(),
    )
    medium = Medium.objects.create(company=company, name="房天下论坛", kind="forum")
    MediaCheck.objects.create(company=company, medium=medium, week_on=MONDAY, checked_by=service, checked_at=cst(9, 23))
    MediaFinding.objects.create(
        company=company,
        medium=medium,
        project=project,
        found_at=cst(9, 25),
        summary="网帖称交房延期",
        sentiment="negative",
        recorded_by=service,
    )
    return {"zhang": zhang, "li": li, "deal_zhang": deal_zhang, "deal_li": deal_li, "complaint": complaint}
