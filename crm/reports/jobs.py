"""Scheduled report packs (config/schedule.py), each ``def job(*, now) -> int``.

Each job works out the latest period whose close has passed (crm.reports.periods) and
generates the packs of that period that do not exist yet, in any version: a second run,
or a second runner, adds nothing and never overwrites a draft someone is writing. Missing
one evening is caught up at the next run (only the latest period is made).

- ``generate_daily_inspection_packs``: each project's 每日巡查报告, from the close hour;
- ``generate_weekly_packs``: 周报 per project and one for every project, on the configured
  close weekday (default Sunday) from the close hour;
- ``generate_monthly_packs``: 月报 per project and for every project, and the company's
  客户投诉分析报告 and 月度回访统计, on the month's last working day from the close hour.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings

from crm.accounts.models import Company
from crm.core.calendar import work_calendar
from crm.projects.models import Project
from crm.reports import periods, services
from crm.reports.models import Kind, ReportPack


def _close_hour() -> int:
    return int(settings.REPORTS_CLOSE_HOUR)


def _make(kind: str, company_id: int, project: Project | None, first: date, last: date, now: datetime) -> int:
    exists = ReportPack.objects.filter(
        company_id=company_id, kind=kind, project=project, period_start=first, period_end=last
    ).exists()
    if exists:
        return 0
    services.generate_pack(kind, company_id=company_id, project=project, first=first, last=last, now=now)
    return 1


def _per_project_and_company(kinds: tuple[str, ...], first: date, last: date, now: datetime) -> int:
    made = 0
    for company in Company.objects.order_by("id"):
        for project in Project.objects.filter(company=company).order_by("id"):
            for kind in kinds:
                made += _make(kind, company.pk, project, first, last, now)
        for kind in kinds:
            made += _make(kind, company.pk, None, first, last, now)
    return made


def generate_daily_inspection_packs(*, now: datetime) -> int:
    day = periods.due_day(now, close_hour=_close_hour())
    made = 0
    for project in Project.objects.order_by("id"):
        made += _make(Kind.DAILY_INSPECTION, project.company_id, project, day, day, now)
    return made


def generate_weekly_packs(*, now: datetime) -> int:
    first, last = periods.due_week(
        now, close_weekday=int(settings.REPORTS_WEEK_CLOSE_WEEKDAY), close_hour=_close_hour()
    )
    return _per_project_and_company((Kind.WEEKLY,), first, last, now)


def generate_monthly_packs(*, now: datetime) -> int:
    first, last = periods.due_month(now, calendar=work_calendar(), close_hour=_close_hour())
    made = _per_project_and_company((Kind.MONTHLY,), first, last, now)
    for company in Company.objects.order_by("id"):
        for kind in (Kind.COMPLAINT_MONTHLY, Kind.VISIT_MONTHLY):
            made += _make(kind, company.pk, None, first, last, now)
    return made
