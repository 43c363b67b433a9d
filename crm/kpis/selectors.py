"""What other apps read from the KPI app (crm.reports): the hourly counts of earlier
months (crm.kpis.counting, decision 0030)."""

from __future__ import annotations

from datetime import date
from typing import Any

from crm.kpis.counting import Source, next_month
from crm.kpis.models import MonthCount, MonthCountRun, VisitDayCount


def counted_visit_groups(
    company_id: int, project_id: int | None, first: date, last: date
) -> list[tuple[Any, ...]] | None:
    """``crm.visits.selectors.visit_groups`` of [first, last] (one project or all) from the
    counts, when every day of it lies in the counted months; else None (count live). A
    report pack of an earlier period reads these instead of its tasks (decision 0030)."""
    run = MonthCountRun.objects.filter(company_id=company_id).first()
    if run is None or first < run.first_month or last >= next_month(run.last_month):
        return None
    rows = VisitDayCount.objects.filter(company_id=company_id, day__gte=first, day__lte=last)
    if project_id is not None:
        rows = rows.filter(project_id=project_id)
    loaded = list(rows.values_list("groups", "counted_at"))
    if any(counted_at != run.counted_at for _, counted_at in loaded):
        return None  # another run replaced the counts meanwhile
    return [tuple(group) for groups, _ in loaded for group in groups]


def counted_visitor_counts(company_id: int, project_id: int | None, month: date) -> list[dict[str, Any]] | None:
    """``crm.visits.stats.visitor_counts`` rows of a counted month (one project or all), or
    None when the month is not counted (count live)."""
    run = MonthCountRun.objects.filter(company_id=company_id).first()
    if run is None or not run.first_month <= month <= run.last_month:
        return None
    rows = MonthCount.objects.filter(company_id=company_id, source=Source.VISITORS, month=month)
    if project_id is not None:
        rows = rows.filter(project_id=project_id)
    loaded = list(rows.values_list("counts", "counted_at"))
    if any(counted_at != run.counted_at for _, counted_at in loaded):
        return None  # another run replaced the counts meanwhile
    return [row for counts, _ in loaded for row in counts["visitors"]]
