"""Reads of visit tasks, scoped to the user.

The scope is the one access rule (crm.accounts.access.scope_q) over the task's paths: its
company, the customer's owner and VIP advisor, and the task's project — a consultant sees
the tasks of own customers, a 客服专员 those of their projects, a user with two roles the
union. A task assigned to the user is always theirs to see (a director may hand a deep
visit to a specialist of another project). Outside the scope a task is a 404.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import F, Q, QuerySet
from django.http import Http404

from crm.accounts.access import NOTHING, improvement_plan_staff_q, scope_q
from crm.customers.selectors import through_customer
from crm.lib.dates import local_midnight
from crm.visits import services
from crm.visits.models import (
    Campaign,
    ImprovementPlan,
    IssueEvent,
    RecheckSample,
    Repair,
    ReviewFlag,
    VisitEvent,
    VisitIssue,
    VisitTask,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crm.accounts.models import User
    from crm.visits import stats

Status = VisitTask.Status
UPCOMING_DAYS = 7


def visit_scope_q(user: User) -> Q:
    if not user.has_perm(services.VIEW) or user.company_id is None:
        return NOTHING
    in_scope = scope_q(
        user, company="company", owner="owner", advisor="advisor", project="project", through=through_customer()
    )
    return in_scope | Q(company_id=user.company_id, assignee_id=user.pk)


def tasks_visible_to(user: User) -> QuerySet[VisitTask]:
    return VisitTask.objects.filter(visit_scope_q(user))


def kpi_people_parts(user: User) -> list[QuerySet[VisitTask]]:
    """``tasks_visible_to`` without the project part of the scope, as disjoint parts whose
    union it is: the tasks of the customers the user sees as a person (own, team, VIP
    advised), then those assigned to the user among the rest. With a project scope, these
    outside the user's projects are what the dashboard counts live beside the month counts
    (crm.kpis.counting); each part is a plain AND the planner answers from an index (an OR
    of the two read the year's 3,000,000 tasks: 1.1 s, bench reports)."""
    if not user.has_perm(services.VIEW) or user.company_id is None:
        return []
    people = scope_q(user, company="company", owner="owner", advisor="advisor", through=through_customer())
    return [
        VisitTask.objects.filter(people),
        VisitTask.objects.filter(company_id=user.company_id, assignee_id=user.pk).exclude(people),
    ]


def kpi_company_tasks(company_id: int) -> QuerySet[VisitTask]:
    """Every visit task of the company: what the month counts count (crm.kpis.counting)."""
    return VisitTask.objects.filter(company_id=company_id)


def tasks_assigned_to(user: User) -> QuerySet[VisitTask]:
    """The tasks assigned to the user: always in the user's scope (``visit_scope_q``), so
    the work queue reads them by the open-task index alone, without the scope's join to
    the customers (which made PostgreSQL join and sort all of a consultant's 5,000 open
    tasks for a page of 25: 41 ms instead of under 1 ms, bench visits)."""
    if not user.has_perm(services.VIEW) or user.company_id is None:
        return VisitTask.objects.none()
    return VisitTask.objects.filter(company_id=user.company_id, assignee_id=user.pk)


def get_task_for_user(user: User, pk: int) -> VisitTask:
    task = (
        tasks_visible_to(user)
        .select_related(
            "customer", "project", "plan", "campaign", "repair", "assignee", "deal", "deal__unit", "completed_by"
        )
        .filter(pk=pk)
        .first()
    )
    if task is None:
        raise Http404("回访任务不存在或无权查看")
    return task


def task_events(task: VisitTask) -> QuerySet[VisitEvent]:
    return task.events.select_related("actor").order_by("at", "id")


# ---------------------------------------------------------------- the list's filters

STATE_FILTERS = {
    "today": "今日待回访",
    "overdue": "已逾期",
    "upcoming": "即将开始",
    "open": "未完成",
    "mine": "我的未完成",
    "unassigned": "待分派",
    "done": "已完成",
    "unreachable": "多次未接通",
    "closed": "已结束",
    "escalated_leader": "逾期督办（组长）",
    "escalated_director": "逾期督办（主任）",
}


def open_q() -> Q:
    return Q(status__in=list(VisitTask.OPEN))


def today_q(today: date) -> Q:
    """Open, started, not late, and not waiting for a retry later than today: the calls to
    make today."""
    end_of_today = local_midnight(today + timedelta(days=1))
    ready = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=end_of_today)
    return open_q() & Q(start_on__lte=today, due_on__gte=today) & ready


def overdue_q(today: date) -> Q:
    return open_q() & Q(due_on__lt=today)


