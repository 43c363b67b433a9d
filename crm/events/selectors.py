"""Reads of 客户活动, scoped to the user.

An event is seen by whoever works on its project (company-wide roles: every project) and
by its organiser. Its invitees are customers, so the list shows those the user may see
(crm.customers.selectors.customer_scope_q): a consultant sees their own customers on a
project-wide list. Outside the scope a row is a 404, never a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from crm.accounts.access import NOTHING, project_q
from crm.customers.filters import DEAL_MILESTONES
from crm.customers.models import Customer, Deal
from crm.customers.selectors import customer_scope_q, customers_visible_to
from crm.events import services
from crm.events.models import Event, EventGift, Invitee

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.customers.models import Tag
    from crm.projects.models import Project


def event_scope_q(user: User) -> Q:
    if not user.has_perm(services.VIEW):
        return NOTHING
    return project_q(user, path="project__") | Q(company_id=user.company_id or 0, organiser=user)


def events_visible_to(user: User) -> QuerySet[Event]:
    return Event.objects.filter(event_scope_q(user))


def get_event_for_user(user: User, pk: int) -> Event:
    event = events_visible_to(user).select_related("project", "organiser").filter(pk=pk).first()
    if event is None:
        raise Http404("活动不存在或无权查看")
    return event


def invitees_of(event: Event, user: User) -> QuerySet[Invitee]:
    """The event's invitees the user may see, with their messages."""
    return (
        event.invitees.filter(customer_scope_q(user, prefix="customer__"))
        .select_related("customer", "invite_message", "notice_message")
        .order_by("customer__name", "id")
    )


def get_invitee_for_user(user: User, event: Event, pk: int) -> Invitee:
    invitee = invitees_of(event, user).filter(pk=pk).first()
    if invitee is None:
        raise Http404("受邀客户不存在或无权查看")
    return invitee


def gifts_of(event: Event, user: User) -> QuerySet[EventGift]:
    return (
        event.gifts.filter(customer_scope_q(user, prefix="invitee__customer__"))
        .select_related("issue__gift", "issue__issuer", "invitee__customer")
        .order_by("-issue__issued_at", "-id")
    )


@dataclass(frozen=True)
class Counts:
    invited: int
    total: int
    yes: int
    no: int
    attended: int


def counts(event: Event) -> Counts:
    """Whole-event figures (no personal data): the organiser plans seats from them."""
    row = event.invitees.aggregate(
        total=Count("id"),
        invited=Count("id", filter=Q(invited_at__isnull=False)),
        yes=Count("id", filter=Q(rsvp=Invitee.Rsvp.YES)),
        no=Count("id", filter=Q(rsvp=Invitee.Rsvp.NO)),
        attended=Count("id", filter=Q(attended_at__isnull=False)),
    )
    return Counts(row["invited"], row["total"], row["yes"], row["no"], row["attended"])


def candidates(
    user: User,
    event: Event,
    *,
    project: Project | None = None,
    stage: str = "",
    grade: str = "",
    tag: Tag | None = None,
    milestone: str = "",
    vip: bool = False,
) -> QuerySet[Customer]:
    """Customers the user may see who match the filter and are not yet on the list.

    ``project``: the project's customers and those with an active deal in it; ``milestone``
    (crm.customers.filters.DEAL_MILESTONES, e.g. 已交房待入住): an active deal at that
    milestone (in ``project`` when given)."""
    qs = customers_visible_to(user)
    if project is not None:
        in_project = Deal.objects.filter(customer_id=OuterRef("pk"), status=Deal.Status.ACTIVE, project=project)
        qs = qs.filter(Q(project=project) | Q(Exists(in_project)))
    if stage:
        qs = qs.filter(stage=stage)
    if grade:
        qs = qs.filter(grade=grade)
    if tag is not None:
        qs = qs.filter(tags=tag)
    if vip:
        qs = qs.filter(is_vip=True)
    if milestone in DEAL_MILESTONES:
        deals = Deal.objects.filter(
            DEAL_MILESTONES[milestone][1], customer_id=OuterRef("pk"), status=Deal.Status.ACTIVE
        )
        if project is not None:
            deals = deals.filter(project=project)
        qs = qs.filter(Exists(deals))
    return qs.exclude(pk__in=Invitee.objects.filter(event=event).values("customer_id")).distinct()


def unreachable(qs: QuerySet[Customer]) -> int:
    """Of these customers, how many cannot be sent a marketing SMS (no consent, opted out):
    shown in the preview, so the organiser knows they must be phoned."""
    return qs.filter(Q(consent_marketing=False) | Q(has_opted_out=True)).count()


def upcoming(user: User, *, today: date, days: int = 14) -> QuerySet[Event]:
    """Open events of the next ``days`` days (the workbench card)."""
    return events_visible_to(user).filter(
        status__in=Event.OPEN, starts_on__gte=today, starts_on__lte=today + timedelta(days=days)
    )
