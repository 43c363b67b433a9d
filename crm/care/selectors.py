"""Reads of 温馨速递 data, scoped to the user.

Messages, opt-outs and replies are customer data: they go through the customer scope
(crm.accounts.access), so a message to another team's customer is a 404 like the customer.
Drafts carry no customer data (a text and a count): approvers see every draft of their
company, care staff those of their projects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from crm.accounts.access import NOTHING, project_q
from crm.care import services
from crm.care.models import Draft, InboundReply, OutboundMessage
from crm.customers.models import Customer, TimelineEvent
from crm.customers.selectors import customer_scope_q, customers_visible_to
from crm.projects.models import Project

if TYPE_CHECKING:
    from crm.accounts.models import User


def care_projects(user: User) -> QuerySet[Project]:
    """Projects whose rules, drafts and broadcasts the user works on."""
    return Project.objects.filter(project_q(user, wide_permissions=(services.APPROVE, services.EDIT_RULES)))


def drafts_visible_to(user: User) -> QuerySet[Draft]:
    """Approvers: every draft of the company; care staff: their projects' drafts."""
    if not (services.may_approve(user) or services.is_care_staff(user)):
        return Draft.objects.filter(NOTHING)
    return Draft.objects.filter(project_q(user, path="project__", wide_permissions=(services.APPROVE,)))


def get_draft_for_user(user: User, pk: int) -> Draft:
    draft = drafts_visible_to(user).select_related("rule", "project__company").filter(pk=pk).first()
    if draft is None:
        raise Http404("审批单不存在或无权查看")
    return draft


def messages_visible_to(user: User) -> QuerySet[OutboundMessage]:
    """Outbox rows of customers the user may see (archived customers' history included)."""
    return OutboundMessage.objects.filter(customer_scope_q(user, prefix="customer__"))


def get_message_for_user(user: User, pk: int) -> OutboundMessage:
    message = (
        messages_visible_to(user)
        .select_related("customer", "project__company", "rule", "draft__decided_by", "family_member")
        .filter(pk=pk)
        .first()
    )
    if message is None:
        raise Http404("短信不存在或无权查看")
    return message


def opted_out_customers(user: User) -> QuerySet[Customer]:
    """Opted-out customers in scope, newest first, each with the summary of the latest
    consent event (how the opt-out came: a reply, the gateway's blacklist, staff)."""
    latest_consent = (
        TimelineEvent.objects.filter(customer_id=OuterRef("pk"), kind=TimelineEvent.Kind.CONSENT)
        .order_by("-occurred_at", "-id")
        .values("summary")[:1]
    )
    return (
        customers_visible_to(user, include_archived=True)
        .filter(has_opted_out=True)
        .annotate(opt_out_source=Subquery(latest_consent))
        .order_by("-opted_out_at", "-id")
    )


def replies_visible_to(user: User) -> QuerySet[InboundReply]:
    """Replies (上行) from a number of a customer in scope."""
    customers = customers_visible_to(user, include_archived=True)
    return InboundReply.objects.filter(
        Q(mobile__in=customers.values("mobile")) | Q(mobile__in=customers.exclude(mobile2="").values("mobile2"))
    ).order_by("-received_at", "-id")