def upcoming_q(today: date) -> Q:
    """Open and not for today: starting within a week, or retried on a later day."""
    end_of_today = local_midnight(today + timedelta(days=1))
    later = Q(start_on__gt=today, start_on__lte=today + timedelta(days=UPCOMING_DAYS))
    retry_later = Q(next_attempt_at__gte=end_of_today, due_on__gte=today)
    return open_q() & (later | retry_later)


def state_q(state: str, *, user: User, today: date) -> Q:
    if state == "today":
        return today_q(today)
    if state == "overdue":
        return overdue_q(today)
    if state == "upcoming":
        return upcoming_q(today)
    if state == "open":
        return open_q()
    if state == "mine":
        return open_q() & Q(assignee=user)
    if state == "unassigned":
        return open_q() & Q(assignee__isnull=True)
    if state == "done":
        return Q(status=Status.DONE)
    if state == "unreachable":
        return Q(status=Status.UNREACHABLE)
    if state == "closed":
        return ~open_q()
    if state == "escalated_leader":
        return open_q() & Q(escalation_level=1, assignee__team__leader_id=user.pk)
    if state == "escalated_director":
        return open_q() & Q(escalation_level=2)
    return Q()


def my_tasks(user: User, state: str, *, today: date) -> QuerySet[VisitTask]:
    """The user's own queue (assigned to them) in one of today / overdue / upcoming."""
    return tasks_visible_to(user).filter(state_q(state, user=user, today=today), assignee=user)


# ---------------------------------------------------------------- issues raised in visits

ISSUE_FILTERS = {
    "open": "未关闭",
    "working": "待处理和处理中",
    "late": "超过承诺日期",
    "resolved": "已解决待告知客户",
    "closed": "已关闭",
}


WORKING_ISSUE = (VisitIssue.Status.OPEN, VisitIssue.Status.IN_PROGRESS)


def department_q(user: User) -> Q:
    """The issues routed to the user's department (``User.department``): the department's
    own queue. Being routed there is what lets its members see and work them, whatever
    their roles (工程部's engineers have no visit role)."""
    if user.company_id is None or user.department_id is None or not user.is_active:
        return NOTHING
    return Q(company_id=user.company_id, department_id=user.department_id)


def issue_scope_q(user: User) -> Q:
    """The same rule as the tasks (the customer's owner and advisor, the project), the
    issues the user raised, and those routed to the user's department."""
    if user.company_id is None:
        return NOTHING
    if not user.has_perm(services.VIEW_ISSUES):
        return department_q(user)
    in_scope = scope_q(
        user, company="company", owner="owner", advisor="advisor", project="project", through=through_customer()
    )
    return in_scope | Q(company_id=user.company_id, raised_by_id=user.pk) | department_q(user)


def issues_visible_to(user: User) -> QuerySet[VisitIssue]:
    return VisitIssue.objects.filter(issue_scope_q(user))


def department_issues(user: User) -> QuerySet[VisitIssue]:
    """The department's queue: its issues, open first by promised date."""
    return VisitIssue.objects.filter(department_q(user))


def get_issue_for_user(user: User, pk: int) -> VisitIssue:
    issue = (
        issues_visible_to(user)
        .select_related(
            "customer",
            "project",
            "category",
            "department",
            "raised_by",
            "task",
            "task__assignee",
            "complaint",
            "converted_by",
        )
        .filter(pk=pk)
        .first()
    )
    if issue is None:
        raise Http404("回访问题不存在或无权查看")
    return issue


def issue_events(issue: VisitIssue) -> QuerySet[IssueEvent]:
    return issue.events.select_related("actor").order_by("at", "id")


def to_inform(user: User) -> QuerySet[VisitIssue]:
    """Resolved issues waiting for this visitor to tell the customer."""
    mine = Q(raised_by_id=user.pk) | Q(task__assignee_id=user.pk)
    return issues_visible_to(user).filter(mine, status=VisitIssue.Status.RESOLVED)


def issue_state_q(state: str, *, today: date) -> Q:
    IssueStatus = VisitIssue.Status
    if state == "open":
        return Q(status__in=list(VisitIssue.OPEN))
    if state == "working":
        return Q(status__in=[IssueStatus.OPEN, IssueStatus.IN_PROGRESS])
    if state == "late":
        return Q(status__in=[IssueStatus.OPEN, IssueStatus.IN_PROGRESS, IssueStatus.RESOLVED], promised_on__lt=today)
    if state == "resolved":
        return Q(status=IssueStatus.RESOLVED)
    if state == "closed":
        return Q(status=IssueStatus.CLOSED)
    return Q()


