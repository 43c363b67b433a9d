"""Reads of customer data, always scoped to the user (crm.core.scope)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from crm.core.scope import customer_scope_q
from crm.customers.models import Customer, Deal, TimelineEvent

if TYPE_CHECKING:
    from crm.accounts.models import User

_DIGITS = re.compile(r"[\d\s\-]+")
_NUMBER = re.compile(r"KH\d+", re.IGNORECASE)


def customers_visible_to(user: User, *, include_archived: bool = False) -> QuerySet[Customer]:
    qs = Customer.objects.filter(customer_scope_q(user))
    if not include_archived:
        qs = qs.filter(is_archived=False)
    return qs


def get_customer_for_user(user: User, pk: int) -> Customer:
    """The customer, or 404 when it does not exist or lies outside the user's scope."""
    customer = (
        Customer.objects.filter(customer_scope_q(user), pk=pk)
        .select_related("owner", "advisor", "project", "referrer", "merged_into")
        .first()
    )
    if customer is None:
        raise Http404("客户不存在或无权查看")
    return customer


def search_customers(qs: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """Match a customer number, a mobile fragment (digits) or a name fragment.

    ``contains`` (LIKE '%x%'), not ``icontains``: case means nothing for Chinese and
    digits, and on PostgreSQL a plain LIKE can use the pg_trgm GIN indexes (3+ chars).
    """
    text = (text or "").strip()
    if not text:
        return qs
    if _NUMBER.fullmatch(text):
        return qs.filter(number__startswith=text.upper())
    if _DIGITS.fullmatch(text):
        digits = re.sub(r"\D", "", text)
        return qs.filter(Q(mobile__contains=digits) | Q(mobile2__contains=digits))
    return qs.filter(name__contains=text)


def deals_visible_to(user: User) -> QuerySet[Deal]:
    return Deal.objects.filter(customer_scope_q(user, prefix="customer__"))


def get_deal_for_user(user: User, pk: int) -> Deal:
    deal = (
        deals_visible_to(user)
        .select_related("customer", "unit__building", "project", "consultant")
        .filter(pk=pk)
        .first()
    )
    if deal is None:
        raise Http404("成交记录不存在或无权查看")
    return deal


def timeline_for(customer: Customer, *, limit: int = 100) -> list[TimelineEvent]:
    return list(customer.events.select_related("actor").order_by("-occurred_at", "-id")[:limit])
