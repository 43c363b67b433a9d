"""What each person sees first every morning, by role (DESIGN 3.8)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from crm.customers.models import Deal, Grade, TimelineEvent
from crm.customers.selectors import customers_visible_to, deals_visible_to

if TYPE_CHECKING:
    from crm.accounts.models import User


def upcoming_mmdd(today: Any, days: int) -> list[str]:
    return [(today + timedelta(days=i)).strftime("%m%d") for i in range(days)]


def workbench_for(user: User) -> dict[str, Any]:
    today = timezone.localdate()
    customers = customers_visible_to(user)
    deals = deals_visible_to(user).filter(status=Deal.Status.ACTIVE)
    week_start = today - timedelta(days=today.weekday())
    birthdays = list(
        customers.filter(birth_mmdd__in=upcoming_mmdd(today, 7)).select_related("owner").order_by("birth_mmdd")[:20]
    )
    return {
        "today": today,
        "stats": {
            "customers": customers.count(),
            "new_this_week": customers.filter(created_at__date__gte=week_start).count(),
            "grade_a": customers.filter(grade=Grade.A).count(),
            "vip": customers.filter(is_vip=True).count(),
            "awaiting_contract": deals.filter(contracted_on__isnull=True).count(),
            "awaiting_filing": deals.filter(contracted_on__isnull=False, filed_on__isnull=True).count(),
            "awaiting_move_in": deals.filter(delivered_on__isnull=False, moved_in_on__isnull=True).count(),
        },
        "birthdays": birthdays,
        "recent_events": list(
            TimelineEvent.objects.filter(customer__in=customers.values("pk"))
            .select_related("customer", "actor")
            .order_by("-occurred_at", "-id")[:10]
        ),
    }