# ---------------------------------------------------------------- repairs and the re-check


def repair_scope_q(user: User) -> Q:
    """The tasks' rule over the repair's company, customer (owner, advisor) and project."""
    from crm.visits import repairs

    if not user.has_perm(repairs.VIEW) or user.company_id is None:
        return NOTHING
    return scope_q(
        user, company="company", owner="owner", advisor="advisor", project="project", through=through_customer()
    )


def repairs_visible_to(user: User) -> QuerySet[Repair]:
    return Repair.objects.filter(repair_scope_q(user))


def samples_visible_to(user: User) -> QuerySet[RecheckSample]:
    if not user.has_perm("visits.view_rechecksample") or user.company_id is None:
        return RecheckSample.objects.none()
    return RecheckSample.objects.filter(company_id=user.company_id)


def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    """Campaigns of the user's company (whoever manages campaigns)."""
    if not user.has_perm("visits.manage_campaign") or user.company_id is None:
        return Campaign.objects.none()
    return Campaign.objects.filter(company_id=user.company_id)


def get_campaign_for_user(user: User, pk: int) -> Campaign:
    campaign = campaigns_visible_to(user).select_related("project").filter(pk=pk).first()
    if campaign is None:
        raise Http404("专项回访不存在或无权查看")
    return campaign


# ---------------------------------------------------------------- supervision (回访督查)


def flags_visible_to(user: User) -> QuerySet[ReviewFlag]:
    """Flags on tasks a reviewer can see, and the visitor's own flags."""
    mine = Q(company_id=user.company_id or 0, visitor_id=user.pk)
    if user.has_perm("visits.review_visits"):
        return ReviewFlag.objects.filter(Q(task__in=tasks_visible_to(user)) | mine)
    return ReviewFlag.objects.filter(mine)


def flags_of_task(user: User, task: VisitTask) -> QuerySet[ReviewFlag]:
    return flags_visible_to(user).filter(task=task).select_related("flagged_by", "visitor").order_by("-flagged_at")


def get_flag_for_user(user: User, pk: int) -> ReviewFlag:
    flag = flags_visible_to(user).select_related("task").filter(pk=pk).first()
    if flag is None:
        raise Http404("督查标记不存在或无权查看")
    return flag


def open_flags_for_visitor(user: User) -> QuerySet[ReviewFlag]:
    """The visitor's flags waiting for an answer (the workbench card)."""
    return ReviewFlag.objects.filter(company_id=user.company_id or 0, visitor_id=user.pk, status=ReviewFlag.Status.OPEN)


# ---------------------------------------------------------------- report packs (crm.reports)
#
# The report packs are snapshots of a company or one project for a period, made by a job
# with no user: these reads take the pack's scope; crm.reports decides who sees the pack.


def _pack_scope(company_id: int, project_id: int | None) -> Q:
    q = Q(company_id=company_id)
    return q & Q(project_id=project_id) if project_id is not None else q


def visit_figures_for_period(
    company_id: int, project_id: int | None, first: date, last: date, *, channel: str
) -> dict[str, Any]:
    """回访情况 of one channel (电话 or 面访) for [first, last]: over the tasks due in the
    period (the monthly statistics' definition), how many, done, reached, unreachable,
    still open, the average satisfaction of the done ones and its distribution (1–5);
    and per purpose the same counts. A pack needing several channels calls
    ``visit_figures_by_channel`` once instead."""
    return visit_figures_by_channel(company_id, project_id, first, last, channels=(channel,))[channel]


