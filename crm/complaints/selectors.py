"""Reads of complaints, scoped to the user.

The scope is the one access rule (crm.accounts.access.scope_q) over the complaint's
paths: its company, the linked customer's owner and VIP advisor, and its own project. A
complaint with no linked customer has no owner or advisor, so it is seen through its
project (PROJECT scope) or the company (COMPANY scope) only; Django turns the customer
joins into LEFT OUTER joins inside the OR, so such a row is not lost. Outside the scope a
complaint is a 404, never a 403.

The assignee is the exception to the scope: whoever a complaint is dispatched to (a
category owner in another project, a finance owner of 付款) sees and handles it, and only
it, whatever their data scope says (``assigned_q``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Case, CharField, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.http import Http404

from crm.accounts.access import NOTHING, project_q, scope_q, sees_company
from crm.accounts.models import Department
from crm.complaints import analysis, consultations, issues, media, services
from crm.complaints.models import (
    Category,
    Complaint,
    ComplaintEvent,
    Consultation,
    CustomerIssue,
    InboundMail,
    IssueEscalation,
    IssueEvent,
    IssueHandOff,
    MediaCheck,
    MediaFinding,
    Medium,
)
from crm.core.dbfunctions import ChinaMinute
from crm.customers.selectors import through_customer
from crm.lib.dates import local_day, local_midnight
from crm.projects.models import Project

if TYPE_CHECKING:
    from crm.accounts.models import User

Status = Complaint.Status


def assigned_q(user: User) -> Q:
    """Complaints assigned to the user (an active member of a company): theirs to handle
    even outside their data scope. Nothing else is opened by it."""
    if not user.is_authenticated or not user.is_active or user.company_id is None:
        return NOTHING
    return Q(assignee_id=user.pk, company_id=user.company_id)


def complaint_scope_q(user: User) -> Q:
    if not user.has_perm(services.VIEW):
        return NOTHING
    scope = scope_q(
        user, company="company", owner="owner", advisor="advisor", project="project", through=through_customer()
    )
    if sees_company(user):
        return scope  # the assignee's complaints are among the company's already
    return scope | assigned_q(user)


def complaints_visible_to(user: User) -> QuerySet[Complaint]:
    return Complaint.objects.filter(complaint_scope_q(user))


def get_complaint_for_user(user: User, pk: int) -> Complaint:
    complaint = (
        complaints_visible_to(user)
        .select_related("project", "unit", "customer", "category", "assignee", "registered_by", "repeat_of")
        .filter(pk=pk)
        .first()
    )
    if complaint is None:
        raise Http404("投诉不存在或无权查看")
    return complaint


def complaint_events(complaint: Complaint) -> QuerySet[ComplaintEvent]:
    return complaint.events.select_related("actor").order_by("at", "id")


def categories_for(user: User) -> QuerySet[Category]:
    return Category.objects.filter(company_id=user.company_id or 0, is_active=True)


def projects_for_intake(user: User) -> QuerySet[Project]:
    """Projects a user may register a complaint for: the projects they can see complaints
    of (a COMPANY scope: every project of the company)."""
    return Project.objects.filter(project_q(user))


# ---------------------------------------------------------------- the list's filters

STATE_FILTERS = {
    "open": "处理中（未结束）",
    "breached": "已超时",
    "due_today": "今天到期",
    "plan_pending": "方案待审批",
    "escalated": "已升级",
    "dissatisfied": "客户评价不满意",
    "mine": "我负责的",
    "unsorted": "待分类（网上投诉）",
    "repeat": "重复投诉",
    "closed": "已结束",
}


def open_q() -> Q:
    return Q(status__in=list(Complaint.OPEN))


def breached_q(now: datetime) -> Q:
    """Open and past a deadline: not acknowledged in time, or not resolved in time (a
    waiting complaint counts when it was already late when the clock stopped)."""
    first_response = Q(acknowledged_at__isnull=True, first_response_due_at__lt=now)
    running = Q(paused_at__isnull=True, resolution_due_at__lt=now)
    paused = Q(paused_at__isnull=False, resolution_due_at__lt=F("paused_at"))
    return open_q() & (first_response | running | paused)


def due_today_q(now: datetime) -> Q:
    """Open, the clock running, not late yet and due by the end of today."""
    end_of_today = local_midnight(local_day(now) + timedelta(days=1))
    return open_q() & Q(paused_at__isnull=True, resolution_due_at__gte=now, resolution_due_at__lte=end_of_today)


def unsorted_q() -> Q:
    """Filed without a category (the public page, an integration): waiting as 已登记 for
    the director to choose the category when dispatching."""
    return Q(status=Status.REGISTERED, category__name=services.UNSORTED)


def state_q(state: str, *, user: User, now: datetime) -> Q:
    if state == "open":
        return open_q()
    if state == "breached":
        return breached_q(now)
    if state == "due_today":
        return due_today_q(now)
    if state == "plan_pending":
        return Q(status=Status.PLAN_PROPOSED)
    if state == "escalated":
        return open_q() & Q(escalation_level__gte=1)
    if state == "dissatisfied":
        # Rated low through the survey link and not yet reopened or confirmed by phone.
        return Q(status=Status.RESOLVED, dissatisfied_at__isnull=False)
    if state == "mine":
        return open_q() & Q(assignee=user)
    if state == "unsorted":
        return unsorted_q()
    if state == "repeat":
        return Q(is_repeat=True)
    if state == "closed":
        return ~open_q()
    return Q()


# ================================================================ consultations, issues, media
# The same rule (scope_q) over each model's own paths. A first responder always sees the
# issues they own, even outside their customer scope (they must call the customer back).


def consultations_visible_to(user: User) -> QuerySet[Consultation]:
    if not user.has_perm(consultations.VIEW):
        return Consultation.objects.none()
    return Consultation.objects.filter(
        scope_q(
            user, company="company", owner="owner", advisor="advisor", project="project", through=through_customer()
        )
    )


def get_consultation_for_user(user: User, pk: int) -> Consultation:
    row = (
        consultations_visible_to(user)
        .select_related("topic", "project", "customer", "answered_by", "complaint")
        .filter(pk=pk)
        .first()
    )
    if row is None:
        raise Http404("咨询记录不存在或无权查看")
    return row


def issue_scope_q(user: User) -> Q:
    if not user.has_perm(issues.VIEW):
        return NOTHING
    in_scope = scope_q(
        user, company="company", owner="owner", advisor="advisor", project="project", through=through_customer()
    )
    return in_scope | Q(company_id=user.company_id or 0, first_responder_id=user.pk)


def issues_visible_to(user: User) -> QuerySet[CustomerIssue]:
    return CustomerIssue.objects.filter(issue_scope_q(user))


def get_issue_for_user(user: User, pk: int) -> CustomerIssue:
    row = (
        issues_visible_to(user)
        .select_related("project", "customer", "first_responder", "consultation", "complaint", "media_finding")
        .filter(pk=pk)
        .first()
    )
    if row is None:
        raise Http404("首问事项不存在或无权查看")
    return row


def get_hand_off(issue: CustomerIssue, pk: int) -> IssueHandOff:
    """A hand-off of an issue already read through ``get_issue_for_user``."""
    row = issue.hand_offs.select_related("department", "to_user", "issue").filter(pk=pk).first()
    if row is None:
        raise Http404("转交记录不存在")
    return row


ISSUE_STATE_FILTERS = {
    "callback_mine": "我待回复客户",
    "mine": "我是首问责任人（未结）",
    "open": "未结",
    "handed_off": "已转部门",
    "overdue": "部门超时未答复",
    "escalated": "部门超时已投诉",
    "closed": "已结束",
}


def issue_state_q(state: str, *, user: User, now: datetime) -> Q:
    open_ = Q(status__in=list(CustomerIssue.OPEN_STATUSES))
    if state == "callback_mine":
        return Q(status=CustomerIssue.Status.CALLBACK_DUE, first_responder_id=user.pk)
    if state == "mine":
        return open_ & Q(first_responder_id=user.pk)
    if state == "open":
        return open_
    if state == "handed_off":
        return Q(status=CustomerIssue.Status.HANDED_OFF)
    if state == "overdue":
        pending_late = IssueHandOff.objects.filter(issue=OuterRef("pk"), answered_at__isnull=True, respond_by__lt=now)
        return open_ & Q(Exists(pending_late))
    if state == "escalated":
        unanswered = IssueEscalation.objects.filter(issue=OuterRef("pk"), hand_off__answered_at__isnull=True)
        return open_ & Q(Exists(unanswered))
    if state == "closed":
        return ~open_
    return Q()


def issue_events(issue: CustomerIssue) -> QuerySet[IssueEvent]:
    return issue.events.select_related("actor").order_by("at", "id")


def findings_visible_to(user: User) -> QuerySet[MediaFinding]:
    """Media findings are public text about the company: the whole company's, for whoever
    works on media (no customer data is attached)."""
    if not user.has_perm(media.VIEW):
        return MediaFinding.objects.none()
    return MediaFinding.objects.filter(company_id=user.company_id or 0)


def get_finding_for_user(user: User, pk: int) -> MediaFinding:
    row = (
        findings_visible_to(user)
        .select_related("medium", "project", "recorded_by", "responded_by", "complaint")
        .filter(pk=pk)
        .first()
    )
    if row is None:
        raise Http404("媒体监督记录不存在或无权查看")
    return row


def media_for(user: User) -> QuerySet[Medium]:
    return Medium.objects.filter(company_id=user.company_id or 0, is_active=True)


def departments_for(user: User) -> QuerySet[Department]:
    return Department.objects.filter(company_id=user.company_id or 0).order_by("name")


def later_repeats(complaint: Complaint, user: User) -> QuerySet[Complaint]:
    """The complaints that repeat this one (their ``repeat_of``), as far as the user may see."""
    return complaints_visible_to(user).filter(repeat_of=complaint).order_by("registered_at", "id")


def held_mail_count(user: User) -> int:
    """Complaint mails held for the director (unreadable or not registrable): shown on the
    list to those who manage complaints, with a link to the admin list of them."""
    if not user.has_perm(services.MANAGE) or user.company_id is None:
        return 0
    return InboundMail.objects.filter(company_id=user.company_id, status=InboundMail.Status.HELD).count()


def inbound_mails_for(user: User, status: str = "") -> QuerySet[InboundMail]:
    """The complaint mailbox's records of the user's company, for those who manage
    complaints (held mails carry the sender and the raw mail: nobody else sees them)."""
    if not user.has_perm(services.MANAGE) or user.company_id is None:
        return InboundMail.objects.none()
    rows = InboundMail.objects.filter(company_id=user.company_id).select_related("complaint", "handled_by")
    if status in InboundMail.Status.values:
        rows = rows.filter(status=status)
    return rows.order_by("-received_at", "-id")


def get_inbound_mail_for_user(user: User, pk: int) -> InboundMail:
    mail = inbound_mails_for(user).filter(pk=pk).first()
    if mail is None:
        raise Http404("邮件不存在或无权查看")
    return mail


# ---------------------------------------------------------------- for the apps above

# The models other apps name in annotations (crm.visits converts issues into complaints and
# filters campaign audiences by category): they import complaints' services and selectors
# only (tests/test_layering.py), so the types are given here.
ComplaintModel = Complaint
CategoryModel = Category


def customer_ids_with_complaints(
    user: User,
    *,
    category_ids: list[int] | tuple[int, ...] = (),
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[Complaint, int]:
    """The ids of customers with a complaint (in ``user``'s complaint scope, not cancelled)
    of one of the categories, registered between the two dates (inclusive, China time) —
    a subquery for another app's filter (a special visit campaign's audience)."""
    rows = complaints_visible_to(user).filter(customer__isnull=False).exclude(status=Status.CANCELLED)
    if category_ids:
        rows = rows.filter(category_id__in=list(category_ids))
    if since is not None:
        rows = rows.filter(registered_at__gte=local_midnight(since))
    if until is not None:
        rows = rows.filter(registered_at__lt=local_midnight(until + timedelta(days=1)))
    return rows.order_by().values_list("customer_id", flat=True).distinct()


# ---------------------------------------------------------------- report packs (crm.reports)
#
# The report packs are snapshots of a company or one project for a period, made by a job
# with no user: these reads take the pack's scope; crm.reports decides who sees the pack.


def _period(first: date, last: date) -> tuple[datetime, datetime]:
    return local_midnight(first), local_midnight(last + timedelta(days=1))


def complaints_for_period(company_id: int, project_id: int | None, first: date, last: date) -> dict[str, Any]:
    """客户投诉情况 for [first, last] (local dates): the complaints registered in the period
    (oldest first) with how each stood at the period's end (resolved, cancelled or still
    being handled: read from the timestamps, so a later change does not rewrite the past),
    how many of them were resolved and how many complaints were open at the period's end.
    A row's ``registered_at`` is China-time text (``YYYY-MM-DD HH:MM``), as the pack shows it."""
    start, end = _period(first, last)
    scoped = Complaint.objects.filter(company_id=company_id)
    if project_id is not None:
        scoped = scoped.filter(project_id=project_id)
    # Plain values, not model instances: a month of a large company lists tens of
    # thousands of complaints (bench reports: 26,000 a month at 300,000 a year).
    channels = dict(Complaint._meta.get_field("channel").flatchoices)
    # The state at the period's end worked out by the database: two timestamps a row fewer
    # to load (tens of thousands a month).
    state_at_end = Case(
        When(cancelled_at__lt=end, then=Value("已撤销")),
        When(resolved_at__lt=end, then=Value("已处理")),
        default=Value("处理中"),
        output_field=CharField(),
    )
    rows = [
        {
            "number": number,
            "registered_at": registered_at,
            "project": project,
            "category": category,
            "channel": channels.get(channel, channel),
            "content": content,
            "assignee": (display or username or ""),
            "state": state,
            "satisfaction": rating,
        }
        for number, registered_at, project, category, channel, content, display, username, state, rating in (
            scoped.filter(registered_at__gte=start, registered_at__lt=end)
            .annotate(state_at_end=state_at_end, registered=ChinaMinute("registered_at"))
            .order_by("registered_at", "id")
            .values_list(
                "number",
                "registered",
                "project__name",
                "category__name",
                "channel",
                "content",
                "assignee__display_name",
                "assignee__username",
                "state_at_end",
                "satisfaction",
            )
        )
    ]
    return {
        "rows": rows,
        "open_at_end": scoped.filter(analysis._open_at_q(end)).count(),
        "resolved_in_period": scoped.filter(resolved_at__gte=start, resolved_at__lt=end).count(),
    }


