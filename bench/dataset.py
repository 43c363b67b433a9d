"""The dataset of the benchmarks: a company of N generated customers, kept between runs.

``ensure_dataset`` reuses the dataset of this size or (re)generates it: a company with its
projects, units, 200 consultants in 20 teams, a director, and customers with deals,
family and timeline events in realistic proportions (zh_CN names by census frequency,
valid distinct mobiles). On PostgreSQL this is set-based SQL (``INSERT … SELECT FROM
generate_series``) with the secondary indexes rebuilt afterwards; elsewhere
``bulk_create`` with the same distributions. A marker row in ``core.Counter`` records the
size. ``python -m bench customers`` (bench/customers.py) and ``python -m bench care``
(bench/care.py) both run on it; what is generated: docs/performance.md.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.utils import timezone

from bench import BenchError
from crm.accounts.models import Company, Department, Team, User
from crm.accounts.roles import Role, group_name
from crm.core.models import Counter
from crm.customers.models import (
    Channel,
    Customer,
    CustomerProfile,
    Deal,
    FamilyMember,
    Stage,
    Tag,
    TimelineEvent,
)
from crm.demo.foundation import MOBILE_PREFIXES, demo_mobile
from crm.projects.models import Building, Project, Unit

Write = Callable[[str], None]

BENCH_COMPANY = "压测样本置业"
USERNAME_PREFIX = "bench_"
# Bump the version when the generator changes: an old dataset is then regenerated.
MARKER_KEY = "bench:dataset:v3"
SEED = 20261123

PROJECTS = (("锦华苑", "JHY"), ("滨江御府", "BJYF"), ("翡翠湾", "FCW"), ("云栖府", "YQF"))
TEAMS_PER_PROJECT = 5
CONSULTANTS_PER_TEAM = 10
PER_PROJECT = TEAMS_PER_PROJECT * CONSULTANTS_PER_TEAM
DIRECTOR_PROJECTS = 2  # the director (scope PROJECT) covers the first two projects
BUYER_SHARE = 0.2
UNITS_PER_BUILDING = 33 * 4  # floors 2–34, four units a floor
TAG_NAMES = ("改善型", "首置", "投资", "学区需求", "老业主", "团购")

# Surnames by frequency (7th census, rounded); the rest taper off, compound ones are rare.
_TOP_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
_TOP_WEIGHTS = (7.1, 7.0, 6.7, 5.4, 4.6, 3.1, 2.0, 2.0, 1.6, 1.6, 1.3, 1.2, 1.1, 1.0, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8)
_MORE_SURNAMES = "郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐")
SURNAMES: tuple[str, ...] = (*_TOP_SURNAMES, *_MORE_SURNAMES, *_COMPOUND_SURNAMES)
_WEIGHTS = (
    *_TOP_WEIGHTS,
    *(0.75 - 0.6 * i / (len(_MORE_SURNAMES) - 1) for i in range(len(_MORE_SURNAMES))),
    0.3,  # 欧阳 is rare (~0.1%); a little more gives the two-character search something to find
    *(0.02,) * (len(_COMPOUND_SURNAMES) - 1),
)
# Lower bounds of each surname's share of [0, 1): width_bucket() in SQL, bisect in Python.
SURNAME_BOUNDS: tuple[float, ...] = tuple(sum(_WEIGHTS[:i]) / sum(_WEIGHTS) for i in range(len(_WEIGHTS)))
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国峰志文东海亮成博晨轩子然天泽一鸣昊睿诚德"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英燕萍红梅琳雪婷慧莉倩洁颖琪欣怡佳雨晓思梦诗涵月嘉蕾璐瑶琴兰凤"
TWO_CHAR_GIVEN = 0.72  # share of given names with two characters (张建国 rather than 张伟)
MOBILE2_PREFIXES = ("199", "177", "166", "133", "153", "180", "181", "189")
CUSTOMER_NOTES = (
    "意向三室",
    "关注学区",
    "预算200万以内",
    "需要车位",
    "改善型需求",
    "投资为主",
    "等开盘通知",
    "一家三代同住",
)
FOLLOW_UPS = (
    "电话回访，客户对户型较满意",
    "客户到访售楼处，看了样板间",
    "已发送最新价格表",
    "客户关心学区和交房时间",
    "约定周末再次到访",
    "客户与家人一起来看房",
    "客户咨询公积金贷款政策",
    "微信沟通团购优惠",
    "客户反馈价格偏高，继续跟进",
    "已发送合同样本",
)
ADDRESSES = (
    "郑州市金水区花园路",
    "郑州市郑东新区商务外环",
    "郑州市二七区大学路",
    "郑州市中原区建设西路",
    "郑州市管城区紫荆山路",
)
EMPLOYERS = ("河南省人民医院", "郑州大学", "宇通客车", "中原银行", "个体经营", "富士康郑州园区", "郑州市第一中学")
NATIVE_PLACES = ("河南郑州", "河南洛阳", "河南开封", "河南南阳", "湖北武汉", "山东菏泽", "安徽阜阳")
JOB_TITLES = ("教师", "医生", "工程师", "经理", "公务员", "个体老板", "财务")
LAYOUTS = (("两室两厅一卫", 89), ("三室两厅两卫", 118), ("四室两厅两卫", 143))
CHANNEL_LABELS = {value: str(label) for value, label in Channel.choices}
STAGE_LABELS = {value: str(label) for value, label in Stage.choices}


# --------------------------------------------------------------------------- dataset


@dataclass
class Dataset:
    company: Company
    customers: int
    consultant: User  # scope OWN
    director: User  # scope PROJECT over the first DIRECTOR_PROJECTS projects
    project_ids: list[int]
    director_project_ids: list[int]
    generated_in_s: float | None = None  # None when an existing dataset was reused


def bench_name(rng: random.Random, *, male: bool) -> str:
    """A zh_CN full name: a surname by census frequency and a one- or two-character given name."""
    surname = SURNAMES[_bucket(rng.random())]
    pool = GIVEN_MALE if male else GIVEN_FEMALE
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < TWO_CHAR_GIVEN else "")
    return surname + given


def _bucket(u: float) -> int:
    lo, hi = 0, len(SURNAME_BOUNDS) - 1
    while lo < hi:  # the last bound <= u, as width_bucket() does
        mid = (lo + hi + 1) // 2
        if SURNAME_BOUNDS[mid] <= u:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _marker() -> int | None:
    return Counter.objects.filter(key=MARKER_KEY).values_list("value", flat=True).first()


def holds_other_data() -> bool:
    """True when the database has companies or staff that the benchmark did not create."""
    return (
        Company.objects.exclude(name=BENCH_COMPANY).exists()
        or User.objects.exclude(username__startswith=USERNAME_PREFIX, company__name=BENCH_COMPANY).exists()
    )


def ensure_dataset(customers: int, *, force: bool = False, regenerate: bool = False, write: Write = print) -> Dataset:
    """Reuse the generated dataset of this size, or (re)generate it."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise BenchError("The database has unapplied migrations: run `manage.py migrate` against it first.")
    other = holds_other_data()
    if other and not force:
        raise BenchError(
            "This database holds data the benchmark did not create (other companies or staff). "
            "Point DATABASE_URL at a scratch database, or pass --force to add the benchmark company beside it."
        )
    company = Company.objects.filter(name=BENCH_COMPANY).first()
    if company is not None and not regenerate and _marker() == customers:
        actual = Customer.objects.filter(company=company).count()
        if actual == customers:
            write(f"Reusing the generated dataset of {customers:,} customers (marker {MARKER_KEY}).")
            return _load_dataset(company, customers)
        write(f"The dataset holds {actual:,} customers, not {customers:,}: regenerating.")
    started = time.perf_counter()
    with transaction.atomic():
        if company is not None:
            write("Removing the previous benchmark customers…")
            _clear_customers(company, truncate=not other)
        else:
            company = _create_world()
        Counter.objects.filter(key=MARKER_KEY).delete()
        write(f"Generating {customers:,} customers ({connection.vendor})…")
        if connection.vendor == "postgresql":
            _generate_postgresql(company, customers, write)
        else:
            _generate_orm(company, customers)
        Counter.objects.update_or_create(key=f"customer:{company.pk}", defaults={"value": customers})
        Counter.objects.update_or_create(key=MARKER_KEY, defaults={"value": customers})
    _analyze(write)
    dataset = _load_dataset(company, customers)
    dataset.generated_in_s = time.perf_counter() - started
    write(f"Generated in {dataset.generated_in_s:.1f} s.")
    return dataset