def visit_figures_by_channel(
    company_id: int, project_id: int | None, first: date, last: date, *, channels: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """``visit_figures_for_period`` of each of ``channels`` from one grouped statement
    (``visit_groups``): one pass over the period's tasks instead of three per channel
    (bench reports: 1,250,000 tasks due in a month)."""
    return visit_figures_from_groups(visit_groups(company_id, project_id, first, last, channels=channels), channels)


def visit_groups(
    company_id: int,
    project_id: int | None,
    first: date,
    last: date,
    *,
    channels: Sequence[str] | None = None,
    by: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """The tasks due in [first, last] (not cancelled) counted per (channel, purpose, status,
    reached, satisfaction): a few hundred groups however many tasks. ``channels``: only
    these (None: every channel); ``by``: fields grouped on first, each row led by them."""
    from django.db.models import Count

    tasks = VisitTask.objects.filter(_pack_scope(company_id, project_id), due_on__gte=first, due_on__lte=last)
    if channels is not None:
        tasks = tasks.filter(channel__in=list(channels))
    return list(
        tasks.exclude(status=Status.CANCELLED)
        .values_list(*by, "channel", "purpose", "status", "reached", "satisfaction")
        .annotate(n=Count("pk"))
        .order_by()
    )


def visit_groups_by_project_day(company_id: int, first: date, last: date) -> list[tuple[Any, ...]]:
    """``visit_groups`` of every project and due day in [first, last]: (project_id, due_on,
    channel, purpose, status, reached, satisfaction, tasks) — what the KPI counting job
    keeps per day (crm.kpis.counting)."""
    return visit_groups(company_id, None, first, last, by=("project_id", "due_on"))


def visit_figures_from_groups(groups: Iterable[Sequence[Any]], channels: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each channel's figures (``visit_figures_for_period``) summed from ``visit_groups``
    rows (a channel not in ``channels`` is left out)."""
    open_states = set(VisitTask.OPEN)
    names = ("due", "done", "reached", "unreachable", "open")

    def counts(status: str, reached: bool, n: int) -> tuple[int, ...]:
        return (
            n,
            n if status == Status.DONE else 0,
            n if reached else 0,
            n if status == Status.UNREACHABLE else 0,
            n if status in open_states else 0,
        )

    totals: dict[str, list[int]] = {c: [0] * len(names) for c in channels}
    purposes: dict[str, dict[str, list[int]]] = {c: {} for c in channels}
    ratings: dict[str, dict[int, int]] = {c: dict.fromkeys(range(1, 6), 0) for c in channels}
    rated: dict[str, list[int]] = {c: [0, 0] for c in channels}  # (tasks, sum of ratings)
    for channel, purpose, status, reached, satisfaction, n in groups:
        if channel not in totals:
            continue
        row = counts(status, reached, n)
        totals[channel] = [a + b for a, b in zip(totals[channel], row, strict=True)]
        bucket = purposes[channel].setdefault(purpose, [0] * len(names))
        purposes[channel][purpose] = [a + b for a, b in zip(bucket, row, strict=True)]
        if status == Status.DONE and satisfaction is not None:
            rated[channel][0] += n
            rated[channel][1] += satisfaction * n
            if satisfaction in ratings[channel]:
                ratings[channel][satisfaction] += n
    result = {}
    for channel in channels:
        tasks, total = rated[channel]
        result[channel] = {
            **dict(zip(names, totals[channel], strict=True)),
            "satisfaction": round(total / tasks, 2) if tasks else None,
            "ratings": ratings[channel],
            "by_purpose": [
                {"purpose": p, **dict(zip(names, v, strict=True))} for p, v in sorted(purposes[channel].items())
            ],
        }
    return result


def visit_records_for_period(
    company_id: int, project_id: int | None, first: date, last: date, *, channel: str, with_opinions_only: bool = False
) -> list[dict[str, Any]]:
    """The visits of one channel completed in [first, last] (local dates), oldest first:
    the record of 客户面访情况 and the opinions of 电话回访的分析内容."""
    rows = VisitTask.objects.filter(
        _pack_scope(company_id, project_id),
        channel=channel,
        status=Status.DONE,
        completed_at__gte=local_midnight(first),
        completed_at__lt=local_midnight(last + timedelta(days=1)),
    )
    if with_opinions_only:
        rows = rows.exclude(opinions="")
    return [
        {
            "completed_at": t.completed_at,
            "customer_number": t.customer.number,
            "customer_name": t.customer.name,
            "project": t.project.name,
            "assignee": str(t.assignee) if t.assignee else "",
            "purpose": t.purpose,
            "satisfaction": t.satisfaction,
            "opinions": t.opinions,
        }
        for t in rows.select_related("customer", "project", "assignee").order_by("completed_at", "id")
    ]


def visit_issues_for_period(company_id: int, project_id: int | None, first: date, last: date) -> list[dict[str, Any]]:
    """Issues customers raised in visits registered in [first, last] (local dates), oldest
    first, with the department and the status when read."""
    rows = (
        VisitIssue.objects.filter(
            _pack_scope(company_id, project_id),
            raised_at__gte=local_midnight(first),
            raised_at__lt=local_midnight(last + timedelta(days=1)),
        )
        .select_related("customer", "project", "category", "department")
        .order_by("raised_at", "id")
    )
    return [
        {
            "raised_at": i.raised_at,
            "customer_number": i.customer.number,
            "customer_name": i.customer.name,
            "project": i.project.name,
            "category": i.category.name,
            "department": i.department.name,
            "description": i.description,
            "status": i.get_status_display(),
            "resolution": i.resolution,
        }
        for i in rows
    ]


def visit_month_for_scope(
    company_id: int,
    project_id: int | None,
    year: int,
    month: int,
    *,
    counted: Sequence[dict[str, Any]] | None = None,
) -> list[stats.VisitorMonth]:
    """The monthly visit statistics (crm.visits.stats) of a company or one project;
    ``counted``: the tasks already counted per visitor (``stats.visitor_counts`` rows, kept
    by the KPI job for an earlier month, crm.kpis.counting) instead of counting them."""
    from crm.visits.stats import monthly_of, visitor_months

    scope = _pack_scope(company_id, project_id)
    if counted is not None:
        return visitor_months(counted, VisitIssue.objects.filter(scope), year, month, company_id=company_id)
    return monthly_of(VisitTask.objects.filter(scope), VisitIssue.objects.filter(scope), year, month)


def visitor_counts_by_project_month(company_id: int, first: date, last: date) -> list[dict[str, Any]]:
    """``stats.visitor_counts`` of the company's tasks due in [first, last] per project and
    due month (``kpi_month``): what the KPI job keeps (crm.kpis.counting)."""
    from django.db.models.functions import TruncMonth

    from crm.visits.stats import visitor_counts

    tasks = VisitTask.objects.filter(company_id=company_id, due_on__gte=first, due_on__lte=last)
    return visitor_counts(tasks.annotate(kpi_month=TruncMonth("due_on")), "project_id", "kpi_month")


# ---------------------------------------------------------------- KPI measures (crm.kpis)

# A KPI's figure and the list behind it use the same condition (docs/kpis.md): crm.kpis
# counts ``Count("pk", filter=kpi_q(...))`` over ``tasks_visible_to(user)``; the task list,
# given ``?measure=…&start=…&end=…`` (and ``assignee=`` for a scorecard), filters the same
# rows. A task belongs to the period of its due date (as in crm.visits.stats, and read off
# the index visit_company_status); cancelled tasks count nowhere.
KPI_MEASURES: dict[str, str] = {
    "due": "到期回访（不含取消）",
    "done": "已完成",
    "on_time": "按期完成（完成日不晚于期限）",
    "ended": "已结束通话（联系上或多次未接通）",
    "reached": "联系上客户",
    "rated": "已评满意度",
    "satisfied": "满意（4–5 分）",
}


def kpi_condition_q(measure: str) -> Q:
    """The measure's condition without its period."""
    done = Q(status=Status.DONE)
    conditions = {
        "due": Q(),
        "done": done,
        "on_time": done & Q(completed_at__date__lte=F("due_on")),
        "ended": Q(reached=True) | Q(status=Status.UNREACHABLE),
        "reached": Q(reached=True),
        "rated": done & Q(satisfaction__isnull=False),
        "satisfied": done & Q(satisfaction__gte=4),
    }
    if measure not in conditions:
        return NOTHING
    return ~Q(status=Status.CANCELLED) & conditions[measure]


def kpi_period_q(start: date, end: date) -> Q:
    """Due on the days ``start``..``end`` (inclusive)."""
    return Q(due_on__gte=start, due_on__lte=end)


def kpi_q(measure: str, *, start: date, end: date, assignee_id: int | None = None) -> Q:
    q = kpi_period_q(start, end) & kpi_condition_q(measure)
    if assignee_id is not None:
        q &= Q(assignee_id=assignee_id)
    return q


def kpi_rows(
    user: User, measure: str, *, start: date, end: date, assignee_id: int | None = None
) -> QuerySet[VisitTask]:
    """The rows behind a measure in the user's visit scope (what the task list shows)."""
    return tasks_visible_to(user).filter(kpi_q(measure, start=start, end=end, assignee_id=assignee_id))


# ---------------------------------------------------------------- improvement plans


def improvement_plans(consultant_ids: Iterable[int], month: date) -> dict[int, ImprovementPlan]:
    """The improvement plans of the month of ``month`` by consultant id (with the writer),
    for consultants the caller already found in the user's scope."""
    rows = ImprovementPlan.objects.filter(consultant_id__in=list(consultant_ids), month=month.replace(day=1))
    return {p.consultant_id: p for p in rows.select_related("updated_by")}


def improvement_plan_writable_ids(user: User, consultant_ids: Iterable[int]) -> set[int]:
    """Which of ``consultant_ids`` the user may write the improvement plan of
    (crm.accounts.access.improvement_plan_staff_q), in one query."""
    from crm.accounts.models import User as UserModel

    ids = list(consultant_ids)
    if not ids:
        return set()
    return set(UserModel.objects.filter(improvement_plan_staff_q(user), pk__in=ids).values_list("pk", flat=True))
