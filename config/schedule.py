"""Time → jobs: every periodic job, its interval and why. Both runners read this list:
``manage.py runjobs`` (embedded default) and Celery beat (production, later)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    func: str  # dotted path to `def job(*, now: datetime) -> int`
    every: timedelta
    why: str


SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob(
        name="clear_expired_sessions",
        func="crm.core.jobs.clear_expired_sessions",
        every=timedelta(hours=1),
        why="Expired login sessions hold personal data references; remove them (PIPL minimum retention).",
    ),
)
