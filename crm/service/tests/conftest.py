"""Service-operations fixtures on top of the personas in the root conftest.

duty        值班人员 of project A (the outgoing officer)
duty2       值班人员 of project A (the incoming officer)
duty_b      值班人员 of project B only (sees project B's duty, not A's)
manager     管理层 (a mid-level manager or above for holiday shifts)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.lib.dates import CHINA_TZ
from crm.lib.workcalendar import WorkCalendar
from crm.service import services
from crm.service.models import Handover, Shift

# Tuesday 2026-09-29, an ordinary working day before the National Day holiday.
WORKDAY_8AM = datetime(2026, 9, 29, 8, 0, tzinfo=CHINA_TZ)
# Friday 2026-10-02, inside the National Day holiday.
HOLIDAY_8AM = datetime(2026, 10, 2, 8, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture
def duty(make_staff, project) -> User:
    return make_staff("duty", Role.DUTY, projects=(project,), display_name="孙值班")


@pytest.fixture
def duty2(make_staff, project) -> User:
    return make_staff("duty2", Role.DUTY, projects=(project,), display_name="钱接班")


@pytest.fixture
def duty_b(make_staff, project_b) -> User:
    return make_staff("duty_b", Role.DUTY, projects=(project_b,), display_name="周B值班")


@pytest.fixture
def manager(make_staff) -> User:
    return make_staff("manager", Role.MANAGEMENT, display_name="黄总")


@pytest.fixture
def make_shift(director, duty, project, calendar) -> Callable[..., Shift]:
    def make(*, officer: User | None = None, start: datetime = WORKDAY_8AM, hours: int = 12, **kw: Any) -> Shift:
        return services.plan_shift(
            actor=director,
            project=kw.pop("project", project),
            officer=officer or duty,
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            now=WORKDAY_8AM - timedelta(days=3),
            calendar=calendar,
            **kw,
        )

    return make


@pytest.fixture
def handover(make_shift, duty, duty2) -> Handover:
    shift = make_shift()
    return services.start_handover(shift, actor=duty, incoming=duty2, now=WORKDAY_8AM + timedelta(hours=11))


@pytest.fixture
def ready_handover(handover, duty) -> Handover:
    """Filled in and signed by the outgoing officer: nothing to refuse."""
    services.update_handover(
        handover,
        actor=duty,
        log_summary="来电 3 个，来访 1 人，均已处理",
        open_matters="",
        major_repair_open=False,
        major_repair_note="",
    )
    services.submit_handover(handover, actor=duty)
    return handover


@pytest.fixture
def gift(company):
    from crm.service.models import Gift

    return Gift.objects.create(company=company, name="定制保温杯", unit="个")


@pytest.fixture
def stocked(gift, director, project):
    """Ten cups at project A."""
    services.stock_in(gift, actor=director, project=project, quantity=10, note="首批采购")
    return gift


@pytest.fixture
def make_deal(consultant, make_customer, make_unit):
    from crm.customers.services import create_deal

    def make(*, unit=None, customer=None, **dates: Any):
        return create_deal(
            actor=consultant,
            customer=customer or make_customer("刘业主"),
            unit=unit or make_unit(),
            **dates,
        )

    return make