def _load_dataset(company: Company, customers: int) -> Dataset:
    projects = list(Project.objects.filter(company=company).order_by("id").values_list("id", flat=True))
    return Dataset(
        company=company,
        customers=customers,
        consultant=User.objects.get(username=f"{USERNAME_PREFIX}gw0001"),
        director=User.objects.get(username=f"{USERNAME_PREFIX}director"),
        project_ids=projects,
        director_project_ids=projects[:DIRECTOR_PROJECTS],
    )


def _create_world() -> Company:
    """The company, its projects, 20 sales teams of 10 consultants, 20 leaders and a director."""
    rng = random.Random(SEED)
    company = Company.objects.create(name=BENCH_COMPANY, sms_signature=BENCH_COMPANY)
    sales = Department.objects.create(company=company, name="销售部")
    service = Department.objects.create(company=company, name="客户服务中心")
    projects = [
        Project.objects.create(company=company, name=name, code=code, city="郑州", address=f"郑州市金水区{name}路1号")
        for name, code in PROJECTS
    ]
    Tag.objects.bulk_create([Tag(company=company, name=n) for n in TAG_NAMES])
    groups = {role: Group.objects.get(name=group_name(role)) for role in Role}
    users: list[User] = []
    memberships: list[tuple[str, Role, list[Project]]] = []
    number = 0
    for p, project in enumerate(projects):
        for t in range(TEAMS_PER_PROJECT):
            team = Team.objects.create(department=sales, name=f"销售{p * TEAMS_PER_PROJECT + t + 1}组")
            for _ in range(CONSULTANTS_PER_TEAM):
                number += 1
                username = f"{USERNAME_PREFIX}gw{number:04d}"
                users.append(_staff(username, rng, company=company, team=team, department=sales))
                memberships.append((username, Role.CONSULTANT, [project]))
            leader = f"{USERNAME_PREFIX}zz{p * TEAMS_PER_PROJECT + t + 1:02d}"
            users.append(_staff(leader, rng, company=company, team=team, department=sales))
            memberships.append((leader, Role.TEAM_LEADER, [project]))
    users.append(_staff(f"{USERNAME_PREFIX}director", rng, company=company, team=None, department=service))
    memberships.append((f"{USERNAME_PREFIX}director", Role.DIRECTOR, projects[:DIRECTOR_PROJECTS]))
    User.objects.bulk_create(users)
    by_name = {u.username: u for u in User.objects.filter(company=company)}
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=by_name[u].pk, group_id=groups[role].pk) for u, role, _ in memberships]
    )
    User.projects.through.objects.bulk_create(
        [User.projects.through(user_id=by_name[u].pk, project_id=p.pk) for u, _, ps in memberships for p in ps]
    )
    for team in Team.objects.filter(department=sales):
        Team.objects.filter(pk=team.pk).update(leader=team.members.filter(username__contains="_zz").first())
    return company