def customer_issues_for_period(
    company_id: int, project_id: int | None, first: date, last: date
) -> list[dict[str, Any]]:
    """客户反映的问题 received by 首问负责 staff in [first, last] (local dates), oldest first,
    with their state at the period's end."""
    start, end = _period(first, last)
    scoped = CustomerIssue.objects.filter(company_id=company_id, received_at__gte=start, received_at__lt=end)
    if project_id is not None:
        scoped = scoped.filter(project_id=project_id)
    rows = []
    for i in scoped.select_related("project").order_by("received_at", "id"):
        if i.cancelled_at is not None and i.cancelled_at < end:
            state = "已撤销"
        elif i.closed_at is not None and i.closed_at < end:
            state = "已回复结案"
        else:
            state = "处理中"
        rows.append(
            {
                "number": i.number,
                "received_at": i.received_at,
                "project": i.project.name,
                "subject": i.subject,
                "description": i.description,
                "state": state,
            }
        )
    return rows


def media_watch_for_period(company_id: int, project_id: int | None, first: date, last: date) -> dict[str, Any]:
    """媒体监控情况 for [first, last]: the weekly browsing of the fixed media (company-wide:
    media are not per project) in the weeks that start in the period, and the findings
    recorded in it (a project's pack: that project's findings), oldest first."""
    start, end = _period(first, last)
    checks = [
        {
            "week_on": c.week_on,
            "medium": c.medium.name,
            "checked_by": str(c.checked_by),
            "checked_at": c.checked_at,
            "note": c.note,
        }
        for c in MediaCheck.objects.filter(company_id=company_id, week_on__gte=first, week_on__lte=last)
        .select_related("medium", "checked_by")
        .order_by("week_on", "medium__name", "id")
    ]
    findings_qs = MediaFinding.objects.filter(company_id=company_id, found_at__gte=start, found_at__lt=end)
    if project_id is not None:
        findings_qs = findings_qs.filter(project_id=project_id)
    findings = [
        {
            "found_at": f.found_at,
            "medium": f.medium.name,
            "project": f.project.name if f.project else "",
            "sentiment": f.get_sentiment_display(),
            "summary": f.summary,
            "responded": f.responded_at is not None and f.responded_at < end,
            "complaint": f.complaint.number if f.complaint else "",
        }
        for f in findings_qs.select_related("medium", "project", "complaint").order_by("found_at", "id")
    ]
    return {
        "active_media": Medium.objects.filter(company_id=company_id, is_active=True).count(),
        "checks": checks,
        "findings": findings,
    }


