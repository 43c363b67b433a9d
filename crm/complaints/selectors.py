"""Reads of complaints, scoped to the user.

The scope is the one access rule (crm.accounts.access.scope_q) over the complaint's
paths: its company, the linked customer's owner and VIP advisor, and its own project. A
complaint with no linked customer has no owner or advisor, so it is seen through its
project (PROJECT scope) or the company (COMPANY scope) only; Django turns the customer
joins into LEFT OUTER joins inside the OR, so such a row is not lost. Outside the scope a
complaint is a 404, never a 403.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import F, Q, QuerySet
from django.http import Http404

from crm.accounts.access import NOTHING, project_q, scope_q
from crm.complaints import services
from crm.complaints.models import Category, Complaint, ComplaintEvent
from crm.lib.dates import local_day, local_midnight
from crm.projects.models import Project

if TYPE_CHECKING:
    from crm.accounts.models import User

Status = Complaint.Status


def complaint_scope_q(user: User) -> Q:
    if not user.has_perm(services.VIEW):
        return NOTHING
    return scope_q(user, company="company", owner="customer__owner", advisor="customer__advisor", project="project")


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
    "mine": "我负责的",
    "unsorted": "待分类（网上投诉）",
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
    if state == "mine":
        return open_q() & Q(assignee=user)
    if state == "unsorted":
        return unsorted_q()
    if state == "closed":
        return ~open_q()
    return Q()