def _staff(username: str, rng: random.Random, *, company: Company, team: Team | None, department: Department) -> User:
    user = User(
        username=username,
        company=company,
        team=team,
        department=department,
        display_name=bench_name(rng, male=rng.random() < 0.5),
    )
    user.set_unusable_password()  # the benchmark logs in with force_login
    return user


def db_table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _clear_customers(company: Company, *, truncate: bool) -> None:
    """Remove the benchmark's customers, deals, events and units (not its staff and projects)."""
    with connection.cursor() as cursor:
        if truncate and connection.vendor == "postgresql":
            # Only benchmark data is in this database, so TRUNCATE (instant, no dead rows) is safe;
            # CASCADE also empties other apps' tables pointing at these rows (such as the care
            # benchmark's outbox history), all of it derived from the dataset being replaced.
            tables = ", ".join(db_table(m) for m in (Customer, Deal, TimelineEvent, Unit, Building))
            cursor.execute(f"TRUNCATE {tables} CASCADE")
            return
        own = f"SELECT id FROM {db_table(Customer)} WHERE company_id = %s"
        for model in (TimelineEvent, FamilyMember, Customer.tags.through, CustomerProfile, Deal):
            cursor.execute(f"DELETE FROM {db_table(model)} WHERE customer_id IN ({own})", [company.pk])
        cursor.execute(f"DELETE FROM {db_table(Customer)} WHERE company_id = %s", [company.pk])
        projects = f"SELECT id FROM {db_table(Project)} WHERE company_id = %s"
        cursor.execute(f"DELETE FROM {db_table(Unit)} WHERE project_id IN ({projects})", [company.pk])
        cursor.execute(f"DELETE FROM {db_table(Building)} WHERE project_id IN ({projects})", [company.pk])


def _world_ids(company: Company) -> dict[str, Any]:
    consultants = list(
        User.objects.filter(company=company, username__regex=rf"^{USERNAME_PREFIX}gw\d+$")
        .order_by("username")
        .values_list("id", "team__name")
    )
    return {
        "owners": [pk for pk, _ in consultants],
        "projects": list(Project.objects.filter(company=company).order_by("id").values_list("id", flat=True)),
        "tags": list(Tag.objects.filter(company=company).order_by("id").values_list("id", flat=True)),
    }


def _units_per_project(customers: int) -> int:
    # Every buyer needs a unit of their project; leave headroom for the random spread.
    return math.ceil(customers * BUYER_SHARE / len(PROJECTS) * 1.15) + 50


# --------------------------------------------------------------- PostgreSQL generator

_BULK_TABLES = (Customer, CustomerProfile, FamilyMember, Deal, TimelineEvent, Unit)


def _insert_select(model: type[models.Model], exprs: dict[str, str], tail: str, params: dict[str, Any]) -> str:
    """INSERT INTO model (every column) SELECT … tail: columns not in ``exprs`` get the field default.

    Filling the rest from the model keeps the generator working when other apps add
    columns with defaults.
    """
    columns, values = [], []
    for f in model._meta.concrete_fields:
        if f.column in exprs:
            expr = exprs[f.column]
        elif f.primary_key:
            continue
        elif f.null:
            expr = "NULL"
        else:
            key = f"default_{model._meta.model_name}_{f.column}"
            params[key] = f.get_db_prep_save(f.get_default(), connection)
            expr = f"%({key})s"
        columns.append(connection.ops.quote_name(str(f.column)))
        values.append(expr)
    return f"INSERT INTO {db_table(model)} ({', '.join(columns)}) SELECT {', '.join(values)} {tail}"


