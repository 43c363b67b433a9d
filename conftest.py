"""Test personas, so permission tests read as stories ("the outsider gets 404").

consultant   销售一组, project A (owns the customers made by ``make_customer``)
teammate     销售一组, project A
leader       销售一组 team leader
outsider     销售二组 consultant, project B
service      客服专员, project A
director     客服中心主任, projects A and B
supervisor   行政主管, company-wide
approver     综合组, no customer data
admin        系统管理员
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from crm.accounts.models import Company, Department, Team, User
from crm.accounts.roles import Role
from crm.accounts.services import create_staff
from crm.customers.models import Channel, Customer
from crm.customers.services import create_customer
from crm.projects.models import Building, Project, Unit

PASSWORD = "test-pass-123"


# ---------------------------------------------------------------- tests that need a service
# `make test` passes on a fresh machine: tests marked needs_redis run only when REDIS_URL is
# set, needs_postgres only when DATABASE_URL is PostgreSQL. CI (.ci/run) sets both on its
# PostgreSQL pass. What is left out is said in the header and the summary, never silently.
NEEDS = {
    "needs_redis": "REDIS_URL is not set (CI sets it; e.g. REDIS_URL=redis://127.0.0.1:6379/15)",
    "needs_postgres": "DATABASE_URL is not PostgreSQL (CI's second pass runs on PostgreSQL)",
}
_NOT_RUN = pytest.StashKey[dict[str, int]]()


def _unavailable() -> dict[str, str]:
    import dj_database_url

    missing = {}
    if not os.environ.get("REDIS_URL"):
        missing["needs_redis"] = NEEDS["needs_redis"]
    url = os.environ.get("DATABASE_URL", "")
    if not url or "postgresql" not in dj_database_url.parse(url)["ENGINE"]:
        missing["needs_postgres"] = NEEDS["needs_postgres"]
    return missing


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_redis: uses the Redis at REDIS_URL; deselected when it is unset")
    config.addinivalue_line("markers", "needs_postgres: runs only when DATABASE_URL is PostgreSQL; else deselected")


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"{marker} tests will not run: {why}" for marker, why in _unavailable().items()]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = _unavailable()
    not_run = dict.fromkeys(missing, 0)
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        lacking = [marker for marker in missing if item.get_closest_marker(marker)]
        for marker in lacking:
            not_run[marker] += 1
        (drop if lacking else keep).append(item)
    config.stash[_NOT_RUN] = not_run
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    for marker, count in config.stash.get(_NOT_RUN, {}).items():
        if count:
            terminalreporter.write_line(f"{count} {marker} tests not run: {NEEDS[marker]}", yellow=True, bold=True)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache: a test's rows are rolled back without signals,
    so what was cached from them (the work calendar under its stamp, crm.core.calendar)
    must not answer the next test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def company(db: Any) -> Company:
    return Company.objects.create(name="测试置业", sms_signature="测试置业")


@pytest.fixture
def project(company: Company) -> Project:
    return Project.objects.create(company=company, name="锦华苑", code="JHY", city="郑州")


@pytest.fixture
def project_b(company: Company) -> Project:
    return Project.objects.create(company=company, name="滨江御府", code="BJYF", city="郑州")


@pytest.fixture
def teams(company: Company) -> tuple[Team, Team]:
    sales = Department.objects.create(company=company, name="销售部")
    return Team.objects.create(department=sales, name="销售一组"), Team.objects.create(
        department=sales, name="销售二组"
    )


@pytest.fixture
def make_staff(company: Company) -> Callable[..., User]:
    def make(
        username: str, *roles: Role, team: Team | None = None, projects: tuple[Project, ...] = (), **kw: Any
    ) -> User:
        return create_staff(
            username, company=company, roles=roles, password=PASSWORD, team=team, projects=projects, **kw
        )

    return make


@pytest.fixture
def consultant(make_staff, teams, project) -> User:
    return make_staff("consultant", Role.CONSULTANT, team=teams[0], projects=(project,), display_name="王顾问")


@pytest.fixture
def teammate(make_staff, teams, project) -> User:
    return make_staff("teammate", Role.CONSULTANT, team=teams[0], projects=(project,), display_name="李同组")


@pytest.fixture
def leader(make_staff, teams, project) -> User:
    return make_staff("leader", Role.TEAM_LEADER, team=teams[0], projects=(project,), display_name="赵组长")


@pytest.fixture
def outsider(make_staff, teams, project_b) -> User:
    return make_staff("outsider", Role.CONSULTANT, team=teams[1], projects=(project_b,), display_name="陈外组")


@pytest.fixture
def service(make_staff, project) -> User:
    return make_staff("service", Role.SERVICE, projects=(project,), display_name="刘客服")


@pytest.fixture
def director(make_staff, project, project_b) -> User:
    return make_staff("director", Role.DIRECTOR, projects=(project, project_b), display_name="吴主任")


@pytest.fixture
def supervisor(make_staff) -> User:
    return make_staff("supervisor", Role.SUPERVISOR, display_name="郑主管")


@pytest.fixture
def approver(make_staff) -> User:
    return make_staff("approver", Role.APPROVER, display_name="何审批")


@pytest.fixture
def admin_user(make_staff, project, project_b) -> User:
    return make_staff("admin", Role.ADMIN, projects=(project, project_b), is_staff=True, is_superuser=True)


_mobiles = itertools.count(10_000_001)


def next_mobile() -> str:
    return f"139{next(_mobiles):08d}"


@pytest.fixture
def make_customer(company: Company, consultant: User, project: Project) -> Callable[..., Customer]:
    def make(name: str = "张三", *, owner: User | None = None, project: Project = project, **kw: Any) -> Customer:
        owner = owner or consultant
        kw.setdefault("mobile", next_mobile())
        kw.setdefault("source_channel", Channel.VISIT)
        return create_customer(actor=owner, company=company, name=name, owner=owner, project_id=project.pk, **kw)

    return make


@pytest.fixture
def customer(make_customer) -> Customer:
    return make_customer("张三", mobile="13812345678")


@pytest.fixture
def make_unit(project: Project) -> Callable[..., Unit]:
    counter = itertools.count(101)

    def make(project: Project = project, **kw: Any) -> Unit:
        building, _ = Building.objects.get_or_create(project=project, name="1号楼")
        kw.setdefault("number", str(next(counter)))
        kw.setdefault("price", Decimal("1200000"))
        return Unit.objects.create(project=project, building=building, **kw)

    return make


@pytest.fixture
def unit(make_unit) -> Unit:
    return make_unit(number="1801", layout="三室两厅两卫", area=Decimal("118.00"))


@pytest.fixture
def login(client) -> Callable[[User], Any]:
    def do(user: User) -> Any:
        client.force_login(user)
        return client

    return do


@pytest.fixture(scope="session", autouse=True)
def _no_session_left_on_the_test_database(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """On PostgreSQL, end whatever sessions are still open on the test database before
    pytest-django drops it: a worker process killed mid-query (the reliability tests) or a
    live server's thread can leave one, and DROP DATABASE then fails the whole run."""
    yield
    with django_db_blocker.unblock():
        from django.db import connection

        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