def complaint_analysis_for_scope(
    company_id: int, month: date, *, now: datetime, project: Project | None = None
) -> analysis.MonthlyReport:
    """The monthly complaint analysis (crm.complaints.analysis) of a company or one project."""
    return analysis.monthly_report_for_company(company_id, month, now=now, project=project)


# ---------------------------------------------------------------- KPI measures (crm.kpis)

# A KPI's figure and the list behind it use the same condition (docs/kpis.md): crm.kpis
# counts ``Count("pk", filter=kpi_q(...))`` over ``complaints_visible_to(user)``, and the
# complaint list, given ``?measure=…&start=…&end=…``, filters the same rows with the same
# Q — so a figure on the dashboard and the rows behind it always agree. A complaint belongs
# to the period in which it was registered (local days); cancelled ones count nowhere.
KPI_MEASURES: dict[str, str] = {
    "registered": "登记投诉（不含撤销）",
    "first_response_on_time": "首次响应及时",
    "resolved_on_time": "按时处理完成",
    "rated": "已评价满意度",
    "satisfied": "满意（4–5 分）",
    "repeat": "重复投诉",
}
KPI_PERIOD_FIELD = "registered_at"


def kpi_condition_q(measure: str) -> Q:
    """The measure's condition without its period (a KPI's trend groups it by month)."""
    base = ~Q(status=Status.CANCELLED)
    conditions = {
        "registered": Q(),
        "first_response_on_time": Q(acknowledged_at__isnull=False, acknowledged_at__lte=F("first_response_due_at")),
        "resolved_on_time": Q(resolved_at__isnull=False, resolved_at__lte=F("resolution_due_at")),
        "rated": Q(satisfaction__isnull=False),
        "satisfied": Q(satisfaction__gte=4),
        "repeat": Q(is_repeat=True),
    }
    if measure not in conditions:
        return NOTHING
    return base & conditions[measure]


