"""Reads of the privacy app, scoped like the customers they are about (crm.accounts.access)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from crm.customers.selectors import customer_scope_q
from crm.privacy.models import DataSubjectRequest, ErasureRecord, RetentionRun

if TYPE_CHECKING:
    from crm.accounts.models import User


def requests_visible_to(user: User) -> QuerySet[DataSubjectRequest]:
    """Requests about customers the user may see, of the user's company, for those who
    may read requests at all."""
    if not user.has_perm("privacy.view_datasubjectrequest") or user.company_id is None:
        return DataSubjectRequest.objects.none()
    return DataSubjectRequest.objects.filter(customer_scope_q(user, prefix="customer__"), company_id=user.company_id)


def get_request_for_user(user: User, pk: int) -> DataSubjectRequest:
    request = requests_visible_to(user).select_related("customer", "handler", "created_by").filter(pk=pk).first()
    if request is None:
        raise Http404("申请不存在或无权查看")
    return request


def due_q(today: date, *, within: date) -> Q:
    """Open requests whose deadline is on or before ``within`` (the workbench's 'due soon')."""
    return Q(status__in=DataSubjectRequest.OPEN, deadline_on__lte=within)


def overdue_q(today: date) -> Q:
    return Q(status__in=DataSubjectRequest.OPEN, deadline_on__lt=today)


def erasures_visible_to(user: User) -> QuerySet[ErasureRecord]:
    if not user.has_perm("privacy.view_erasurerecord") or user.company_id is None:
        return ErasureRecord.objects.none()
    return ErasureRecord.objects.filter(company_id=user.company_id)


def runs_visible_to(user: User) -> QuerySet[RetentionRun]:
    if not user.has_perm("privacy.view_retentionrun") or user.company_id is None:
        return RetentionRun.objects.none()
    return RetentionRun.objects.filter(company_id=user.company_id)
