"""Visit fixtures on top of the personas in the root conftest.

Real dates: the National Day holiday 2026 (10-01..10-07; Sunday 09-20 and Saturday 10-10
are 调休 working days; Friday 09-25 is 中秋).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.customers.models import Customer, Deal
from crm.customers.services import create_deal
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar
from crm.projects.models import Project, Unit
from crm.visits import services
from crm.visits.models import VisitPlan, VisitTask


def cst(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture
def manager(make_staff) -> User:
    return make_staff("manager", Role.MANAGEMENT, display_name="黄总")


@pytest.fixture
def plans(project: Project, project_b: Project) -> dict[str, VisitPlan]:
    """The seed's plans on both projects; keyed by name for project A."""
    services.ensure_default_plans(project)
    services.ensure_default_plans(project_b)
    return {p.name: p for p in VisitPlan.objects.filter(project=project)}


@pytest.fixture
def make_deal(make_unit: Callable[..., Unit], consultant: User) -> Callable[..., Deal]:
    def make(customer: Customer, *, subscribed_on: date = date(2026, 9, 20), **dates: Any) -> Deal:
        project = customer.project
        return create_deal(
            actor=customer.owner,
            customer=customer,
            unit=make_unit(project=project),
            consultant=customer.owner,
            subscribed_on=subscribed_on,
            **dates,
        )

    return make


@pytest.fixture
def make_task(company, project: Project, plans: dict[str, VisitPlan]) -> Callable[..., VisitTask]:
    """A contract-visit task for ``customer`` (assigned to its owner unless given)."""
    counter = iter(range(1, 10_000))

    def make(customer: Customer, **kw: Any) -> VisitTask:
        plan = kw.pop("plan", plans["签约回访"] if customer.project_id == project.pk else None)
        if plan is None:
            plan = VisitPlan.objects.get(project_id=customer.project_id, name="签约回访")
        fields: dict[str, Any] = {
            "company": company,
            "customer": customer,
            "project_id": customer.project_id,
            "plan": plan,
            "occasion": f"test:{next(counter)}",
            "occasion_on": date(2026, 9, 25),
            "purpose": plan.purpose,
            "questions": plan.question_list,
            "assignee": customer.owner,
            "start_on": date(2026, 9, 25),
            "due_on": date(2026, 10, 8),
            "max_attempts": plan.max_attempts,
        } | kw
        return VisitTask.objects.create(**fields)

    return make