def kpi_period_q(start: date, end: date) -> Q:
    """Registered on the local days ``start``..``end`` (inclusive)."""
    return Q(registered_at__gte=local_midnight(start), registered_at__lt=local_midnight(end + timedelta(days=1)))


def kpi_q(measure: str, *, start: date, end: date, owner_id: int | None = None) -> Q:
    """One measure in one period; ``owner_id``: only complaints of that consultant's
    customers (the scorecard's 被投诉)."""
    q = kpi_period_q(start, end) & kpi_condition_q(measure)
    if owner_id is not None:
        q &= Q(customer__owner_id=owner_id)
    return q


def kpi_base(user: User) -> QuerySet[Complaint]:
    """The complaints a KPI counts for the user: the list's rows for whoever may open the
    list (so a figure and its list agree); for anyone else (a consultant's own figures, a
    市场专员) the same data-scope rule over the complaint's paths — counts only, the
    rows stay behind the list's permission."""
    if user.has_perm(services.VIEW):
        return complaints_visible_to(user)
    return Complaint.objects.filter(
        scope_q(
            user, company="company", owner="owner", advisor="advisor", project="project", through=through_customer()
        )
    )


def kpi_people_parts(user: User) -> list[QuerySet[Complaint]]:
    """``kpi_base`` without the project part of the scope, as disjoint parts whose union
    it is: the complaints of the customers the user sees as a person (own, team, VIP
    advised), then those assigned to the user among the rest. With a project scope, these
    outside the user's projects are what the dashboard counts live beside the month counts
    (crm.kpis.counting); each part is a plain AND the planner answers from an index (an OR
    of the two read a year of complaints)."""
    people = scope_q(user, company="company", owner="owner", advisor="advisor", through=through_customer())
    parts = [Complaint.objects.filter(people)]
    if user.has_perm(services.VIEW) and not sees_company(user):
        parts.append(Complaint.objects.filter(assigned_q(user)).exclude(people))
    return parts


def kpi_company_rows(company_id: int) -> QuerySet[Complaint]:
    """Every complaint of the company: what the month counts count (crm.kpis.counting)."""
    return Complaint.objects.filter(company_id=company_id)


def kpi_rows(user: User, measure: str, *, start: date, end: date, owner_id: int | None = None) -> QuerySet[Complaint]:
    """The rows behind a measure that the user's figures count."""
    return kpi_base(user).filter(kpi_q(measure, start=start, end=end, owner_id=owner_id))


def breached(user: User, *, now: datetime) -> QuerySet[Complaint]:
    """Open complaints in the user's scope past a deadline (the management home's list)."""
    return complaints_visible_to(user).filter(breached_q(now)).order_by("resolution_due_at", "id")


def plans_awaiting_approval(user: User) -> QuerySet[Complaint]:
    """Complaints whose handling plan waits for a superior's approval, in the user's scope."""
    return complaints_visible_to(user).filter(status=Status.PLAN_PROPOSED).order_by("registered_at", "id")
