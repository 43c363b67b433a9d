"""Reads of the duty roster and handovers, scoped to the user.

The scope is the one access rule (crm.accounts.access.scope_q) over each row's company,
project and the officers on it: duty officers, specialists and the director see their
projects' shifts and handovers, company-wide roles the company's; an officer always sees
their own (the owner path is the shift's officer, the handover's outgoing officer, and
the advisor path its incoming officer). Outside the scope a row is a 404, never a 403.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from crm.accounts.access import NOTHING, project_q, scope_q
from crm.customers.selectors import through_customer
from crm.lib.dates import local_day, local_midnight, week_start
from crm.projects.models import Project
from crm.service import services
from crm.service.models import (
    BirthdayEntry,
    DisplayItem,
    DutyCheck,
    DutyLogEntry,
    Finding,
    Gift,
    GiftIssue,
    GiftStock,
    GiftTask,
    Handover,
    HandoverEvent,
    Inspection,
    InspectionReport,
    Material,
    MaterialVersion,
    Occasion,
    Shift,
)

if TYPE_CHECKING:
    from crm.accounts.models import User

Status = Handover.Status


def shift_scope_q(user: User, *, prefix: str = "") -> Q:
    if not user.has_perm(services.VIEW_SHIFT):
        return NOTHING
    return scope_q(user, company=f"{prefix}company", owner=f"{prefix}officer", project=f"{prefix}project")


def shifts_visible_to(user: User) -> QuerySet[Shift]:
    return Shift.objects.filter(shift_scope_q(user))


def get_shift_for_user(user: User, pk: int) -> Shift:
    shift = shifts_visible_to(user).select_related("project", "officer", "manager").filter(pk=pk).first()
    if shift is None:
        raise Http404("班次不存在或无权查看")
    return shift


def shift_log(shift: Shift) -> QuerySet[DutyLogEntry]:
    return shift.log_entries.select_related("customer", "recorded_by").order_by("at", "id")


def shift_checks(shift: Shift) -> QuerySet[DutyCheck]:
    return shift.checks.select_related("checked_by").order_by("-checked_at", "-id")


def handover_scope_q(user: User) -> Q:
    if not user.has_perm(services.VIEW_HANDOVER):
        return NOTHING
    return scope_q(user, company="company", owner="outgoing", advisor="incoming", project="project")


def handovers_visible_to(user: User) -> QuerySet[Handover]:
    return Handover.objects.filter(handover_scope_q(user))


def get_handover_for_user(user: User, pk: int) -> Handover:
    handover = (
        handovers_visible_to(user).select_related("project", "shift", "outgoing", "incoming").filter(pk=pk).first()
    )
    if handover is None:
        raise Http404("交接班记录不存在或无权查看")
    return handover


def handover_events(handover: Handover) -> QuerySet[HandoverEvent]:
    return handover.events.select_related("actor").order_by("at", "id")


def projects_for_duty(user: User) -> QuerySet[Project]:
    return Project.objects.filter(project_q(user))


# ---------------------------------------------------------------- list filters

HANDOVER_STATES = {
    "open": "未完成交接",
    "refused": "曾被拒接（未完成）",
    "waiting_me": "等我接班",
    "accepted": "已接班",
}


def handover_state_q(state: str, *, user: User) -> Q:
    open_q = Q(status__in=list(Handover.OPEN_STATUSES))
    if state == "open":
        return open_q
    if state == "refused":
        return open_q & Q(refused_at__isnull=False)
    if state == "waiting_me":
        return Q(status=Status.SUBMITTED, incoming=user)
    if state == "accepted":
        return Q(status=Status.ACCEPTED)
    return Q()


SHIFT_STATES = {
    "now": "正在值班",
    "upcoming": "未开始",
    "holiday": "节假日班次",
    "mine": "我的班次",
    "escalated": "有上报事项",
}


def shift_state_q(state: str, *, user: User, now: datetime) -> Q:
    if state == "now":
        return Q(starts_at__lte=now, ends_at__gt=now)
    if state == "upcoming":
        return Q(starts_at__gt=now)
    if state == "holiday":
        return Q(is_holiday=True)
    if state == "mine":
        return Q(officer=user)
    if state == "escalated":
        return Q(pk__in=DutyLogEntry.objects.filter(is_escalated=True).values("shift_id"))
    return Q()


# ---------------------------------------------------------------- gifts


def gifts_for(user: User) -> QuerySet[Gift]:
    if not user.has_perm(services.VIEW_GIFT):
        return Gift.objects.none()
    return Gift.objects.filter(company_id=user.company_id or 0)


def stocks_visible_to(user: User) -> QuerySet[GiftStock]:
    """Stock of the projects the user works on (company-wide roles: every project)."""
    if not user.has_perm(services.VIEW_GIFT):
        return GiftStock.objects.none()
    return GiftStock.objects.filter(project_q(user, path="project__"))


def issue_scope_q(user: User) -> Q:
    """An issue is seen through its customer (owner, advisor), its project, and by whoever
    issued it (a walk-in visitor's gift has no customer)."""
    if not user.has_perm(services.VIEW_ISSUES):
        return NOTHING
    by_customer = scope_q(
        user, company="company", owner="owner", advisor="advisor", project="project", through=through_customer()
    )
    return by_customer | Q(company_id=user.company_id or 0, issuer=user)


def issues_visible_to(user: User) -> QuerySet[GiftIssue]:
    return GiftIssue.objects.filter(issue_scope_q(user))


def tasks_visible_to(user: User) -> QuerySet[GiftTask]:
    if not user.has_perm("service.view_gifttask"):
        return GiftTask.objects.none()
    return GiftTask.objects.filter(scope_q(user, company="company", owner="consultant", project="project"))


def get_task_for_user(user: User, pk: int) -> GiftTask:
    task = tasks_visible_to(user).select_related("customer", "project", "deal").filter(pk=pk).first()
    if task is None:
        raise Http404("待送礼品不存在或无权查看")
    return task


def birthdays_visible_to(user: User) -> QuerySet[BirthdayEntry]:
    if not user.has_perm("service.view_birthdayentry"):
        return BirthdayEntry.objects.none()
    return BirthdayEntry.objects.filter(scope_q(user, company="company", owner="consultant", project="project"))


TASK_STATES = {"open": "待发放", "mine": "我的待发放", "done": "已发放", "cancelled": "已取消"}


def task_state_q(state: str, *, user: User) -> Q:
    if state == "open":
        return Q(status=GiftTask.Status.OPEN)
    if state == "mine":
        return Q(status=GiftTask.Status.OPEN, consultant=user)
    if state in ("done", "cancelled"):
        return Q(status=state)
    return Q()


def period_bounds(period: str, day: date) -> tuple[date, date]:
    """The week (Monday–Sunday, seed 001 周报) or calendar month containing ``day``, as
    [first, last] dates."""
    if period == "month":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, following - timedelta(days=1)
    first = week_start(day)
    return first, first + timedelta(days=6)


def gift_stats(user: User, *, first: date, last: date) -> list[dict[str, Any]]:
    """礼品发放情况 for the weekly and monthly reports: quantity and count of issues per
    gift and occasion in [first, last], in the user's scope."""
    rows = (
        issues_visible_to(user)
        .filter(issued_at__gte=local_midnight(first), issued_at__lt=local_midnight(last + timedelta(days=1)))
        .values("gift__name", "occasion")
        .annotate(quantity=Sum("quantity"), issues=Count("pk"))
        .order_by("gift__name", "occasion")
    )
    labels = dict(Occasion.choices)
    return [row | {"occasion_label": labels.get(row["occasion"], row["occasion"])} for row in rows]


# ---------------------------------------------------------------- daily inspection


def inspection_scope_q(user: User, *, prefix: str = "") -> Q:
    if not user.has_perm(services.VIEW_INSPECTION):
        return NOTHING
    return scope_q(user, company=f"{prefix}company", owner=f"{prefix}inspector", project=f"{prefix}project")


def inspections_visible_to(user: User) -> QuerySet[Inspection]:
    return Inspection.objects.filter(inspection_scope_q(user))


def get_inspection_for_user(user: User, pk: int) -> Inspection:
    row = inspections_visible_to(user).select_related("project", "inspector").filter(pk=pk).first()
    if row is None:
        raise Http404("巡查记录不存在或无权查看")
    return row


def findings_visible_to(user: User) -> QuerySet[Finding]:
    return Finding.objects.filter(inspection_scope_q(user, prefix="inspection__"))


def overdue_findings_q(now: datetime) -> Q:
    """Not handled by its deadline (11:00 the same day)."""
    return Q(handled_at__isnull=True, due_at__lt=now)


def late_inspections(user: User, *, now: datetime) -> list[Project]:
    """The user's projects whose inspection today is not completed although 10:00 has
    passed (not started at all counts)."""
    from crm.service import inspection

    today = local_day(now)
    if not user.has_perm(services.VIEW_INSPECTION) or now <= inspection.inspection_due(today):
        return []
    done = Inspection.objects.filter(day=today, completed_at__isnull=False).values("project_id")
    return list(projects_for_duty(user).exclude(pk__in=done).order_by("id"))


def reports_visible_to(user: User) -> QuerySet[InspectionReport]:
    if not user.has_perm(services.VIEW_INSPECTION):
        return InspectionReport.objects.none()
    return InspectionReport.objects.filter(project_q(user, path="project__"))


def roster_gaps(user: User, *, now: datetime, days: int = 7) -> list[dict[str, Any]]:
    """Hours without a shift in the next ``days`` days at each project the user works on
    (24-hour cover), in one query over the shifts."""
    from crm.service import duty

    if not user.has_perm(services.VIEW_SHIFT):
        return []
    end = now + timedelta(days=days)
    projects = list(projects_for_duty(user).order_by("id"))
    spans: dict[int, list[tuple[datetime, datetime]]] = {p.pk: [] for p in projects}
    for project_id, s, e in Shift.objects.filter(
        project_id__in=list(spans), starts_at__lt=end, ends_at__gt=now
    ).values_list("project_id", "starts_at", "ends_at"):
        spans[project_id].append((s, e))
    return [{"project": p, "start": s, "end": e} for p in projects for s, e in duty.cover_gaps(now, end, spans[p.pk])]


# ---------------------------------------------------------------- report packs (crm.reports)
#
# The report packs (周报、月报、每日巡查报告) are snapshots of a company or one project for a
# period, generated by a job with no user: these reads take the pack's scope (company and
# optional project) instead of a user; crm.reports decides who may see the pack itself.


def _in_scope(company_id: int, project_id: int | None) -> Q:
    q = Q(company_id=company_id)
    return q & Q(project_id=project_id) if project_id is not None else q


def gift_issues_for_period(company_id: int, project_id: int | None, first: date, last: date) -> list[dict[str, Any]]:
    """礼品发放情况: per gift and occasion in [first, last] (local dates), the number of
    issues and the quantity, ordered by gift and occasion (stable for a snapshot)."""
    labels = dict(Occasion.choices)
    rows = (
        GiftIssue.objects.filter(
            _in_scope(company_id, project_id),
            issued_at__gte=local_midnight(first),
            issued_at__lt=local_midnight(last + timedelta(days=1)),
        )
        .values("gift__name", "gift__unit", "occasion")
        .annotate(quantity=Sum("quantity"), issues=Count("pk"))
        .order_by("gift__name", "occasion")
    )
    return [
        {
            "gift": r["gift__name"],
            "unit": r["gift__unit"],
            "occasion": labels.get(r["occasion"], r["occasion"]),
            "issues": r["issues"],
            "quantity": r["quantity"] or 0,
        }
        for r in rows
    ]


def gift_tasks_for_period(company_id: int, project_id: int | None, first: date, last: date) -> dict[str, int]:
    """Milestone gift tasks (认购、签约礼品) whose milestone falls in [first, last]: how many,
    how many were handed over by the period's end, how many were cancelled by then."""
    end = local_midnight(last + timedelta(days=1))
    tasks = GiftTask.objects.filter(_in_scope(company_id, project_id), milestone_on__gte=first, milestone_on__lte=last)
    return tasks.aggregate(
        due=Count("pk"),
        done=Count("pk", filter=Q(status=GiftTask.Status.DONE, done_at__lt=end)),
        cancelled=Count("pk", filter=Q(status=GiftTask.Status.CANCELLED)),
    )


def inspection_reports_for_day(company_id: int, project_id: int | None, day: date) -> list[dict[str, Any]]:
    """每日巡查报告 of ``day`` (written by write_inspection_reports), one per project, with
    the project's name; projects without a report are not listed (the caller says so)."""
    rows = (
        InspectionReport.objects.filter(_in_scope(company_id, project_id), day=day)
        .order_by("project__name", "project_id")
        .values_list("project_id", "project__name", "summary")
    )
    return [{"project_id": pk, "project": name, "summary": summary} for pk, name, summary in rows]


# ---------------------------------------------------------------- KPI measures (crm.kpis)


def issued_q(start: date | None, end: date | None) -> Q:
    """Gifts issued on the local days ``start``..``end`` (either may be open): the gift
    issue list's date filter and the dashboard's 礼品发放 figure use this one rule."""
    q = Q()
    if start:
        q &= Q(issued_at__gte=local_midnight(start))
    if end:
        q &= Q(issued_at__lt=local_midnight(end + timedelta(days=1)))
    return q


def kpi_gift_issues(user: User, *, start: date, end: date) -> QuerySet[GiftIssue]:
    """The gift issues of a period in the user's scope (the issue list with ?start=&end=)."""
    return issues_visible_to(user).filter(issued_q(start, end))


# ---------------------------------------------------------------- project materials and displays


def materials_visible_to(user: User) -> QuerySet[Material]:
    """Materials of the projects the user works on (company-wide roles: every project)."""
    if not user.has_perm(services.VIEW_MATERIAL):
        return Material.objects.none()
    return Material.objects.filter(project_q(user, path="project__"))


def get_material_for_user(user: User, pk: int) -> Material:
    row = materials_visible_to(user).select_related("project", "created_by").filter(pk=pk).first()
    if row is None:
        raise Http404("资料不存在或无权查看")
    return row


def versions_visible_to(user: User) -> QuerySet[MaterialVersion]:
    if not user.has_perm(services.VIEW_MATERIAL):
        return MaterialVersion.objects.none()
    return MaterialVersion.objects.filter(project_q(user, path="material__project__"))


def display_items_visible_to(user: User) -> QuerySet[DisplayItem]:
    if not user.has_perm(services.VIEW_DISPLAY):
        return DisplayItem.objects.none()
    return DisplayItem.objects.filter(project_q(user, path="project__"))


def stale_display_q(today: date, days: int) -> Q:
    """Active display items not checked for more than ``days`` days (or never)."""
    return Q(is_active=True) & (Q(last_checked_on__isnull=True) | Q(last_checked_on__lt=today - timedelta(days=days)))
