"""Monthly visit statistics per visitor (issue 12, item 7), feeding later reports.

For a month and the tasks in the user's scope, per assignee: tasks due in the month, done,
done on time (completed on or before the due date), unreachable, still open; the reach
rate (reached ÷ calls that ended: done or unreachable); the average satisfaction of the
reached ones; and the issues the visitor raised in the month, by class. Two grouped
queries, whatever the number of visitors.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from django.db.models import Avg, Count, F, Q

from crm.core.errors import DomainError
from crm.lib.dates import at
from crm.visits import selectors
from crm.visits.models import VisitTask

if TYPE_CHECKING:
    from crm.accounts.models import User


@dataclass
class VisitorMonth:
    assignee_id: int | None
    name: str
    due: int = 0
    done: int = 0
    on_time: int = 0
    reached: int = 0
    unreachable: int = 0
    open: int = 0
    satisfaction: float | None = None
    issues: dict[str, int] = field(default_factory=dict)

    @property
    def reach_rate(self) -> float | None:
        """Percent of ended calls that reached the customer (None when none ended)."""
        ended = self.reached + self.unreachable
        return round(100 * self.reached / ended, 1) if ended else None

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.on_time / self.due, 1) if self.due else None

    @property
    def issue_total(self) -> int:
        return sum(self.issues.values())


def parse_month(value: str | None, *, today: date) -> tuple[int, int]:
    """``YYYY-MM`` (the page's month picker); empty: the current month."""
    if not value:
        return today.year, today.month
    try:
        year, month = (int(part) for part in value.split("-"))
        date(year, month, 1)
    except (TypeError, ValueError) as exc:
        raise DomainError("月份格式应为 2026-09", field="month") from exc
    return year, month


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, monthrange(year, month)[1])


def monthly(user: User, year: int, month: int) -> list[VisitorMonth]:
    first, last = month_bounds(year, month)
    tasks = selectors.tasks_visible_to(user).filter(due_on__gte=first, due_on__lte=last)
    done = Q(status=VisitTask.Status.DONE)
    rows = (
        tasks.values("assignee_id", "assignee__display_name", "assignee__username")
        .annotate(
            due=Count("pk"),
            done=Count("pk", filter=done),
            on_time=Count("pk", filter=done & Q(completed_at__date__lte=F("due_on"))),
            reached=Count("pk", filter=Q(reached=True)),
            unreachable=Count("pk", filter=Q(status=VisitTask.Status.UNREACHABLE)),
            open=Count("pk", filter=Q(status__in=list(VisitTask.OPEN))),
            satisfaction=Avg("satisfaction", filter=done),
        )
        .order_by("assignee__display_name", "assignee_id")
    )
    result: dict[int | None, VisitorMonth] = {}
    for r in rows:
        sat = r["satisfaction"]
        result[r["assignee_id"]] = VisitorMonth(
            assignee_id=r["assignee_id"],
            name=r["assignee__display_name"] or r["assignee__username"] or "待分派",
            due=r["due"],
            done=r["done"],
            on_time=r["on_time"],
            reached=r["reached"],
            unreachable=r["unreachable"],
            open=r["open"],
            satisfaction=round(float(sat), 2) if sat is not None else None,
        )
    start, end = at(first, time.min), at(last, time.min)
    end = datetime.combine(last, time.max, tzinfo=end.tzinfo)
    issues = (
        selectors.issues_visible_to(user)
        .filter(raised_at__gte=start, raised_at__lte=end)
        .values("raised_by_id", "raised_by__display_name", "raised_by__username", "category__name")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for i in issues:
        row = result.get(i["raised_by_id"])
        if row is None:
            name = i["raised_by__display_name"] or i["raised_by__username"] or "—"
            row = result[i["raised_by_id"]] = VisitorMonth(assignee_id=i["raised_by_id"], name=name)
        row.issues[i["category__name"]] = row.issues.get(i["category__name"], 0) + i["n"]
    return list(result.values())
