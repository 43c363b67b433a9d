"""Scheduled visit work (config/schedule.py)."""

from __future__ import annotations

from datetime import datetime

from crm.core.calendar import work_calendar
from crm.projects.models import Project
from crm.visits import escalation, planning, repairs, services


def generate_visit_tasks(*, now: datetime) -> int:
    """Turn the occasions of every active plan (signing, delivery, move-in, birthdays) into
    visit tasks; idempotent (one task per customer, plan and occasion). A project without
    any plan gets the seed's plans first (switch a plan off rather than deleting it).
    Returns how many tasks were created."""
    for project in Project.objects.filter(visit_plans__isnull=True):
        services.ensure_default_plans(project)
    return planning.generate(now=now, calendar=work_calendar())


def remind_visit_issues(*, now: datetime) -> int:
    """Today's reminders of issues raised in visits (the department before the promised
    date, the visitor to tell the customer): at most one per issue and day."""
    return services.remind_issues(now=now, calendar=work_calendar())


def make_repair_callbacks(*, now: datetime) -> int:
    """A callback task for every completed repair without one (repairs completed through
    an import or another app); at most one per repair."""
    return repairs.make_callbacks(calendar=work_calendar())


def draw_recheck_samples(*, now: datetime) -> int:
    """In a new quarter, the director's 20% re-check sample of the previous quarter's
    completed repair callbacks; once per company and quarter."""
    return repairs.draw_due_samples(now=now, calendar=work_calendar())


def escalate_overdue_visits(*, now: datetime) -> int:
    """Overdue visit tasks go to the team leader (level 1), and to the director one
    working day later (level 2); each level once."""
    return escalation.escalate_overdue(now=now, calendar=work_calendar())
