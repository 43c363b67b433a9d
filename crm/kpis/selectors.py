"""What other apps read from the KPI app (crm.reports): the hourly counts of earlier
months (crm.kpis.counting, decision 0030)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet

from crm.kpis.counting import Source, next_month, of_last_run
from crm.kpis.models import MonthCount, MonthCountRun, VisitDayCount


def counted_visit_groups(
    company_id: int, project_id: int | None, first: date, last: date
) -> list[tuple[Any, ...]] | None:
    """``crm.visits.selectors.visit_groups`` of [first, last] (one project or all) from the
    counts, when every day of it lies in the counted months; else None (count live). A
    report pack of an earlier period reads these instead of its tasks (decision 0030)."""

    def days(run: MonthCountRun) -> QuerySet[VisitDayCount] | None:
        if first < run.first_month or last >= next_month(run.last_month):
            return None
        rows = VisitDayCount.objects.filter(company_id=company_id, day__gte=first, day__lte=last)
        return rows if project_id is None else rows.filter(project_id=project_id)

    found = of_last_run(company_id, days)
    return None if found is None else [tuple(group) for row in found[1] for group in row.groups]


def counted_visitor_counts(company_id: int, project_id: int | None, month: date) -> list[dict[str, Any]] | None:
    """``crm.visits.stats.visitor_counts`` rows of a counted month (one project or all), or
    None when the month is not counted (count live)."""

    def visitors(run: MonthCountRun) -> QuerySet[MonthCount] | None:
        if not run.first_month <= month <= run.last_month:
            return None
        rows = MonthCount.objects.filter(company_id=company_id, source=Source.VISITORS, month=month)
        return rows if project_id is None else rows.filter(project_id=project_id)

    found = of_last_run(company_id, visitors)
    return None if found is None else [counted for row in found[1] for counted in row.counts["visitors"]]
