"""Demo customer portraits (客户描摹): 王晓燕 (consultant1) has handed in all three this
quarter, 李明 (consultant3) one, 陈静 (consultant2) none — so the quota page, the card and
the reminder show both states — and each consultant handed in three last quarter, which
gives the analysis page a full quarter to show."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from crm.accounts.models import Company, User
from crm.core.errors import DomainError
from crm.customers.models import Customer
from crm.lib.dates import at, local_day
from crm.portraits import services
from crm.portraits.models import CHOICE_FIELDS
from crm.portraits.quarters import Quarter

NOTES = (
    ("在银行做客户经理", "女儿上小学三年级", "周末常带孩子露营", "租住在单位附近", "关注学区和交房时间"),
    ("经营一家建材店", "三代同堂，父母同住", "喜欢喝茶、下象棋", "现住老城区两居室", "希望有电梯的低楼层"),
    ("中学教师", "新婚，计划要孩子", "爱好摄影和旅行", "与父母同住", "看重小区绿化和安静"),
    ("IT公司项目经理", "两个孩子", "跑步、羽毛球", "自有一套小户型", "改善需求，关注四居室"),
)
THIS_QUARTER = {"consultant1": 3, "consultant3": 1, "consultant2": 0}


def _submit(consultant: User, customer: Customer, now: datetime, rng: random.Random) -> int:
    answers = {name: rng.choice(choices.values) for name, _label, choices in CHOICE_FIELDS}
    occupation, family, interests, living, notes = rng.choice(NOTES)
    try:
        services.submit_portrait(
            customer,
            actor=consultant,
            now=now,
            occupation=occupation,
            family_note=family,
            interests=interests,
            living_note=living,
            notes=notes,
            **answers,
        )
    except DomainError:
        return 0
    return 1


def seed(company: Company, seed_value: int) -> int:
    rng = random.Random(seed_value + 41)
    today = local_day(timezone.now())
    quarter = Quarter.of(today)
    last = quarter.previous()
    made = 0
    for username, count in THIS_QUARTER.items():
        consultant = User.objects.filter(company=company, username=username).first()
        if consultant is None:
            continue
        customers = list(
            Customer.objects.filter(company=company, owner=consultant, is_archived=False).order_by("id")[:6]
        )
        for i, customer in enumerate(customers[:3]):
            day = last.first + timedelta(days=10 + 20 * i)
            made += _submit(consultant, customer, at(day, time(15, 0)), rng)
        span = max((today - quarter.first).days, 0)
        for i, customer in enumerate(customers[3 : 3 + count]):
            day = quarter.first + timedelta(days=min(span, 3 + 7 * i))
            made += _submit(consultant, customer, at(day, time(11, 0)), rng)
    return made
