"""A serious issue raised in a visit becomes a complaint (issue 12, item 4).

The director or a 客服专员 converts it from the issue page: the complaint is registered
through ``crm.complaints.services.register_complaint`` (channel 转办 — the issue is handed
over from the visit work, not a call or a visit by the complainant), with the customer as
complainant (their mobile links the complaint to the customer), the task's project and the
deal's unit, and content made of the issue and the visit. The issue keeps the link
(``VisitIssue.complaint``, one-to-one) and a second conversion returns the same complaint:
the issue row is locked while it is converted, so two clicks register one complaint.

Visits sit above complaints in the layers (pyproject.toml) and use only its services and
selectors.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from crm.complaints import selectors as complaint_selectors
from crm.complaints import services as complaint_services
from crm.core import audit
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers import timeline
from crm.customers.models import TimelineEvent
from crm.visits.models import IssueEvent, VisitIssue

if TYPE_CHECKING:
    from crm.accounts.models import User

Category = complaint_selectors.CategoryModel
Complaint = complaint_selectors.ComplaintModel

CONVERT = "visits.convert_visitissue"

# The visit issue's class → the complaint category of the same meaning (complaints'
# DEFAULT_CATEGORIES); a category of the same name wins, an unknown one is chosen by hand.
CATEGORY_HINTS = {"服务态度": "员工行为", "政策咨询": "合同", "其他": "售后"}

TRANSFERRED = "transferred"  # crm.complaints Channel.TRANSFERRED (转办)


def may_convert(issue: VisitIssue, user: User) -> bool:
    return (
        user.is_active
        and user.company_id == issue.company_id
        and user.has_perm(CONVERT)
        and user.has_perm(complaint_services.ADD)
    )


def complaint_categories(user: User) -> QuerySet[Category]:
    return complaint_selectors.categories_for(user).order_by("sort_order", "id")


def suggested_category(issue: VisitIssue, user: User) -> Category | None:
    """The complaint category matching the issue's class (same name, else the hint)."""
    names = [issue.category.name, CATEGORY_HINTS.get(issue.category.name, "")]
    by_name = {c.name: c for c in complaint_categories(user).filter(name__in=[n for n in names if n])}
    return next((by_name[n] for n in names if n in by_name), None)


def complaint_content(issue: VisitIssue, note: str = "") -> str:
    task = issue.task
    visit = task.plan.name if task.plan is not None else task.purpose
    lines = [
        f"【回访转投诉】回访问题 #{issue.pk}（{issue.category.name}，责任部门 {issue.department.name}）",
        f"回访：{visit}，{timezone.localtime(issue.raised_at):%Y-%m-%d} 由 {issue.raised_by or '—'} 登记",
        f"问题描述：{issue.description}",
        f"承诺答复日期：{issue.promised_on:%Y-%m-%d}，当前状态：{issue.get_status_display()}",
    ]
    if task.satisfaction is not None:
        lines.append(f"本次回访满意度：{task.satisfaction} 分")
    if task.opinions:
        lines.append(f"客户意见：{task.opinions}")
    if issue.resolution:
        lines.append(f"部门处理结果：{issue.resolution}")
    if note.strip():
        lines.append(f"转投诉说明：{note.strip()}")
    return "\n".join(lines)


def convert_to_complaint(
    issue: VisitIssue, *, actor: User, category: Category | None, note: str = "", now: datetime | None = None
) -> tuple[Complaint, bool]:
    """Register the issue as a complaint, once. Returns (the complaint, created): an issue
    already converted returns its complaint and writes nothing."""
    if not may_convert(issue, actor):
        raise NotAllowed("只有客服中心主任或客服专员可以将回访问题转为投诉")
    now = now or timezone.now()
    with transaction.atomic():
        row = VisitIssue.objects.select_for_update().get(pk=issue.pk)
        if row.complaint is not None:
            return row.complaint, False
        if category is None:
            raise DomainError("请选择投诉类别", field="category")
        row = (
            VisitIssue.objects.select_related(
                "task", "task__plan", "task__deal", "customer", "category", "department", "raised_by"
            )
            .filter(pk=row.pk)
            .get()
        )
        deal = row.task.deal
        unit = deal.unit if deal is not None and deal.unit.project_id == row.project_id else None
        intake = complaint_services.Intake(
            channel=TRANSFERRED,
            complainant_name=row.customer.name,
            complainant_mobile=row.customer.mobile,
            content=complaint_content(row, note),
            project=row.task.project,
            category=category,
            unit=unit,
            event_at=row.raised_at,
        )
        complaint = complaint_services.register_complaint(intake, actor=actor, now=now)
        row.complaint = complaint
        row.converted_at = now
        row.converted_by = actor
        row.save(update_fields=["complaint", "converted_at", "converted_by"])
        text = f"已转为投诉 {complaint.number}" + (f"：{note.strip()}" if note.strip() else "")
        IssueEvent.objects.create(
            issue=row, actor=actor, from_status=row.status, to_status=row.status, note=text, at=now
        )
        timeline.record(
            row.customer_id,
            TimelineEvent.Kind.VISIT,
            f"回访问题（{row.category.name}）{text}",
            actor=actor,
            at=now,
            data={"visit_issue": row.pk, "complaint": complaint.pk},
            source=row,
        )
        audit.log(
            audit.AuditLog.Action.UPDATE,
            actor=actor,
            target=row,
            customer_id=row.customer_id,
            summary=f"回访问题转投诉 {complaint.number}",
            reason=note.strip()[:200],
        )
    issue.refresh_from_db()
    return complaint, True
