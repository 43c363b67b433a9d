"""Bulk exports with a supervisor's approval (DESIGN 3.7, docs/privacy.md).

The lifecycle (ExportRequest.ALLOWED_MOVES): requested → approved or rejected; approved →
downloaded, once. Rules:
1. A request keeps the filters of the export, its count and a purpose (required).
2. Only holders of customers.approve_export in the requester's company decide, and never
   on their own request (four eyes).
3. The approved file is built when the requester downloads it, from the kept filters and
   through the requester's own scope and masking, exactly once (a compare-and-set on the
   status prevents a double download from two tabs).
Every step is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet

from crm.core import audit
from crm.core.errors import DomainError
from crm.customers import exporting
from crm.customers.models import ExportRequest

if TYPE_CHECKING:
    from crm.accounts.models import User

Status = ExportRequest.Status


def _move(request: ExportRequest, to: str, **fields: object) -> ExportRequest:
    """Move the request if the table allows it and nobody moved it meanwhile."""
    if to not in ExportRequest.ALLOWED_MOVES[request.status]:
        raise DomainError(f"该申请{request.get_status_display()}，不能再{Status(to).label}")
    changed = ExportRequest.objects.filter(pk=request.pk, status=request.status).update(status=to, **fields)
    if not changed:
        raise DomainError("该申请刚被他人处理，请刷新页面")
    request.refresh_from_db()
    return request


@transaction.atomic
def request_export(exc: exporting.ApprovalRequired, *, actor: User, purpose: str, now: datetime) -> ExportRequest:
    """File an approval request for the export ``exc`` refused."""
    purpose = (purpose or "").strip()
    if len(purpose) < 2:
        raise DomainError("请填写导出用途（至少2个字）", field="purpose")
    if actor.company_id is None:
        raise DomainError("您的账号未关联公司，不能导出")
    request = ExportRequest.objects.create(
        company_id=actor.company_id,
        kind=exc.kind,
        requested_by=actor,
        params=exc.params,
        filters_text=exc.filters_text,
        count=exc.count,
        with_contact=actor.has_perm("customers.export_contact"),
        purpose=purpose[:200],
        requested_at=now,
    )
    audit.log(
        audit.AuditLog.Action.EXPORT,
        actor=actor,
        target=request,
        target_label=f"导出申请 #{request.pk}",
        summary=f"申请导出{request.get_kind_display()} {request.count} 条（超过 {exc.threshold} 条需审批）",
        reason=request.purpose,
    )
    return request


def _check_approver(request: ExportRequest, actor: User) -> None:
    if not actor.has_perm("customers.approve_export") or actor.company_id != request.company_id:
        raise DomainError("您没有审批导出的权限")
    if actor.pk == request.requested_by_id:
        raise DomainError("不能审批自己的导出申请")


@transaction.atomic
def approve_export(request: ExportRequest, *, actor: User, note: str = "", now: datetime) -> ExportRequest:
    _check_approver(request, actor)
    request = _move(
        request, Status.APPROVED, decided_by=actor, decided_at=now, decision_note=(note or "").strip()[:200]
    )
    audit.log(
        audit.AuditLog.Action.APPROVE,
        actor=actor,
        target=request,
        target_label=f"导出申请 #{request.pk}",
        summary=f"批准 {request.requested_by} 导出{request.get_kind_display()} {request.count} 条",
        reason=request.decision_note,
    )
    return request


@transaction.atomic
def reject_export(request: ExportRequest, *, actor: User, note: str, now: datetime) -> ExportRequest:
    _check_approver(request, actor)
    note = (note or "").strip()
    if not note:
        raise DomainError("驳回时请填写原因", field="note")
    request = _move(request, Status.REJECTED, decided_by=actor, decided_at=now, decision_note=note[:200])
    audit.log(
        audit.AuditLog.Action.APPROVE,
        actor=actor,
        target=request,
        target_label=f"导出申请 #{request.pk}",
        summary=f"驳回 {request.requested_by} 导出{request.get_kind_display()} {request.count} 条",
        reason=note,
    )
    return request


@transaction.atomic
def download_export(request: ExportRequest, *, actor: User, ip: str | None = None, now: datetime) -> exporting.Export:
    """The approved file, once, for the requester only (the export writes its own audit row)."""
    if actor.pk != request.requested_by_id:
        raise DomainError("只有申请人可以下载")
    request = _move(request, Status.DOWNLOADED, downloaded_at=now)
    build = exporting.export_customers if request.kind == ExportRequest.Kind.CUSTOMERS else exporting.export_deals
    return build(actor, request.params, ip=ip, approved=True)


def pending_for(user: User) -> QuerySet[ExportRequest]:
    """The requests waiting for this approver (their company, not their own)."""
    if not user.has_perm("customers.approve_export") or user.company_id is None:
        return ExportRequest.objects.none()
    return ExportRequest.objects.filter(company_id=user.company_id, status=Status.REQUESTED).exclude(requested_by=user)


def requests_visible_to(user: User) -> QuerySet[ExportRequest]:
    """The user's own requests, and for approvers every request of their company."""
    if user.company_id is None:
        return ExportRequest.objects.none()
    qs = ExportRequest.objects.filter(company_id=user.company_id).select_related("requested_by", "decided_by")
    if user.has_perm("customers.approve_export"):
        return qs
    return qs.filter(requested_by=user)