def _generate_postgresql(company: Company, n: int, write: Write) -> None:
    """Set-based generation: a handful of INSERT … SELECT statements, indexes built at the end."""
    ids = _world_ids(company)
    now = timezone.now()
    params: dict[str, Any] = {
        "company": company.pk,
        "n": n,
        "now": now,
        "today": timezone.localdate(now),
        "start": now - timedelta(days=3 * 365),
        "step": 3 * 365 * 86400 / n,
        "owners": ids["owners"],
        "n_owners": len(ids["owners"]),
        "pp": PER_PROJECT,
        "projects": ids["projects"],
        "tags": ids["tags"],
        "surnames": list(SURNAMES),
        "bounds": list(SURNAME_BOUNDS),
        "gm": list(GIVEN_MALE),
        "n_gm": len(GIVEN_MALE),
        "gf": list(GIVEN_FEMALE),
        "n_gf": len(GIVEN_FEMALE),
        "two": TWO_CHAR_GIVEN,
        "prefixes": list(MOBILE_PREFIXES),
        "n_prefixes": len(MOBILE_PREFIXES),
        "prefixes2": list(MOBILE2_PREFIXES),
        "n_prefixes2": len(MOBILE2_PREFIXES),
        "channels": list(Channel.values),
        "channel_labels": [CHANNEL_LABELS[v] for v in Channel.values],
        "notes": list(CUSTOMER_NOTES),
        "follow_ups": list(FOLLOW_UPS),
        "addresses": list(ADDRESSES),
        "employers": list(EMPLOYERS),
        "natives": list(NATIVE_PLACES),
        "jobs": list(JOB_TITLES),
        "buyers": BUYER_SHARE,
        "units_per_building": UNITS_PER_BUILDING,
        "buildings": math.ceil(_units_per_project(n) / UNITS_PER_BUILDING),
        "layouts": [name for name, _ in LAYOUTS],
        "areas": [area for _, area in LAYOUTS],
    }
    surname = "(%(surnames)s::text[])[width_bucket({u}, %(bounds)s::float8[])]"
    given = (
        "CASE WHEN {male} THEN (%(gm)s::text[])[1 + floor({u} * %(n_gm)s)::int]"
        " ELSE (%(gf)s::text[])[1 + floor({u} * %(n_gf)s)::int] END"
    )
    pick = "(%({array})s::text[])[1 + floor(random() * cardinality(%({array})s::text[]))::int]"

    def timed(label: str, sql: str) -> None:
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.rowcount
        write(f"  {label}: {rows:,} rows in {time.perf_counter() - t0:.1f} s")

    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.20261123)")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL max_parallel_maintenance_workers = 1")  # two cores, shared
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cursor.fetchone()[0]:
            # The rows are consistent by construction: skip millions of deferred foreign-key
            # checks (one trigger event per row and key, all fired at COMMIT).
            cursor.execute("SET LOCAL session_replication_role = replica")
        indexes = _drop_secondary_indexes(cursor)

    timed(
        "buildings",
        f"INSERT INTO {db_table(Building)} (project_id, name, floors)"
        " SELECT p, b || '号楼', 34 FROM unnest(%(projects)s::bigint[]) AS p, generate_series(1, %(buildings)s) AS b",
    )
    unit_exprs = {
        "project_id": "b.project_id",
        "building_id": "b.id",
        "number": "f || lpad(r::text, 2, '0')",
        "layout": "(%(layouts)s::text[])[1 + mod(r, 3)]",
        "area": "(%(areas)s::int[])[1 + mod(r, 3)]",
        "price": "round((%(areas)s::int[])[1 + mod(r, 3)] * (11000 + random() * 5000))",
        "status": "'available'",
    }
    timed(
        "units",
        _insert_select(
            Unit,
            unit_exprs,
            f"FROM {db_table(Building)} b CROSS JOIN generate_series(2, 34) AS f CROSS JOIN generate_series(1, 4) AS r"
            " WHERE b.project_id = ANY(%(projects)s::bigint[])",
            params,
        ),
    )

    # Customers: three nested SELECTs. OFFSET 0 keeps each level from being flattened into
    # the next, so every random() is drawn once per row and reused consistently.
    draws = ", ".join(
        f"random() AS r_{name}"
        for name in (
            *("gender", "sur", "g1", "g2", "g3", "stage", "buy", "grade", "vip", "adv"),
            *("channel", "bday", "lunar", "consent", "opt", "arch", "m2", "note", "t", "upd"),
        )
    )
    level1 = (
        f"SELECT g.i, {draws}, (1 + floor(random() * %(n_owners)s))::int AS k"
        " FROM generate_series(1::bigint, %(n)s::bigint) AS g(i) OFFSET 0"
    )
    level2 = (
        "SELECT s1.*, s1.r_gender < 0.5 AS male, s1.r_arch < 0.03 AS archived,"
        " s1.r_arch >= 0.03 AND s1.r_buy < %(buyers)s AS buyer,"
        " (s1.k - 1) / %(pp)s AS pidx, s1.r_lunar < 0.1 AS lunar,"
        " %(start)s::timestamptz + make_interval(secs => (s1.i - 1 + s1.r_t) * %(step)s::float8) AS ts,"
        f" DATE '1960-01-01' + floor(s1.r_bday * 14600)::int AS bday FROM ({level1}) s1 OFFSET 0"
    )
    customer_exprs = {
        "company_id": "%(company)s",
        "number": "'KH' || lpad(s.i::text, 8, '0')",
        "name": surname.format(u="s.r_sur")
        + " || "
        + given.format(male="s.male", u="s.r_g1")
        + " || CASE WHEN s.r_g2 < %(two)s THEN "
        + given.format(male="s.male", u="s.r_g3")
        + " ELSE '' END",
        "gender": "CASE WHEN s.male THEN 'M' ELSE 'F' END",
        # The same numbers as crm.demo.foundation.demo_mobile(i): distinct, valid mainland mobiles.
        "mobile": "(%(prefixes)s::text[])[1 + mod(s.i, %(n_prefixes)s)] || lpad(mod(s.i * 7919, 100000000)::text, 8, '0')",
        "mobile2": "CASE WHEN s.r_m2 < 0.1 THEN (%(prefixes2)s::text[])[1 + mod(s.i, %(n_prefixes2)s)]"
        " || lpad(mod(s.i * 104729, 100000000)::text, 8, '0') ELSE '' END",
        "stage": "CASE WHEN s.buyer THEN 'owner' WHEN s.r_stage < 0.55 THEN 'interested' ELSE 'prospect' END",
        "grade": "CASE WHEN s.r_grade < 0.15 THEN 'A' WHEN s.r_grade < 0.5 THEN 'B' ELSE 'C' END",
        "is_vip": "s.r_vip < 0.05",
        "owner_id": "(%(owners)s::bigint[])[s.k]",
        # A VIP's advisor is another consultant of the same project.
        "advisor_id": "CASE WHEN s.r_vip < 0.05 THEN (%(owners)s::bigint[])[s.pidx * %(pp)s + 1"
        " + mod(s.k - s.pidx * %(pp)s + floor(s.r_adv * (%(pp)s - 1))::int, %(pp)s)] END",
        "project_id": "(%(projects)s::bigint[])[1 + s.pidx]",
        "source_channel": "(%(channels)s::text[])[1 + floor(s.r_channel * cardinality(%(channels)s::text[]))::int]",
        "notes": "CASE WHEN s.r_note < 0.3 THEN (%(notes)s::text[])[1 + floor(s.r_note / 0.3"
        " * cardinality(%(notes)s::text[]))::int] ELSE '' END",
        "birthday_on": "s.bday",
        "birthday_is_lunar": "s.lunar",
        "lunar_month": "CASE WHEN s.lunar THEN extract(month FROM s.bday)::int END",
        "lunar_day": "CASE WHEN s.lunar THEN least(extract(day FROM s.bday)::int, 29) END",
        "lunar_is_leap": "false",
        "birth_mmdd": "CASE WHEN s.lunar THEN '' ELSE to_char(s.bday, 'MMDD') END",
        "consent_notification": "true",
        "consent_care": "s.r_consent < 0.8",
        "consent_marketing": "s.r_consent < 0.4",
        "consent_source": "CASE WHEN s.r_consent < 0.8 THEN '售楼处登记表' ELSE '' END",
        "consent_at": "CASE WHEN s.r_consent < 0.8 THEN s.ts END",
        "has_opted_out": "s.r_opt < 0.02",
        "opted_out_at": "CASE WHEN s.r_opt < 0.02 THEN least(%(now)s::timestamptz, s.ts + interval '30 days') END",
        "is_archived": "s.archived",
        "archived_reason": "CASE WHEN NOT s.archived THEN '' WHEN s.r_opt < 0.5 THEN 'wrong_number' ELSE 'lost' END",
        "archived_at": "CASE WHEN s.archived THEN least(%(now)s::timestamptz, s.ts + interval '60 days') END",
        "created_by_id": "(%(owners)s::bigint[])[s.k]",
        "created_at": "s.ts",
        "updated_at": "least(%(now)s::timestamptz, s.ts + s.r_upd * interval '90 days')",
    }
    timed("customers", _insert_select(Customer, customer_exprs, f"FROM ({level2}) s", params))
    own = f"FROM {db_table(Customer)} c WHERE c.company_id = %(company)s"
    profile_exprs = {
        "customer_id": "c.id",
        "address": f"CASE WHEN random() < 0.3 THEN {pick.format(array='addresses')} || (1 + floor(random() * 300))::int || '号' ELSE '' END",
        "employer": f"CASE WHEN random() < 0.25 THEN {pick.format(array='employers')} ELSE '' END",
        "native_place": f"CASE WHEN random() < 0.2 THEN {pick.format(array='natives')} ELSE '' END",
        "marital_status": "CASE WHEN random() < 0.3 THEN CASE WHEN random() < 0.8 THEN '已婚' ELSE '未婚' END ELSE '' END",
        "job_title": f"CASE WHEN random() < 0.2 THEN {pick.format(array='jobs')} ELSE '' END",
        "updated_at": "c.updated_at",
    }
    timed("profiles", _insert_select(CustomerProfile, profile_exprs, own, params))
    timed(
        "tags",
        f"INSERT INTO {db_table(Customer.tags.through)} (customer_id, tag_id)"
        f" SELECT c.id, (%(tags)s::bigint[])[1 + floor(random() * cardinality(%(tags)s::bigint[]))::int] {own}"
        " AND random() < 0.4",
    )
    family_exprs = {
        "customer_id": "c.id",
        "relation": "'spouse'",
        "name": surname.format(u="random()")
        + " || "
        + given.format(male="c.gender = 'F'", u="random()")
        + " || "
        + given.format(male="c.gender = 'F'", u="random()"),
        "gender": "CASE WHEN c.gender = 'F' THEN 'M' ELSE 'F' END",
    }
    timed(
        "family", _insert_select(FamilyMember, family_exprs, f"{own} AND c.stage = 'owner' AND random() < 0.5", params)
    )

    # Statistics first: on a new database the planner knows nothing of the rows just
    # inserted, guesses a few, and joins buyers to units by nested loop (hours at 1M).
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {db_table(Customer)}, {db_table(Unit)}")

    # Deals: the n-th buyer of a project gets the n-th unit of that project.
    deal_source = (
        f"FROM (SELECT b.id AS customer_id, b.project_id, b.owner_id, u.id AS unit_id, u.price,"
        # Subscribed within 90 days of registering and before today: the draw is bounded by
        # the days left (clamping instead piled every recent buyer onto yesterday).
        " least(%(today)s::date - 1, b.created_on + floor(random()"
        " * least(90, greatest(1, %(today)s::date - b.created_on)))::int) AS sub,"
        " floor(random() * 7)::int AS step, random() AS r_kind"
        f" FROM (SELECT id, project_id, owner_id, (created_at AT TIME ZONE 'Asia/Shanghai')::date AS created_on,"
        " row_number() OVER (PARTITION BY project_id ORDER BY id) AS rn"
        f" {own.replace('c.', '')} AND stage = 'owner') b"
        f" JOIN (SELECT id, project_id, price, row_number() OVER (PARTITION BY project_id ORDER BY id) AS rn"
        f" FROM {db_table(Unit)} WHERE project_id = ANY(%(projects)s::bigint[])) u"
        " ON u.project_id = b.project_id AND u.rn = b.rn OFFSET 0) x"
    )
    on = "CASE WHEN x.step >= {step} AND x.sub + {days} <= %(today)s::date THEN x.sub + {days} END"
    deal_exprs = {
        "company_id": "%(company)s",
        "customer_id": "x.customer_id",
        "project_id": "x.project_id",
        "unit_id": "x.unit_id",
        "consultant_id": "x.owner_id",
        "price": "x.price",
        "status": "'active'",
        "subscribed_on": "x.sub",
        "contracted_on": on.format(step=1, days=7),
        "full_payment_on": on.format(step=2, days=37),
        "filed_on": on.format(step=3, days=30),
        "delivery_planned_on": "x.sub + 365",
        "delivered_on": on.format(step=4, days=365),
        "moved_in_on": on.format(step=5, days=380),
        "move_in_kind": "CASE WHEN x.step >= 5 AND x.sub + 380 <= %(today)s::date"
        " THEN CASE WHEN x.r_kind < 0.7 THEN 'batch' ELSE 'individual' END ELSE '' END",
        "created_at": "(x.sub + time '10:00') AT TIME ZONE 'Asia/Shanghai'",
        "updated_at": "(x.sub + time '10:00') AT TIME ZONE 'Asia/Shanghai'",
    }
    timed("deals", _insert_select(Deal, deal_exprs, deal_source, params))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {db_table(Deal)}, {db_table(Building)}, {db_table(Project)}, {db_table(User)}")
    timed(
        "unit status",
        f"UPDATE {db_table(Unit)} u SET status = CASE WHEN d.delivered_on IS NOT NULL THEN 'delivered'"
        " WHEN d.contracted_on IS NOT NULL THEN 'sold' ELSE 'reserved' END"
        f" FROM {db_table(Deal)} d WHERE d.unit_id = u.id AND d.company_id = %(company)s",
    )

    # Timeline: "created" for everyone; for buyers the deal, its milestones and follow-ups.
    event = {"data": "'{}'::jsonb", "source_type": "''"}
    timed(
        "events: created",
        _insert_select(
            TimelineEvent,
            {
                **event,
                "customer_id": "c.id",
                "kind": "'created'",
                "occurred_at": "c.created_at",
                "actor_id": "c.owner_id",
                "summary": "coalesce(nullif(u.display_name, ''), u.username) || ' 录入客户（'"
                " || (%(channel_labels)s::text[])[array_position(%(channels)s::text[], c.source_channel::text)] || '）'",
            },
            own.replace("WHERE", f"JOIN {db_table(User)} u ON u.id = c.owner_id WHERE"),
            params,
        ),
    )
    deals = (
        f"FROM {db_table(Deal)} d JOIN {db_table(Unit)} un ON un.id = d.unit_id"
        f" JOIN {db_table(Building)} b ON b.id = un.building_id JOIN {db_table(Project)} p ON p.id = d.project_id"
        " WHERE d.company_id = %(company)s"
    )
    timed(
        "events: deals",
        _insert_select(
            TimelineEvent,
            {
                **event,
                "customer_id": "d.customer_id",
                "kind": "'deal'",
                "occurred_at": "(d.subscribed_on + time '10:00') AT TIME ZONE 'Asia/Shanghai'",
                "actor_id": "d.consultant_id",
                "summary": "'认购 ' || p.name || ' ' || b.name || '-' || un.number",
                "source_type": "'customers.deal'",
                "source_id": "d.id",
            },
            deals,
            params,
        ),
    )
    timed(
        "events: milestones",
        _insert_select(
            TimelineEvent,
            {
                **event,
                "customer_id": "d.customer_id",
                "kind": "'milestone'",
                "occurred_at": "(m.on_date + time '15:00') AT TIME ZONE 'Asia/Shanghai'",
                "actor_id": "d.consultant_id",
                "summary": "b.name || '-' || un.number || ' ' || m.label",
                "source_type": "'customers.deal'",
                "source_id": "d.id",
            },
            deals.replace(
                " WHERE",
                " CROSS JOIN LATERAL (VALUES ('签约', d.contracted_on), ('全款到账', d.full_payment_on),"
                " ('合同备案', d.filed_on), ('交房', d.delivered_on), ('入住', d.moved_in_on)) AS m(label, on_date)"
                " WHERE m.on_date IS NOT NULL AND",
            ),
            params,
        ),
    )
    timed(
        "events: follow-ups",
        _insert_select(
            TimelineEvent,
            {
                **event,
                "customer_id": "x.id",
                "kind": "'note'",
                "occurred_at": "x.created_at + random() * (%(now)s::timestamptz - x.created_at)",
                "actor_id": "x.owner_id",
                "summary": pick.format(array="follow_ups"),
            },
            "FROM (SELECT c.id, c.owner_id, c.created_at, 1 + floor(power(random(), 3) * 30)::int AS n"
            f" {own} AND (c.stage = 'owner' OR (c.stage = 'interested' AND random() < 0.1)) OFFSET 0) x"
            " CROSS JOIN LATERAL generate_series(1, x.n) AS j",
            params,
        ),
    )
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in indexes:
            cursor.execute(sql)
        # SET LOCAL lasts to the end of the outermost transaction, which under the test
        # suite is the test's: restore the foreign-key triggers now.
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    write(f"  indexes: {len(indexes)} rebuilt in {time.perf_counter() - t0:.1f} s")


