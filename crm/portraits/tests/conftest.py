from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crm.portraits import services
from crm.portraits.models import Portrait

CN = ZoneInfo("Asia/Shanghai")
ANSWERS = {
    "industry": "finance",
    "occupation": "银行客户经理",
    "family_structure": "one_child",
    "family_note": "女儿上小学",
    "hobby": "travel",
    "interests": "周末喜欢带孩子露营",
    "living_situation": "renting",
    "living_note": "租住在公司附近",
    "purchase_motive": "school",
    "decision_maker": "couple",
    "notes": "关注学区和交房时间",
}


def cn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CN)


@pytest.fixture
def submit() -> Callable[..., Portrait]:
    def make(customer: Any, actor: Any, at: datetime, **answers: Any) -> Portrait:
        return services.submit_portrait(customer, actor=actor, now=at, **(ANSWERS | answers))

    return make
