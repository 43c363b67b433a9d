"""The customers benchmark (`python -m bench customers`): a generated dataset and the customer pages timed.

1. ``ensure_dataset`` fills the database with a company of N generated customers (and
   its projects, units, 200 consultants in 20 teams, deals and timeline events). On
   PostgreSQL this is set-based SQL (``INSERT … SELECT FROM generate_series``) with the
   secondary indexes rebuilt afterwards; elsewhere ``bulk_create``. A marker row in
   ``core.Counter`` records the size, so a rerun at the same size reuses the data.
2. Each ``Scenario`` is a real page driven through ``django.test.Client`` (the whole
   middleware stack, sessions and all) and its *floor*: the same rows fetched by one
   hand-written SQL statement per table through a database cursor and rendered by a
   minimal view behind the same middleware. Both run interleaved in the same loop, so
   load from other processes on the machine affects them alike.
3. ``measure`` warms up, times and counts queries; ``check_results`` walks every page of
   each search and compares the customers listed with raw SQL; ``time_import`` times
   crm.customers.importing on 100,000 new customers and rolls them back. The command
   line (bench/cli.py) prints the table with the targets.

The URLconf of this module (the site's plus the floor view) is installed only while the
benchmark runs. ``ensure_dataset`` is also the dataset of ``python -m bench care``.
Figures and analysis: docs/performance.md.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import inspect
import logging
import math
import os
import platform
import random
import re
import statistics
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.http import HttpRequest, HttpResponse
from django.template import Context, Engine
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import path
from django.utils import timezone

from bench import BenchError
from config.urls import urlpatterns as site_urlpatterns
from crm.accounts.models import Company, Department, Team, User
from crm.accounts.roles import Role, group_name
from crm.core.demo import MOBILE_PREFIXES, demo_mobile
from crm.core.models import Counter
from crm.customers.models import (
    Channel,
    ConsentRecord,
    Customer,
    CustomerProfile,
    Deal,
    FamilyMember,
    Stage,
    Tag,
    TimelineEvent,
)
from crm.customers.views import CappedPaginator
from crm.lib.mobile import mask_mobile
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


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _clear_customers(company: Company, *, truncate: bool) -> None:
    """Remove the benchmark's customers, deals, events and units (not its staff and projects)."""
    with connection.cursor() as cursor:
        if truncate and connection.vendor == "postgresql":
            # Only benchmark data is in this database, so TRUNCATE (instant, no dead rows) is safe;
            # CASCADE also empties other apps' tables pointing at these rows (such as the care
            # benchmark's outbox history), all of it derived from the dataset being replaced.
            tables = ", ".join(_table(m) for m in (Customer, Deal, TimelineEvent, Unit, Building))
            cursor.execute(f"TRUNCATE {tables} CASCADE")
            return
        own = f"SELECT id FROM {_table(Customer)} WHERE company_id = %s"
        for model in (TimelineEvent, FamilyMember, Customer.tags.through, CustomerProfile, Deal):
            cursor.execute(f"DELETE FROM {_table(model)} WHERE customer_id IN ({own})", [company.pk])
        cursor.execute(f"DELETE FROM {_table(Customer)} WHERE company_id = %s", [company.pk])
        projects = f"SELECT id FROM {_table(Project)} WHERE company_id = %s"
        cursor.execute(f"DELETE FROM {_table(Unit)} WHERE project_id IN ({projects})", [company.pk])
        cursor.execute(f"DELETE FROM {_table(Building)} WHERE project_id IN ({projects})", [company.pk])


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
    return f"INSERT INTO {_table(model)} ({', '.join(columns)}) SELECT {', '.join(values)} {tail}"


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
        f"INSERT INTO {_table(Building)} (project_id, name, floors)"
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
            f"FROM {_table(Building)} b CROSS JOIN generate_series(2, 34) AS f CROSS JOIN generate_series(1, 4) AS r"
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
        # The same numbers as crm.core.demo.demo_mobile(i): distinct, valid mainland mobiles.
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
    own = f"FROM {_table(Customer)} c WHERE c.company_id = %(company)s"
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
        f"INSERT INTO {_table(Customer.tags.through)} (customer_id, tag_id)"
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
        cursor.execute(f"ANALYZE {_table(Customer)}, {_table(Unit)}")

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
        f" FROM {_table(Unit)} WHERE project_id = ANY(%(projects)s::bigint[])) u"
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
        cursor.execute(f"ANALYZE {_table(Deal)}, {_table(Building)}, {_table(Project)}, {_table(User)}")
    timed(
        "unit status",
        f"UPDATE {_table(Unit)} u SET status = CASE WHEN d.delivered_on IS NOT NULL THEN 'delivered'"
        " WHEN d.contracted_on IS NOT NULL THEN 'sold' ELSE 'reserved' END"
        f" FROM {_table(Deal)} d WHERE d.unit_id = u.id AND d.company_id = %(company)s",
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
            own.replace("WHERE", f"JOIN {_table(User)} u ON u.id = c.owner_id WHERE"),
            params,
        ),
    )
    deals = (
        f"FROM {_table(Deal)} d JOIN {_table(Unit)} un ON un.id = d.unit_id"
        f" JOIN {_table(Building)} b ON b.id = un.building_id JOIN {_table(Project)} p ON p.id = d.project_id"
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
            cursor.execute(f"{verb} {', '.join(_table(m) for m in bulk)}")
            cursor.execute(f"ANALYZE {', '.join(_table(m) for m in small)}")
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


# ------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Target:
    p95_ms: float
    max_queries: int | None = None

    def __str__(self) -> str:
        text = f"p95 ≤ {self.p95_ms:g} ms"
        return f"{text}, ≤ {self.max_queries} queries" if self.max_queries is not None else text


@dataclass
class Floor:
    """The page's equivalent: hand-written SQL through a cursor, one statement per table.

    A list is one statement for the page of customers (one row more than the page, which
    tells whether there is a next page) and one for their tags; a 360° page one statement
    each for the customer, its tags, deals, family, timeline and archive.
    """

    kind: str  # "list", "count" (the list's total, fetched after its rows) or "detail"
    queries: list[tuple[str, list[Any]]]
    rows: int = 0  # a list's page size

    def fetch(self) -> dict[str, Any]:
        with connection.cursor() as cursor:
            if self.kind == "count":
                sql, params = self.queries[0]
                cursor.execute(sql, params)
                return {"count": cursor.fetchone()[0]}
            if self.kind == "list":
                sql, params = self.queries[0]
                cursor.execute(sql, params)
                rows = cursor.fetchall()
                tags = _tags_of(cursor, [r[0] for r in rows[: self.rows]])
                return {"rows": rows, "tags": tags}
            results = []
            for sql, params in self.queries:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
            customer = results[0][0]
            return {
                "customer": customer,
                "tags": [r[0] for r in results[1]],
                "deals": results[2],
                "family": results[3],
                "events": results[4],
                "profile": results[5][0] if results[5] else None,
            }


def _tags_of(cursor: Any, ids: Sequence[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {pk: [] for pk in ids}
    if ids:
        through = Customer.tags.through
        cursor.execute(
            f"SELECT ct.customer_id, t.name FROM {_table(through)} ct JOIN {_table(Tag)} t ON t.id = ct.tag_id"
            f" WHERE ct.customer_id IN ({_placeholders(ids)}) ORDER BY t.name",
            list(ids),
        )
        for pk, name in cursor.fetchall():
            tags[pk].append(name)
    return tags


@dataclass
class Scenario:
    key: str
    label: str
    user: User
    url: str
    floor: Floor
    target: Target | None = None
    # Raw SQL returning every customer id the (paginated) page must list, in any order.
    expected_ids_sql: tuple[str, list[Any]] | None = None


@dataclass
class Result:
    scenario: Scenario
    status: int = 0
    times: list[float] = field(default_factory=list)
    floor_times: list[float] = field(default_factory=list)
    sql_times: list[float] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    floor_queries: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.times)

    @property
    def verdict(self) -> str:
        target = self.scenario.target
        if target is None or not self.ok:
            return ""
        met = _pct(self.times, 0.95) <= target.p95_ms and (
            target.max_queries is None or len(self.queries) <= target.max_queries
        )
        return "PASS" if met else "MISS"


def _pct(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _scope_sql(user: User, dataset: Dataset) -> tuple[str, list[Any]]:
    """crm.core.scope's rule as plain SQL for the two personas (OWN and PROJECT)."""
    if user.pk == dataset.director.pk:
        ids = dataset.director_project_ids
        return f"c.company_id = %s AND c.project_id IN ({_placeholders(ids)})", [dataset.company.pk, *ids]
    return "c.company_id = %s AND (c.owner_id = %s OR c.advisor_id = %s)", [dataset.company.pk, user.pk, user.pk]


def _staff_name(alias: str) -> str:
    return f"coalesce(nullif({alias}.display_name, ''), {alias}.username)"


def _list_floor(
    user: User, dataset: Dataset, match: str = "", match_params: Sequence[Any] = (), *, rows: int = 25
) -> Floor:
    scope, params = _scope_sql(user, dataset)
    sql = (
        "SELECT c.id, c.number, c.name, c.mobile, c.stage, c.grade, c.is_vip, c.source_channel, c.created_at,"
        f" {_staff_name('u')}, p.name FROM {_table(Customer)} c"
        f" JOIN {_table(User)} u ON u.id = c.owner_id JOIN {_table(Project)} p ON p.id = c.project_id"
        f" WHERE {scope} AND c.is_archived = %s {match}"
        f" ORDER BY c.created_at DESC, c.id DESC LIMIT {rows + 1}"
    )
    return Floor("list", [(sql, [*params, False, *match_params])], rows)


def _count_floor(user: User, dataset: Dataset) -> Floor:
    """The list's capped total (crm.customers.views.CappedPaginator) as one hand-written statement."""
    scope, params = _scope_sql(user, dataset)
    sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM {_table(Customer)} c WHERE {scope} AND c.is_archived = %s"
        f" LIMIT {CappedPaginator.CAP + 1}) s"
    )
    return Floor("count", [(sql, [*params, False])])


def _ids_sql(user: User, dataset: Dataset, match: str, match_params: Sequence[Any]) -> tuple[str, list[Any]]:
    scope, params = _scope_sql(user, dataset)
    return (
        f"SELECT c.id FROM {_table(Customer)} c WHERE {scope} AND c.is_archived = %s {match}",
        [*params, False, *match_params],
    )


def _detail_floor(pk: int, user: User, dataset: Dataset) -> Floor:
    scope, params = _scope_sql(user, dataset)
    through = Customer.tags.through
    customer = (
        "SELECT c.id, c.number, c.name, c.gender, c.mobile, c.mobile2, c.stage, c.grade, c.is_vip, c.source_channel,"
        " c.birthday_on, c.notes, c.created_at, c.consent_care, c.consent_marketing, c.consent_at,"
        f" {_staff_name('u')}, {_staff_name('a')}, p.name"
        f" FROM {_table(Customer)} c JOIN {_table(User)} u ON u.id = c.owner_id"
        f" LEFT JOIN {_table(User)} a ON a.id = c.advisor_id"
        f" JOIN {_table(Project)} p ON p.id = c.project_id WHERE c.id = %s AND {scope}"
    )
    tags = (
        f"SELECT t.name FROM {_table(through)} ct JOIN {_table(Tag)} t ON t.id = ct.tag_id"
        " WHERE ct.customer_id = %s ORDER BY t.name"
    )
    deals = (
        f"SELECT d.id, p.name, b.name, un.number, un.layout, d.price, d.status, {_staff_name('u')},"
        " d.subscribed_on, d.contracted_on, d.full_payment_on, d.filed_on, d.delivered_on, d.moved_in_on"
        f" FROM {_table(Deal)} d JOIN {_table(Unit)} un ON un.id = d.unit_id"
        f" JOIN {_table(Building)} b ON b.id = un.building_id JOIN {_table(Project)} p ON p.id = d.project_id"
        f" JOIN {_table(User)} u ON u.id = d.consultant_id"
        " WHERE d.customer_id = %s ORDER BY d.subscribed_on DESC, d.id DESC"
    )
    family = f"SELECT f.relation, f.name, f.birthday_on, f.mobile FROM {_table(FamilyMember)} f WHERE f.customer_id = %s ORDER BY f.relation, f.id"
    events = (
        f"SELECT e.occurred_at, e.kind, e.summary, {_staff_name('a')}"
        f" FROM {_table(TimelineEvent)} e LEFT JOIN {_table(User)} a ON a.id = e.actor_id"
        " WHERE e.customer_id = %s ORDER BY e.occurred_at DESC, e.id DESC LIMIT 100"
    )
    profile = f"SELECT * FROM {_table(CustomerProfile)} WHERE customer_id = %s"
    return Floor(
        "detail",
        [(customer, [pk, *params]), (tags, [pk]), (deals, [pk]), (family, [pk]), (events, [pk]), (profile, [pk])],
    )


def _one(sql: str, params: Sequence[Any]) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


IMPORT_TARGET_S = 10.0
LIST_TARGET = Target(15, 8)
SEARCH_TARGET = Target(20)
SHORT_SEARCH_TARGET = Target(50)
DETAIL_TARGET = Target(25, 12)


def build_scenarios(dataset: Dataset, *, page_size_param: str = "per_page") -> list[Scenario]:
    """The pages of the issue with their floors and targets (the targets hold at 1M on PostgreSQL)."""
    consultant, director = dataset.consultant, dataset.director
    table = _table(Customer)
    d_scope, d_params = _scope_sql(director, dataset)
    o_scope, o_params = _scope_sql(consultant, dataset)
    # Search inputs come from the data, so they find real customers.
    mobile = _one(
        f"SELECT c.mobile FROM {table} c WHERE {d_scope} AND c.is_archived = %s ORDER BY c.id"
        f" LIMIT 1 OFFSET {dataset.customers // 4}",
        [*d_params, False],
    )
    fragment = (mobile or "13800005678")[-4:]
    full_name = _one(
        f"SELECT c.name FROM {table} c WHERE {d_scope} AND c.is_archived = %s AND length(c.name) = 3 ORDER BY c.id"
        f" LIMIT 1 OFFSET {dataset.customers // 5}",
        [*d_params, False],
    ) or _one(f"SELECT c.name FROM {table} c WHERE c.company_id = %s AND length(c.name) = 3", [dataset.company.pk])
    # The 360° page of the consultant's customer with the longest timeline.
    busiest = _one(
        f"SELECT e.customer_id FROM {_table(TimelineEvent)} e JOIN {table} c ON c.id = e.customer_id"
        f" WHERE {o_scope} AND c.is_archived = %s GROUP BY e.customer_id ORDER BY count(*) DESC, e.customer_id LIMIT 1",
        [*o_params, False],
    ) or _one(f"SELECT c.id FROM {table} c WHERE {o_scope} ORDER BY c.id LIMIT 1", o_params)
    mobile_match = "AND (c.mobile LIKE %s OR (c.mobile2 LIKE %s AND c.mobile2 <> ''))"
    name_match = "AND c.name LIKE %s"
    scenarios = [
        Scenario(
            "list_own",
            "list p1 · consultant (OWN)",
            consultant,
            "/customers/",
            _list_floor(consultant, dataset),
            LIST_TARGET,
        ),
        Scenario(
            "list_total_own",
            "list total (hx-get after the rows) · consultant",
            consultant,
            "/customers/count/",
            _count_floor(consultant, dataset),
        ),
        Scenario(
            "list_project",
            "list p1 · director (PROJECT)",
            director,
            "/customers/",
            _list_floor(director, dataset),
            LIST_TARGET,
        ),
        Scenario(
            "list_project_100",
            "list p1 · director · 100 rows",
            director,
            f"/customers/?{page_size_param}=100",
            _list_floor(director, dataset, rows=100),
        ),
        Scenario(
            "search_mobile",
            f"search mobile '{fragment}' · director",
            director,
            f"/customers/?q={fragment}",
            _list_floor(director, dataset, mobile_match, [f"%{fragment}%"] * 2),
            SEARCH_TARGET,
            _ids_sql(director, dataset, mobile_match, [f"%{fragment}%"] * 2),
        ),
        Scenario(
            "search_name",
            f"search name '{full_name}' · director",
            director,
            f"/customers/?q={full_name}",
            _list_floor(director, dataset, name_match, [f"%{full_name}%"]),
            SEARCH_TARGET,
            _ids_sql(director, dataset, name_match, [f"%{full_name}%"]),
        ),
    ]
    for surname in ("王", "欧阳"):
        scenarios.append(
            Scenario(
                f"search_surname_{len(surname)}",
                f"search surname '{surname}' · consultant",
                consultant,
                f"/customers/?q={surname}",
                _list_floor(consultant, dataset, name_match, [f"%{surname}%"]),
                SHORT_SEARCH_TARGET,
                _ids_sql(consultant, dataset, name_match, [f"%{surname}%"]),
            )
        )
    scenarios.append(
        Scenario(
            "detail",
            "360° page · consultant",
            consultant,
            f"/customers/{busiest}/",
            _detail_floor(busiest, consultant, dataset),
            DETAIL_TARGET,
        )
    )
    return scenarios


# ---------------------------------------------------------------------- floor view

_ENGINE = Engine(autoescape=True)
_TEMPLATES = {
    "list": _ENGINE.from_string(
        "<!DOCTYPE html><title>客户</title><table>{% for r in rows %}<tr>"
        '<td><a href="/customers/{{ r.id }}/">{{ r.name }}</a>{% if r.vip %} VIP{% endif %}</td><td>{{ r.number }}</td>'
        "<td>{{ r.mobile }}</td><td>{{ r.stage }}</td><td>{{ r.grade }}</td><td>{{ r.project }}</td><td>{{ r.owner }}</td>"
        "<td>{{ r.channel }}</td><td>{% for t in r.tags %}<span>{{ t }}</span>{% endfor %}</td>"
        '<td>{{ r.created|date:"Y-m-d H:i" }}</td></tr>{% endfor %}</table>'
        '{% if has_next %}<a href="?page=2">下一页</a>{% endif %}'
    ),
    "count": _ENGINE.from_string(
        '<span id="total">共 {% if count > cap %}{{ cap }}+{% else %}{{ count }}{% endif %} 位</span>'
    ),
    "detail": _ENGINE.from_string(
        "<!DOCTYPE html><title>{{ c.2 }}</title><h1>{{ c.2 }} {{ c.1 }} {{ stage }} {{ c.7 }}</h1>"
        "{% for t in tags %}<span>{{ t }}</span>{% endfor %}"
        "<p>{{ mobile }} {{ c.16 }} {{ c.17|default:'' }} {{ c.18 }} {{ channel }} {{ c.10|date:'Y-m-d' }}"
        " {{ c.12|date:'Y-m-d H:i' }} {{ c.11 }} {{ c.13 }} {{ c.14 }}</p>"
        "{% for d in deals %}<div>{{ d.1 }} {{ d.2 }}-{{ d.3 }} {{ d.4 }} {{ d.5|floatformat:0 }} {{ d.7 }}"
        "{% for on in d.8|slice:'6' %} {{ on|date:'Y-m-d' }}{% endfor %}</div>{% endfor %}"
        "<ul>{% for e in events %}<li>{{ e.1 }} · {{ e.3|default:'系统' }} · {{ e.0|date:'Y-m-d H:i' }} {{ e.2 }}</li>{% endfor %}</ul>"
        "<ul>{% for f in family %}<li>{{ f.1 }} {{ f.0 }}</li>{% endfor %}</ul><p>{{ filled }}</p>"
    ),
}
_FLOORS: dict[str, Floor] = {}


def _local(value: datetime) -> datetime:
    # A raw SQLite cursor returns naive UTC datetimes; PostgreSQL aware ones.
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return timezone.localtime(value)


def floor_view(request: HttpRequest, key: str) -> HttpResponse:
    floor = _FLOORS[key]
    data = floor.fetch()
    if floor.kind == "count":
        context = {"count": data["count"], "cap": CappedPaginator.CAP}
    elif floor.kind == "list":
        rows = data["rows"]
        context = {
            "rows": [
                {
                    "id": r[0],
                    "number": r[1],
                    "name": r[2],
                    "mobile": mask_mobile(r[3]),
                    "stage": STAGE_LABELS.get(r[4], r[4]),
                    "grade": r[5],
                    "vip": r[6],
                    "channel": CHANNEL_LABELS.get(r[7], r[7]),
                    "created": _local(r[8]),
                    "owner": r[9],
                    "project": r[10],
                    "tags": data["tags"][r[0]],
                }
                for r in rows[: floor.rows]
            ],
            "has_next": len(rows) > floor.rows,
        }
    else:
        c = data["customer"]
        profile = data["profile"] or ()
        context = {
            "c": c,
            "stage": STAGE_LABELS.get(c[6], c[6]),
            "channel": CHANNEL_LABELS.get(c[9], c[9]),
            "mobile": mask_mobile(c[4]),
            "tags": data["tags"],
            "deals": [(*d[:8], d[8:]) for d in data["deals"]],
            "family": data["family"],
            "events": [(_local(e[0]), *e[1:]) for e in data["events"]],
            "filled": sum(1 for v in profile if v not in ("", None)),
        }
    return HttpResponse(_TEMPLATES[floor.kind].render(Context(context)))


urlpatterns = [*site_urlpatterns, path("__bench__/floor/<str:key>/", floor_view)]


# ------------------------------------------------------------------------ measuring

_DETAIL_LINK = re.compile(r'href="/customers/(\d+)/"')


def _get(client: Client, url: str) -> Any:
    # secure=True: under production settings (SECURE_SSL_REDIRECT) plain requests get a 301.
    return client.get(url, secure=True)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence axes' INFO lines on every force_login and whitenoise's missing STATIC_ROOT warning."""
    axes = logging.getLogger("axes")
    level = axes.level
    axes.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
            yield
    finally:
        axes.setLevel(level)


def measure(
    scenarios: Sequence[Scenario], *, requests: int, warmup: int, budget_s: float = 120, write: Write
) -> list[Result]:
    """Warm up, then time the page, its floor and the floor's bare SQL in turn, ``requests`` times.

    A scenario stops early (with at least 20 samples) once it has run ``budget_s`` seconds,
    so a page taking seconds does not hold a shared machine for an hour.
    """
    clients: dict[int, Client] = {}
    results = []
    with override_settings(ROOT_URLCONF=__name__), _quiet():
        for scenario in scenarios:
            _FLOORS[scenario.key] = scenario.floor
            if scenario.user.pk not in clients:
                clients[scenario.user.pk] = Client(raise_request_exception=False)
                clients[scenario.user.pk].force_login(scenario.user)
            client = clients[scenario.user.pk]
            floor_url = f"/__bench__/floor/{scenario.key}/"
            result = Result(scenario)
            # Queries are counted on the last warm-up request; the timed ones run without capture.
            started = time.perf_counter()
            for i in range(max(warmup, 1)):
                if i >= 2 and time.perf_counter() - started > budget_s / 4:
                    break
                with CaptureQueriesContext(connection) as page_queries:
                    response = _get(client, scenario.url)
                with CaptureQueriesContext(connection) as floor_queries:
                    floor_response = _get(client, floor_url)
                if floor_response.status_code != 200:
                    raise BenchError(f"The floor of {scenario.label} answered HTTP {floor_response.status_code}.")
                result.status = response.status_code
                if response.status_code != 200:
                    break
            result.queries = [q["sql"] for q in page_queries.captured_queries]
            result.floor_queries = len(floor_queries)
            if result.status != 200:
                result.note = f"HTTP {result.status}"
                write(f"  {scenario.label}: HTTP {result.status}, skipped")
                results.append(result)
                continue
            gc.collect()
            # As config/wsgi.py does in a web process (fix F): what is alive now lives for
            # the whole run, and full collections need not walk it again and again.
            gc.freeze()
            started = time.perf_counter()
            for i in range(requests):
                if i >= 20 and time.perf_counter() - started > budget_s:
                    break
                t0 = time.perf_counter()
                _get(client, scenario.url)
                t1 = time.perf_counter()
                _get(client, floor_url)
                t2 = time.perf_counter()
                scenario.floor.fetch()
                t3 = time.perf_counter()
                result.times.append((t1 - t0) * 1000)
                result.floor_times.append((t2 - t1) * 1000)
                result.sql_times.append((t3 - t2) * 1000)
            write(
                f"  {scenario.label}: median {statistics.median(result.times):.1f} ms,"
                f" floor {statistics.median(result.floor_times):.1f} ms, {len(result.queries)} queries"
            )
            results.append(result)
    return results


_NEXT_PAGE = r"(?<![\w]){}(?!\d)"


def check_results(scenarios: Sequence[Scenario], *, page_size_param: str = "per_page", write: Write) -> list[str]:
    """Walk every page of each search and compare the customers listed with the raw-SQL set."""
    lines = []
    with override_settings(ROOT_URLCONF=__name__), _quiet():
        for scenario in scenarios:
            if scenario.expected_ids_sql is None:
                continue
            sql, params = scenario.expected_ids_sql
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                expected = {row[0] for row in cursor.fetchall()}
            client = Client(raise_request_exception=False)
            client.force_login(scenario.user)
            shown: set[int] = set()
            status = 200
            for page in range(1, 10_001):
                response = _get(client, f"{scenario.url}&{page_size_param}=100&page={page}")
                status = response.status_code
                if status != 200:
                    break
                content = response.content.decode()
                ids = {int(pk) for pk in _DETAIL_LINK.findall(content)}
                if not ids - shown:
                    break
                shown |= ids
                if not re.search(_NEXT_PAGE.format(f"page={page + 1}"), content):
                    break
            if status != 200:
                line = f"result check [{scenario.label}]: SKIPPED (HTTP {status})"
            elif shown == expected:
                line = f"result check [{scenario.label}]: OK ({len(expected):,} customers, identical to raw SQL)"
            else:
                line = (
                    f"result check [{scenario.label}]: WRONG RESULT — the page lists {len(shown):,},"
                    f" raw SQL finds {len(expected):,}; missing {sorted(expected - shown)[:5]},"
                    f" unexpected {sorted(shown - expected)[:5]}"
                )
            write(line)
            lines.append(line)
    return lines


def time_import(dataset: Dataset, rows: int, *, write: Write) -> list[str]:
    """Time crm.customers.importing on an Excel file of ``rows`` new customers, then roll it back.

    Two figures: validating the file (what the upload page does) and import_file, which
    reads and validates it again and writes every row in one transaction. The rollback
    keeps the dataset at its marked size; a VACUUM then clears the dead rows it leaves.
    """
    if importlib.util.find_spec("crm.customers.importing") is None:
        return ["import: SKIPPED — crm/customers/importing.py does not exist yet"]
    import uuid

    from crm.customers import importing

    user = dataset.consultant
    path = _import_workbook(dataset, rows, write=write)
    with _quiet():
        t0 = time.perf_counter()
        validation = importing.validate_file(path, importing.CUSTOMERS, user=user, filename=path.name)
        validated = time.perf_counter() - t0
        report = validation.report
        # The confirm page hands the upload's validation back when the importer accepts it.
        reuse = "prevalidated" in inspect.signature(importing.import_file).parameters
        extra: dict[str, Any] = {"prevalidated": validation} if reuse else {}
        t0 = time.perf_counter()
        with transaction.atomic():
            result = importing.import_file(
                path, importing.CUSTOMERS, user=user, filename=path.name, batch=uuid.uuid4().hex, **extra
            )
            imported = time.perf_counter() - t0
            # The foreign keys are DEFERRABLE INITIALLY DEFERRED: a committed import checks
            # them at COMMIT (about a million checks for 100,000 rows). Run them here, timed,
            # before the rollback that keeps the dataset at its size.
            t0 = time.perf_counter()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            checked = time.perf_counter() - t0
            transaction.set_rollback(True)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            # Every table the import wrote to: with autovacuum off (as on the machine these
            # figures come from) the rolled-back rows would otherwise stay in their indexes.
            written = (Customer, CustomerProfile, Customer.tags.through, ConsentRecord, TimelineEvent)
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(_table(m) for m in written)}")
    total = validated + imported + checked
    verdict = f"; whole import {total:.1f} s, target ≤ {IMPORT_TARGET_S:g} s per 100,000 rows" + (
        f": {'PASS' if total <= IMPORT_TARGET_S else 'MISS'}" if rows == 100_000 else ""
    )
    line = (
        f"import {rows:,} rows: validate_file {validated:.1f} s ({report.valid:,} valid, {report.invalid:,} invalid);"
        f" import_file ({'write, reusing that validation' if reuse else 'read + validate + write'}) {imported:.1f} s"
        f" + deferred foreign-key checks {checked:.1f} s (run at COMMIT) = {result.imported / (imported + checked):,.0f}"
        f" rows/s (rolled back){verdict}"
    )
    write(f"  {line}")
    return [line]


def _import_workbook(dataset: Dataset, rows: int, *, write: Write) -> Path:
    """An .xlsx of ``rows`` new customers in the import template's columns, kept for reruns."""
    from openpyxl import Workbook

    directory = Path(settings.VAR_DIR) / "bench"
    path = directory / f"import-{MARKER_KEY.rsplit(':', 1)[1]}-{dataset.customers}-{rows}.xlsx"
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    project = Project.objects.filter(pk__in=dataset.project_ids, staff=dataset.consultant).first()
    project_name = project.name if project else PROJECTS[0][0]
    rng = random.Random(SEED + 1)
    channels = [str(label) for _, label in Channel.choices]
    t0 = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["姓名", "手机号", "性别", "客户等级", "意向楼盘", "来源渠道", "生日", "标签", "备注", "同意关怀短信"])
    for i in range(1, rows + 1):
        male = rng.random() < 0.5
        sheet.append(
            [
                bench_name(rng, male=male),
                demo_mobile(dataset.customers + i),  # past the generated ones: new, valid, distinct
                "男" if male else "女",
                rng.choice("ABC"),
                project_name,
                rng.choice(channels),
                date(1960, 1, 1) + timedelta(days=rng.randrange(14600)),
                rng.choice(TAG_NAMES) if rng.random() < 0.3 else "",
                rng.choice(CUSTOMER_NOTES) if rng.random() < 0.2 else "",
                "是" if rng.random() < 0.7 else "否",
            ]
        )
    partial = path.with_suffix(".partial")
    workbook.save(partial)
    partial.rename(path)
    write(f"  import: wrote {path} in {time.perf_counter() - t0:.1f} s")
    return path


# ------------------------------------------------------------------------- reporting


def machine_lines() -> list[str]:
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
            memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    lines = [f"machine: {cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}"]
    lines.append(f"code: {_code_state()}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
            shown = []
            for name in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit"):
                cursor.execute(f"SHOW {name}")
                shown.append(f"{name}={cursor.fetchone()[0]}")
        lines.append(f"database: PostgreSQL {version} ({', '.join(shown)})")
    else:
        lines.append(f"database: {connection.vendor}")
    return lines


def _code_state() -> str:
    """The commit measured, and whether the working tree differed from it."""
    import subprocess

    try:
        rev = subprocess.run(
            ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=True, timeout=5
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"{rev} ({len(changed)} tracked files modified)" if changed else rev


def load_line(label: str) -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return f"load {label}: unknown"
    return f"load {label}: {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def dataset_lines(dataset: Dataset) -> list[str]:
    company = dataset.company.pk
    counts = {
        "customers": Customer.objects.filter(company=company).count(),
        "deals": Deal.objects.filter(company=company).count(),
        "timeline events": TimelineEvent.objects.filter(customer__company=company).count(),
    }
    own = Customer.objects.filter(
        models.Q(owner=dataset.consultant) | models.Q(advisor=dataset.consultant), company=company
    ).count()
    director = Customer.objects.filter(company=company, project_id__in=dataset.director_project_ids).count()
    lines = [
        "dataset: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()),
        f"personas: consultant {dataset.consultant.username} sees {own:,} customers (OWN);"
        f" director {dataset.director.username} sees {director:,} ({len(dataset.director_project_ids)} projects)",
    ]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size(%s)), pg_size_pretty(pg_total_relation_size(%s))",
                [Customer._meta.db_table, TimelineEvent._meta.db_table],
            )
            customers_size, events_size = cursor.fetchone()
        lines.append(f"sizes (with indexes): customers {customers_size}, timeline {events_size}")
    return lines


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table_lines(results: Iterable[Result], *, requests: int) -> list[str]:
    header = (
        "scenario",
        "n",
        "median ms",
        "p95 ms",
        "queries",
        "floor median",
        "floor p95",
        "ratio",
        "sql ms",
        "target",
        "",
    )
    rows: list[tuple[str, ...]] = []
    for r in results:
        label, target = r.scenario.label, str(r.scenario.target or "")
        if not r.ok:
            rows.append((label, "", r.note or "—", "", "", "", "", "", "", target, ""))
            continue
        median, floor_median = statistics.median(r.times), statistics.median(r.floor_times)
        rows.append(
            (
                label,
                str(len(r.times)),
                f"{median:.1f}",
                f"{_pct(r.times, 0.95):.1f}",
                str(len(r.queries)),
                f"{floor_median:.1f}",
                f"{_pct(r.floor_times, 0.95):.1f}",
                f"{median / floor_median:.1f}×",
                f"{statistics.median(r.sql_times):.1f}",
                target,
                r.verdict,
            )
        )
    widths = [max(_width(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def fmt(row: Sequence[str]) -> str:
        cells = []
        for i, (cell, width) in enumerate(zip(row, widths, strict=True)):
            pad = " " * (width - _width(cell))
            cells.append(pad + cell if 1 <= i <= 8 else cell + pad)
        return "| " + " | ".join(cells) + " |"

    return [
        f"Server time of up to {requests} requests per scenario (n) after warm-up. floor = hand-written SQL + minimal view behind"
        " the same middleware; sql ms = the floor's SQL alone; ratio = median / floor median.",
        fmt(header),
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
        *(fmt(row) for row in rows),
    ]


def n_plus_one_line(results: Sequence[Result]) -> str:
    by_key = {r.scenario.key: r for r in results}
    small, large = by_key.get("list_project"), by_key.get("list_project_100")
    if small is None or large is None or not (small.ok and large.ok):
        return "N+1 check (page size 25 vs 100): SKIPPED — the list page is not available"
    verdict = "PASS" if len(small.queries) == len(large.queries) else "MISS"
    return f"N+1 check (page size 25 vs 100): {len(small.queries)} vs {len(large.queries)} queries — {verdict}"


def query_lines(results: Iterable[Result]) -> list[str]:
    """Every query of each page (on -v 2), to see where the count comes from."""
    lines = []
    for r in results:
        lines.append(f"{r.scenario.label} — {len(r.queries)} queries:")
        lines.extend(f"    {sql[:400]}" for sql in r.queries)
    return lines
