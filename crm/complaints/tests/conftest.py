"""Complaint fixtures on top of the personas in the root conftest.

service_b   客服专员 of project B only (sees project B's complaints, not A's)
duty        值班人员 of project A (registers complaints)
manager     管理层 (reads every complaint of the company)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.complaints import services
from crm.complaints.models import Category, Channel, Complaint
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar
from crm.projects.models import Project

# Tuesday 2026-09-29 17:00, before the National Day holiday.
REGISTERED_AT = datetime(2026, 9, 29, 17, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture
def service_b(make_staff, project_b) -> User:
    return make_staff("service_b", Role.SERVICE, projects=(project_b,), display_name="钱客服")


@pytest.fixture
def duty(make_staff, project) -> User:
    return make_staff("duty", Role.DUTY, projects=(project,), display_name="孙值班")


@pytest.fixture
def manager(make_staff) -> User:
    return make_staff("manager", Role.MANAGEMENT, display_name="黄总")


@pytest.fixture
def category(company, service) -> Category:
    services.ensure_default_categories(company)
    cat = Category.objects.get(company=company, name="服务质量")
    cat.owner = service
    cat.save()
    return cat


@pytest.fixture
def make_complaint(
    service: User, category: Category, project: Project, calendar: WorkCalendar
) -> Callable[..., Complaint]:
    def make(*, actor: User | None = None, now: datetime = REGISTERED_AT, **kw: Any) -> Complaint:
        fields: dict[str, Any] = {
            "channel": Channel.PHONE,
            "complainant_name": "张三",
            "complainant_mobile": "13800001111",
            "content": "售楼处接待人员态度冷淡",
            "project": project,
            "category": category,
        } | kw
        return services.register_complaint(
            services.Intake(**fields), actor=actor or service, now=now, calendar=calendar
        )

    return make
