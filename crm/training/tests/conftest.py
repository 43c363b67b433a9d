from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crm.training import services
from crm.training.models import TrainingPlan, TrainingSession

CN = ZoneInfo("Asia/Shanghai")


def cn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CN)


@pytest.fixture
def plan(supervisor) -> TrainingPlan:
    return services.create_plan(
        actor=supervisor,
        title="2026年第四季度商务礼仪培训",
        topic="etiquette",
        starts_on=date(2026, 10, 1),
        ends_on=date(2026, 12, 31),
        audience="销售人员第一批",
        now=cn(2026, 9, 20, 10),
    )


@pytest.fixture
def make_session(plan, supervisor) -> Callable[..., TrainingSession]:
    def make(attendees: list[Any], *, at: datetime | None = None, trainer: Any = None, **kw: Any) -> TrainingSession:
        return services.schedule_session(
            plan,
            actor=supervisor,
            topic=kw.pop("topic", "电话礼仪：可以听到的形象"),
            starts_at=at or cn(2026, 10, 15, 14),
            attendees=attendees,
            trainer=trainer,
            trainer_name="" if trainer else "外请讲师张老师",
            location="售楼处二楼会议室",
            now=cn(2026, 10, 1, 9),
            **kw,
        )

    return make
