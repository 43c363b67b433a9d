"""客户活动's jobs: the 3-day notice (config/schedule.py)."""

from __future__ import annotations

from datetime import datetime

from crm.events import services


def plan_event_notices(*, now: datetime, limit: int = 2000) -> int:
    """Queue each published event's notice on its day (seed 001: 活动前三天), once per invitee."""
    return services.plan_event_notices(now=now, limit=limit)