def _drop_secondary_indexes(cursor: Any) -> list[str]:
    """Drop the indexes not backing a constraint on the bulk-loaded tables; return their definitions.

    Building an index once over the loaded rows is far cheaper than maintaining it row by
    row (the trigram GIN indexes most of all). DDL is transactional in PostgreSQL: if
    generation fails, the indexes come back with the rollback.
    """
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " JOIN pg_class t ON t.oid = i.indrelid"
        " WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [[m._meta.db_table for m in _BULK_TABLES]],
    )
    found = cursor.fetchall()
    for name, _ in found:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _, definition in found]


def _analyze(write: Write) -> None:
    bulk: list[type[models.Model]] = [*_BULK_TABLES, Customer.tags.through, Building]
    # The small tables matter too: without statistics on accounts_user the planner guesses
    # 40 rows and picks nested loops over it.
    small: list[type[models.Model]] = [
        Company,
        Department,
        Team,
        User,
        User.groups.through,
        User.projects.through,
        Project,
        Tag,
        Counter,
    ]
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # VACUUM sets the visibility map (index-only scans) as autovacuum eventually
            # would; it cannot run inside a transaction (e.g. under the test suite).
            verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            cursor.execute(f"{verb} {', '.join(db_table(m) for m in bulk)}")
            cursor.execute(f"ANALYZE {', '.join(db_table(m) for m in small)}")
        else:
            verb = "ANALYZE"
            cursor.execute("ANALYZE")
    write(f"  {verb}: {time.perf_counter() - t0:.1f} s")


