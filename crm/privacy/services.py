"""Writes of the privacy app: data-subject requests, legal holds, erasure and restriction.

Rules enforced here:
1. A request is answered within ``PRIVACY_REQUEST_WORKING_DAYS`` (15) working days of its
   receipt, counted on the configured work calendar (crm.core.calendar); when that year has
   no calendar yet, the same number of calendar days (never later than the real deadline).
2. Requests move only along ``DataSubjectRequest.ALLOWED_MOVES``; every move is audited.
3. An erasure request is carried out by ``erase_for_request``: the customer is anonymised
   (crm.privacy.erasure) — or, under an active legal hold, only *restricted* (PIPL art. 47
   para. 2: stored, not processed: opted out of every message, archived) — and the request
   closes with the ledger row.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from crm.care import services as care_services
from crm.core import audit
from crm.core.calendar import work_calendar
from crm.core.errors import DomainError
from crm.core.numbering import reserve
from crm.customers import services as customer_services
from crm.customers import timeline
from crm.customers.models import ArchiveReason, Customer, TimelineEvent
from crm.lib.dates import local_day
from crm.lib.workcalendar import CalendarUnknown
from crm.privacy import erasure
from crm.privacy.models import DataSubjectRequest, ErasureRecord, LegalHold, ReceivedVia, RequestKind

if TYPE_CHECKING:
    from crm.accounts.models import User

VIEW = "privacy.view_datasubjectrequest"
ADD = "privacy.add_datasubjectrequest"
HANDLE = "privacy.change_datasubjectrequest"
ERASE = "privacy.erase_customer"
HOLD = "privacy.add_legalhold"

Status = DataSubjectRequest.Status
_ID_NUMBER = re.compile(r"\d{15}|\d{17}[\dXx]")


def deadline_for(received_on: date) -> tuple[date, bool]:
    """(deadline, is_estimate): ``PRIVACY_REQUEST_WORKING_DAYS`` working days after receipt."""
    days = int(getattr(settings, "PRIVACY_REQUEST_WORKING_DAYS", 15))
    try:
        return work_calendar().add_working_days(received_on, days), False
    except CalendarUnknown:
        # N working days are at least N calendar days: the estimate is never late.
        return received_on + timedelta(days=days), True


def active_hold(customer: Customer) -> LegalHold | None:
    return LegalHold.objects.filter(customer=customer, released_at__isnull=True).first()


@transaction.atomic
def create_request(
    customer: Customer,
    *,
    actor: User,
    kind: str,
    received_via: str,
    identity_check: str,
    received_on: date,
    details: str = "",
    handler: User | None = None,
    now: datetime,
) -> DataSubjectRequest:
    if kind not in RequestKind.values:
        raise DomainError("请选择申请类型", field="kind")
    if received_via not in ReceivedVia.values:
        raise DomainError("请选择受理渠道", field="received_via")
    identity_check = (identity_check or "").strip()
    if not identity_check:
        raise DomainError("请写明如何核验申请人是客户本人", field="identity_check")
    if _ID_NUMBER.search(identity_check):
        # The request is kept after an erasure (proof of the answer): no ID number in it.
        raise DomainError("请只写核验方式，不要填写证件号码", field="identity_check")
    if received_on > local_day(now):
        raise DomainError("受理日期不能晚于今天", field="received_on")
    if erasure.is_erased(customer.pk):
        raise DomainError("该客户的个人信息已删除")
    if kind == RequestKind.CORRECT and not (details or "").strip():
        raise DomainError("更正申请请写明需要更正的内容", field="details")
    handler = handler or actor
    if handler.company_id != customer.company_id or not handler.has_perm(HANDLE):
        raise DomainError("经办人须为本公司有权处理申请的人员", field="handler")
    deadline, estimate = deadline_for(received_on)
    number = f"GR{reserve('privacy-request'):06d}"
    request = DataSubjectRequest.objects.create(
        company_id=customer.company_id,
        number=number,
        customer=customer,
        kind=kind,
        received_via=received_via,
        received_on=received_on,
        identity_check=identity_check[:200],
        details=(details or "").strip(),
        deadline_on=deadline,
        deadline_is_estimate=estimate,
        handler=handler,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    summary = f"受理个人信息{request.get_kind_display()}申请 {request.number}，期限 {deadline:%Y-%m-%d}"
    audit.log(audit.AuditLog.Action.CREATE, actor=actor, target=request, customer_id=customer.pk, summary=summary)
    timeline.record(customer, TimelineEvent.Kind.PRIVACY, summary, actor=actor, at=now, source=request)
    return request


def _move(request: DataSubjectRequest, to: str, *, actor: User, outcome: str, now: datetime) -> DataSubjectRequest:
    locked = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    if to not in DataSubjectRequest.ALLOWED_MOVES[locked.status]:
        raise DomainError(f"申请已{locked.get_status_display()}，不能改为{Status(to).label}")
    before = locked.status
    locked.status = to
    locked.updated_at = now
    if outcome:
        locked.outcome = outcome
    if to not in DataSubjectRequest.OPEN:
        locked.closed_at = now
    locked.save()
    summary = f"个人信息{locked.get_kind_display()}申请 {locked.number}：{Status(before).label} → {Status(to).label}"
    audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=locked, customer_id=locked.customer_id, summary=summary)
    timeline.record(locked.customer_id, TimelineEvent.Kind.PRIVACY, summary, actor=actor, at=now, source=locked)
    return locked


@transaction.atomic
def start_request(request: DataSubjectRequest, *, actor: User, now: datetime) -> DataSubjectRequest:
    return _move(request, Status.IN_PROGRESS, actor=actor, outcome="", now=now)


@transaction.atomic
def complete_request(request: DataSubjectRequest, *, actor: User, outcome: str, now: datetime) -> DataSubjectRequest:
    """Close an access, copy or correction request with what was done (the correction itself
    is made on the customer's pages, audited there)."""
    outcome = (outcome or "").strip()
    if not outcome:
        raise DomainError("请填写处理结果", field="outcome")
    if request.kind == RequestKind.ERASE:
        raise DomainError("删除申请请使用“执行删除”")
    return _move(request, Status.COMPLETED, actor=actor, outcome=outcome, now=now)


@transaction.atomic
def refuse_request(request: DataSubjectRequest, *, actor: User, outcome: str, now: datetime) -> DataSubjectRequest:
    outcome = (outcome or "").strip()
    if not outcome:
        raise DomainError("拒绝申请须写明理由（个人信息保护法第五十条）", field="outcome")
    return _move(request, Status.REFUSED, actor=actor, outcome=outcome, now=now)


def erase_for_request(request: DataSubjectRequest, *, actor: User, now: datetime) -> ErasureRecord:
    """Carry out an erasure request: anonymise, or restrict under a legal hold."""
    if not actor.has_perm(ERASE):
        raise DomainError("您没有删除客户个人信息的权限")
    if request.kind != RequestKind.ERASE:
        raise DomainError("只有删除申请可以执行删除")
    if not request.is_open:
        raise DomainError("申请已办结")
    with transaction.atomic():
        customer = Customer.objects.get(pk=request.customer_id)
        hold = active_hold(customer)
        if hold is not None:
            record = restrict_customer(
                customer, actor=actor, reason=f"法律保留：{hold.reason}", now=now, request=request
            )
            _move(
                request,
                Status.RESTRICTED,
                actor=actor,
                outcome=f"因法律保留（{hold.reason}）仅限制处理，未删除",
                now=now,
            )
            return record
        outcome = erasure.anonymise_customer(
            customer, actor=actor, reason=f"客户申请 {request.number}", now=now, request=request
        )
        # The request keeps no personal data either: what was asked may quote it.
        DataSubjectRequest.objects.filter(pk=request.pk).update(details="")
        _move(request, Status.COMPLETED, actor=actor, outcome="已删除（匿名化）客户个人信息", now=now)
        return outcome.record


@transaction.atomic
def restrict_customer(
    customer: Customer, *, actor: User, reason: str, now: datetime, request: DataSubjectRequest | None = None
) -> ErasureRecord:
    """Restrict processing: stored, not used. No SMS of any kind (opted out, open messages
    cancelled), out of the lists (archived, reason 客户要求删除); the ledger says so."""
    if not customer.has_opted_out:
        care_services.opt_out(customer, actor=actor, source="限制处理")
    if not customer.is_archived:
        customer_services.archive_customer(customer, actor=actor, reason=ArchiveReason.REQUEST, note="限制处理")
    return ErasureRecord.objects.create(
        company_id=customer.company_id,
        customer_pk=customer.pk,
        customer_number=customer.number,
        kind=ErasureRecord.Kind.RESTRICT,
        reason=reason[:200],
        erased_at=now,
        erased_by=actor,
        request=request,
    )


@transaction.atomic
def set_legal_hold(customer: Customer, *, actor: User, reason: str, now: datetime) -> LegalHold:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写法律保留的依据", field="reason")
    if not actor.has_perm(HOLD):
        raise DomainError("您没有设置法律保留的权限")
    if active_hold(customer) is not None:
        raise DomainError("该客户已有生效的法律保留")
    hold = LegalHold.objects.create(customer=customer, reason=reason[:200], set_by=actor, set_at=now)
    audit.log(
        audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=hold,
        customer_id=customer.pk,
        summary="设置法律保留",
        reason=reason,
    )
    return hold


@transaction.atomic
def release_legal_hold(hold: LegalHold, *, actor: User, now: datetime) -> LegalHold:
    if not actor.has_perm(HOLD):
        raise DomainError("您没有解除法律保留的权限")
    if hold.released_at is not None:
        raise DomainError("该法律保留已解除")
    hold.released_at = now
    hold.released_by = actor
    hold.save(update_fields=["released_at", "released_by"])
    audit.log(
        audit.AuditLog.Action.UPDATE, actor=actor, target=hold, customer_id=hold.customer_id, summary="解除法律保留"
    )
    return hold


def request_fields(form_data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: form_data[k] for k in ("kind", "received_via", "identity_check", "received_on", "details") if k in form_data
    }


def produce_copy(request: DataSubjectRequest, *, actor: User, fmt: str, ip: str | None = None) -> bytes:
    """The customer's personal data for an access or copy request, as JSON or CSV: an
    audited export of one customer (the request is its approval)."""
    from crm.privacy import copying

    if request.kind not in (RequestKind.ACCESS, RequestKind.COPY):
        raise DomainError("只有查阅、复制申请可以导出个人信息副本")
    if not request.is_open:
        raise DomainError("申请已办结")
    if fmt not in ("json", "csv"):
        raise DomainError("未知的文件格式")
    data = copying.personal_data(Customer.objects.get(pk=request.customer_id))
    audit.log(
        audit.AuditLog.Action.EXPORT,
        actor=actor,
        target=request,
        customer_id=request.customer_id,
        summary=f"导出个人信息副本（{fmt.upper()}），申请 {request.number}",
        reason=f"个人信息{request.get_kind_display()}申请",
        ip=ip,
    )
    return copying.as_json(data) if fmt == "json" else copying.as_csv(data)
