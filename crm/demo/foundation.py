"""Demo data: a company, two projects with units, staff of every role, customers and deals.

Used by `make run` on first start (seed_demo) and, in a smaller size, by tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.accounts.models import Company, Department, Team, User
from crm.accounts.roles import Role
from crm.accounts.services import create_staff
from crm.customers.models import (
    Channel,
    Customer,
    CustomerProfile,
    Deal,
    Grade,
    MoveInKind,
    Stage,
    Tag,
    TimelineEvent,
)
from crm.customers.services import next_customer_numbers
from crm.projects.models import Building, Project, Unit


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[Role, ...]
    team: str | None
    projects: tuple[str, ...]
    is_staff: bool = False
    is_superuser: bool = False


PROJECTS = (("锦华苑", "JHY", "郑州"), ("滨江御府", "BJYF", "郑州"))
TEAMS = ("销售一组", "销售二组")

DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "系统管理员", (Role.ADMIN,), None, ("JHY", "BJYF"), is_staff=True, is_superuser=True),
    DemoUser("consultant1", "王晓燕", (Role.CONSULTANT,), "销售一组", ("JHY",)),
    DemoUser("consultant3", "李明", (Role.CONSULTANT,), "销售一组", ("JHY",)),
    DemoUser("leader1", "赵刚", (Role.TEAM_LEADER,), "销售一组", ("JHY",)),
    DemoUser("consultant2", "陈静", (Role.CONSULTANT,), "销售二组", ("BJYF",)),
    DemoUser("leader2", "周强", (Role.TEAM_LEADER,), "销售二组", ("BJYF",)),
    DemoUser("service1", "刘芳", (Role.SERVICE,), None, ("JHY", "BJYF")),
    DemoUser("duty1", "孙伟", (Role.DUTY,), None, ("JHY", "BJYF")),
    DemoUser("director1", "吴敏", (Role.DIRECTOR,), None, ("JHY", "BJYF")),
    DemoUser("supervisor1", "郑洁", (Role.SUPERVISOR,), None, ("JHY", "BJYF")),
    DemoUser("analyst1", "冯磊", (Role.ANALYST,), None, ("JHY", "BJYF")),
    DemoUser("approver1", "何丽", (Role.APPROVER,), None, ("JHY", "BJYF")),
    DemoUser("manager1", "黄志远", (Role.MANAGEMENT,), None, ("JHY", "BJYF")),
)

LAYOUTS = (("两室两厅一卫", 89), ("三室两厅两卫", 118), ("四室两厅两卫", 143))
MOBILE_PREFIXES = (
    "138",
    "139",
    "137",
    "136",
    "150",
    "151",
    "152",
    "158",
    "159",
    "186",
    "187",
    "188",
    "135",
    "182",
    "183",
)


def demo_mobile(index: int) -> str:
    """A valid-looking mainland mobile, unique per index."""
    prefix = MOBILE_PREFIXES[index % len(MOBILE_PREFIXES)]
    return f"{prefix}{(index * 7919) % 100_000_000:08d}"


@transaction.atomic
def seed(*, customers: int = 3000, seed_value: int = 20261123, password: str | None = None) -> Company:
    """Create the demo world. Idempotent only in the sense that it refuses to run twice."""
    from faker import Faker

    rng = random.Random(seed_value)
    fake = Faker("zh_CN")
    fake.seed_instance(seed_value)
    password = password or settings.DEMO_PASSWORD
    company = Company.objects.create(name=settings.COMPANY_NAME, sms_signature=settings.COMPANY_NAME)
    sales = Department.objects.create(company=company, name="销售部")
    Department.objects.bulk_create(
        [
            Department(company=company, name=n)
            for n in ("客户服务中心", "行政部", "市场部", "综合组", "工程部", "物业部", "财务部")
        ]
    )
    teams = {name: Team.objects.create(department=sales, name=name) for name in TEAMS}
    projects = {}
    for name, code, city in PROJECTS:
        project = Project.objects.create(
            company=company, name=name, code=code, city=city, address=f"{city}市金水区{name}路1号"
        )
        projects[code] = project
        units = []
        for b in range(1, 7):
            building = Building.objects.create(project=project, name=f"{b}号楼", floors=18)
            for floor in range(2, 19):
                for room in (1, 2, 3, 4):
                    layout, area = LAYOUTS[room % 3]
                    units.append(
                        Unit(
                            project=project,
                            building=building,
                            number=f"{floor}{room:02d}",
                            layout=layout,
                            area=Decimal(area),
                            price=Decimal(area * rng.randint(11_000, 16_000)),
                        )
                    )
        Unit.objects.bulk_create(units)
    users: dict[str, User] = {}
    for spec in DEMO_USERS:
        user = create_staff(
            spec.username,
            company=company,
            roles=spec.roles,
            password=password,
            display_name=spec.display_name,
            team=teams[spec.team] if spec.team else None,
            projects=[projects[c] for c in spec.projects],
            is_staff=spec.is_staff,
            is_superuser=spec.is_superuser,
        )
        users[spec.username] = user
    for name in TEAMS:
        leader = next(u for u in users.values() if u.team and u.team.name == name and Role.TEAM_LEADER in u.roles)
        Team.objects.filter(name=name).update(leader=leader)
    tags = [
        Tag.objects.create(company=company, name=n) for n in ("改善型", "首置", "投资", "学区需求", "老业主", "团购")
    ]
    _seed_customers(company, users, projects, tags, customers, rng, fake)
    return company


def _seed_customers(
    company: Company,
    users: dict[str, User],
    projects: dict[str, Project],
    tags: list[Tag],
    count: int,
    rng: random.Random,
    fake: Any,
) -> None:
    owners_by_project = {
        "JHY": [users["consultant1"], users["consultant3"], users["leader1"]],
        "BJYF": [users["consultant2"], users["leader2"]],
    }
    numbers = next_customer_numbers(company.pk, count)
    now = timezone.now()
    today = timezone.localdate()
    channels = list(Channel.values)
    customers = []
    created_times = []
    for i in range(count):
        code = "JHY" if i % 5 < 3 else "BJYF"
        created = now - timedelta(days=rng.randint(0, 720), minutes=rng.randint(0, 1440))
        created_times.append(created)
        birthday = date(rng.randint(1960, 1998), rng.randint(1, 12), rng.randint(1, 28))
        gender = rng.choice(["M", "F"])
        consent = rng.random() < 0.8
        customers.append(
            Customer(
                company=company,
                number=numbers[i],
                name=fake.name_male() if gender == "M" else fake.name_female(),
                gender=gender,
                mobile=demo_mobile(i + 1),
                stage=rng.choice([Stage.PROSPECT, Stage.INTERESTED, Stage.INTERESTED]),
                grade=rng.choice(list(Grade.values)),
                is_vip=rng.random() < 0.05,
                owner=rng.choice(owners_by_project[code]),
                project=projects[code],
                source_channel=rng.choice(channels),
                birthday_on=birthday,
                birth_mmdd=birthday.strftime("%m%d"),
                consent_care=consent,
                consent_marketing=consent and rng.random() < 0.5,
                consent_source="售楼处登记表" if consent else "",
                consent_at=created if consent else None,
                created_at=created,
            )
        )
    Customer.objects.bulk_create(customers, batch_size=1000)
    # auto_now_add overwrites the value given (on the instances too); set the spread-out
    # creation times explicitly afterwards.
    saved = list(Customer.objects.filter(company=company).order_by("id"))
    for customer, created in zip(saved, created_times, strict=True):
        customer.created_at = created
    Customer.objects.bulk_update(saved, ["created_at"], batch_size=1000)
    CustomerProfile.objects.bulk_create([CustomerProfile(customer=c) for c in saved], batch_size=1000)
    through = Customer.tags.through
    through.objects.bulk_create(
        [through(customer_id=c.pk, tag_id=rng.choice(tags).pk) for c in saved if rng.random() < 0.4], batch_size=1000
    )
    events = [
        TimelineEvent(
            customer=c,
            kind=TimelineEvent.Kind.CREATED,
            occurred_at=c.created_at,
            actor=c.owner,
            summary=f"{c.owner} 录入客户（{c.get_source_channel_display()}）",
        )
        for c in saved
    ]
    # About a fifth of the customers bought: deals spread over every milestone.
    units_by_project = {code: list(p.units.order_by("?")) for code, p in projects.items()}
    deals = []
    buyers = [c for c in saved if rng.random() < 0.2]
    for c in buyers:
        pool = units_by_project["JHY" if c.project_id == projects["JHY"].pk else "BJYF"]
        if not pool:
            continue
        unit = pool.pop()
        registered = timezone.localtime(c.created_at).date()
        sub = registered + timedelta(days=rng.randint(0, max((today - registered).days, 0)))
        step = rng.randint(0, 6)
        contracted = sub + timedelta(days=rng.randint(2, 10)) if step >= 1 else None
        full = contracted + timedelta(days=rng.randint(5, 60)) if step >= 2 and contracted else None
        filed = contracted + timedelta(days=rng.randint(10, 40)) if step >= 3 and contracted else None
        planned = (contracted or sub) + timedelta(days=rng.randint(200, 400))
        delivered = min(planned, today) if step >= 4 and planned <= today else None
        moved = delivered + timedelta(days=rng.randint(0, 30)) if step >= 5 and delivered else None
        if moved and moved > today:
            moved = None
        for value in (contracted, full, filed):
            if value and value > today:
                contracted = full = filed = delivered = moved = None
                break
        deals.append(
            Deal(
                company=company,
                customer=c,
                project_id=c.project_id,
                unit=unit,
                consultant=c.owner,
                price=unit.price,
                subscribed_on=sub,
                contracted_on=contracted,
                full_payment_on=full,
                filed_on=filed,
                delivery_planned_on=planned,
                delivered_on=delivered,
                moved_in_on=moved,
                move_in_kind=(MoveInKind.BATCH if rng.random() < 0.7 else MoveInKind.INDIVIDUAL) if moved else "",
            )
        )
        unit.status = Unit.Status.DELIVERED if delivered else Unit.Status.SOLD if contracted else Unit.Status.RESERVED
        events.append(
            TimelineEvent(
                customer=c,
                kind=TimelineEvent.Kind.DEAL,
                occurred_at=timezone.make_aware(datetime.combine(sub, time(10, 0))),
                actor=c.owner,
                summary=f"认购 {unit.project.name} {unit.building.name}-{unit.number}",
            )
        )
    Deal.objects.bulk_create(deals, batch_size=1000)
    Unit.objects.bulk_update([d.unit for d in deals], ["status"], batch_size=1000)
    Customer.objects.filter(pk__in=[d.customer_id for d in deals]).update(stage=Stage.OWNER)
    TimelineEvent.objects.bulk_create(events, batch_size=1000)
