"""Who a care message goes to: audience conditions as customer querysets (set-based)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from crm.care.rules import Audience, Purpose
from crm.customers.models import Customer, Deal, Stage

CONSENT_FIELD = {
    Purpose.NOTIFICATION: "consent_notification",
    Purpose.CARE: "consent_care",
    Purpose.MARKETING: "consent_marketing",
}


def reachable(qs: QuerySet[Customer], purpose: str) -> QuerySet[Customer]:
    """Customers who may receive a message of this purpose: consent given, not opted out,
    not archived. Checked again at send time (consent can be withdrawn in between)."""
    return qs.filter(**{CONSENT_FIELD[Purpose(purpose)]: True}, has_opted_out=False, is_archived=False)


def _active_deals() -> QuerySet[Deal]:
    return Deal.objects.filter(customer_id=OuterRef("pk"), status=Deal.Status.ACTIVE)


def audience_q(audience: str, project_id: int) -> Q:
    """Customers of ``project_id`` matching an audience condition."""
    in_project = Q(project_id=project_id)
    deals = _active_deals().filter(project_id=project_id)
    if audience == Audience.OWNERS:
        return Q(Exists(deals)) | (in_project & Q(stage=Stage.OWNER))
    if audience == Audience.SUBSCRIBED_NOT_MOVED_IN:
        return Q(Exists(deals.filter(moved_in_on__isnull=True)))
    if audience == Audience.SUBSCRIBED_AND_SIGNED:
        return Q(Exists(deals))
    if audience == Audience.INTERESTED_AND_OWNERS:
        return (in_project & Q(stage__in=[Stage.INTERESTED, Stage.OWNER])) | Q(Exists(deals))
    if audience == Audience.PROJECT:
        return in_project | Q(Exists(deals))
    raise ValueError(f"audience {audience} needs a specific customer")


def audience_customers(audience: str, project_id: int, purpose: str) -> QuerySet[Customer]:
    return reachable(Customer.objects.filter(audience_q(audience, project_id)), purpose)
