"""The periodic jobs, as both runners read them: ``manage.py runjobs`` (embedded default)
and Celery beat (production).

The list itself is wiring and lives in config/schedule.py; core reads it through the
``JOB_SCHEDULE`` setting (a dotted path), so core imports no app and no configuration
module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    func: str  # dotted path to `def job(*, now: datetime) -> int`
    every: timedelta
    why: str


def load_schedule() -> tuple[ScheduledJob, ...]:
    """The jobs named by ``settings.JOB_SCHEDULE``."""
    jobs: tuple[ScheduledJob, ...] = tuple(import_string(settings.JOB_SCHEDULE))
    return jobs