# -------------------------------------------------------------------- ORM generator


def _generate_orm(company: Company, n: int) -> None:
    """The same distributions through bulk_create (SQLite and other databases)."""
    rng = random.Random(SEED)
    ids = _world_ids(company)
    owners, projects, tags = ids["owners"], ids["projects"], ids["tags"]
    now = timezone.now()
    today = timezone.localdate(now)
    start = now - timedelta(days=3 * 365)
    step = timedelta(days=3 * 365) / n
    channels = list(Channel.values)
    customers: list[Customer] = []
    created: list[datetime] = []
    for i in range(1, n + 1):
        k = rng.randrange(len(owners))
        pidx = k // PER_PROJECT
        male = rng.random() < 0.5
        archived = rng.random() < 0.03
        buyer = not archived and rng.random() < BUYER_SHARE
        ts = start + step * (i - 1 + rng.random())
        bday = date(1960, 1, 1) + timedelta(days=rng.randrange(14600))
        care = rng.random() < 0.8
        vip = rng.random() < 0.05
        advisor = owners[
            pidx * PER_PROJECT + (k - pidx * PER_PROJECT + 1 + rng.randrange(PER_PROJECT - 1)) % PER_PROJECT
        ]
        mobile2 = ""
        if rng.random() < 0.1:
            mobile2 = f"{MOBILE2_PREFIXES[i % len(MOBILE2_PREFIXES)]}{(i * 104729) % 100_000_000:08d}"
        customers.append(
            Customer(
                company=company,
                number=f"KH{i:08d}",
                name=bench_name(rng, male=male),
                gender="M" if male else "F",
                mobile=demo_mobile(i),
                mobile2=mobile2,
                stage=Stage.OWNER if buyer else rng.choice([Stage.PROSPECT, Stage.INTERESTED]),
                grade=rng.choice("ABBCCC"),
                is_vip=vip,
                owner_id=owners[k],
                advisor_id=advisor if vip else None,
                project_id=projects[pidx],
                source_channel=rng.choice(channels),
                notes=rng.choice(CUSTOMER_NOTES) if rng.random() < 0.3 else "",
                birthday_on=bday,
                birth_mmdd=bday.strftime("%m%d"),
                consent_care=care,
                consent_marketing=care and rng.random() < 0.5,
                consent_source="售楼处登记表" if care else "",
                consent_at=ts if care else None,
                is_archived=archived,
                archived_reason="lost" if archived else "",
                archived_at=ts if archived else None,
                created_by_id=owners[k],
            )
        )
        created.append(ts)
    Customer.objects.bulk_create(customers, batch_size=2000)
    saved = list(Customer.objects.filter(company=company).order_by("id"))
    for customer, ts in zip(saved, created, strict=True):
        customer.created_at = ts  # auto_now_add ignores the value given to bulk_create
        customer.updated_at = ts
    Customer.objects.bulk_update(saved, ["created_at", "updated_at"], batch_size=2000)
    CustomerProfile.objects.bulk_create([CustomerProfile(customer=c) for c in saved], batch_size=2000)
    Customer.tags.through.objects.bulk_create(
        [Customer.tags.through(customer_id=c.pk, tag_id=rng.choice(tags)) for c in saved if rng.random() < 0.4],
        batch_size=2000,
    )
    buyers = [c for c in saved if c.stage == Stage.OWNER]
    units: dict[int, list[Unit]] = {}
    for project_id in projects:
        needed = sum(1 for c in buyers if c.project_id == project_id)
        buildings = [
            Building.objects.create(project_id=project_id, name=f"{b}号楼", floors=34)
            for b in range(1, needed // UNITS_PER_BUILDING + 2)
        ]
        batch = [
            Unit(
                project_id=project_id,
                building=building,
                number=f"{floor}{room:02d}",
                layout=LAYOUTS[room % 3][0],
                area=LAYOUTS[room % 3][1],
                price=LAYOUTS[room % 3][1] * rng.randint(11_000, 16_000),
                status=Unit.Status.RESERVED,
            )
            for building in buildings
            for floor in range(2, 35)
            for room in range(1, 5)
        ]
        Unit.objects.bulk_create(batch, batch_size=2000)
        units[project_id] = list(Unit.objects.filter(project_id=project_id).select_related("building").order_by("id"))
    deals, events, family = [], [], []
    labels = dict(User.objects.filter(pk__in=owners).values_list("pk", "display_name"))
    for c, ts in zip(saved, created, strict=True):
        events.append(
            TimelineEvent(
                customer=c,
                kind=TimelineEvent.Kind.CREATED,
                occurred_at=ts,
                actor_id=c.owner_id,
                summary=f"{labels[c.owner_id]} 录入客户（{CHANNEL_LABELS[c.source_channel]}）",
            )
        )
    for c in buyers:
        unit = units[c.project_id].pop(0)
        created_on = timezone.localdate(c.created_at)
        span = min(90, max(1, (today - created_on).days))  # as the SQL generator: no pile on yesterday
        sub = min(today - timedelta(days=1), created_on + timedelta(days=rng.randrange(span)))
        stage = rng.randrange(7)
        contracted = sub + timedelta(days=7) if stage >= 1 and sub + timedelta(days=7) <= today else None
        deals.append(
            Deal(
                company=company,
                customer=c,
                project_id=c.project_id,
                unit=unit,
                consultant_id=c.owner_id,
                price=unit.price,
                subscribed_on=sub,
                contracted_on=contracted,
                delivery_planned_on=sub + timedelta(days=365),
            )
        )
        at = timezone.make_aware(datetime.combine(sub, datetime.min.time())) + timedelta(hours=10)
        events.append(
            TimelineEvent(
                customer=c,
                kind=TimelineEvent.Kind.DEAL,
                occurred_at=at,
                actor_id=c.owner_id,
                summary=f"认购 {unit.building.name}-{unit.number}",
            )
        )
        for _ in range(1 + int(rng.random() ** 3 * 30)):
            events.append(
                TimelineEvent(
                    customer=c,
                    kind=TimelineEvent.Kind.NOTE,
                    occurred_at=c.created_at + (now - c.created_at) * rng.random(),
                    actor_id=c.owner_id,
                    summary=rng.choice(FOLLOW_UPS),
                )
            )
        if rng.random() < 0.5:
            family.append(
                FamilyMember(
                    customer=c,
                    relation=FamilyMember.Relation.SPOUSE,
                    name=bench_name(rng, male=c.gender == "F"),
                    gender="M" if c.gender == "F" else "F",
                )
            )
    Deal.objects.bulk_create(deals, batch_size=2000)
    TimelineEvent.objects.bulk_create(events, batch_size=2000)
    FamilyMember.objects.bulk_create(family, batch_size=2000)
