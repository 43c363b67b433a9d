"""What each person sees first every morning, by role (DESIGN 3.8).

Every count links to the list behind it, and is computed with the same filter that list
applies (crm.customers.filters), so the number on the card and the rows behind it agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Scope
from crm.care import services as care_services
from crm.care.forms import day_range_q, status_q
from crm.care.models import Draft
from crm.care.selectors import drafts_visible_to, messages_visible_to
from crm.core.calendar import missing_next_year
from crm.core.scope import customer_scope_q
from crm.customers.filters import DEAL_MILESTONES, local_midnight, upcoming_mmdd, week_start
from crm.customers.models import Deal, Grade, TimelineEvent
from crm.customers.selectors import customers_visible_to, deals_visible_to

if TYPE_CHECKING:
    from crm.accounts.models import User

SCOPE_LABELS = {
    Scope.OWN: "我的客户",
    Scope.TEAM: "本组客户",
    Scope.PROJECT: "所辖楼盘客户",
    Scope.COMPANY: "全公司客户",
}


@dataclass(frozen=True)
class Stat:
    key: str
    label: str
    value: int
    url: str
    warn: bool = False


def workbench_for(user: User) -> dict[str, Any]:
    today = timezone.localdate()
    scope = user.data_scope
    context: dict[str, Any] = {
        "today": today,
        "customer_stats": [],
        "deal_stats": [],
        "stats": {},
        "birthdays": [],
        "recent_events": [],
        "sees_customers": scope > Scope.NONE and user.has_perm("customers.view_customer"),
        "can_create": user.has_perm("customers.add_customer"),
        "can_import": user.has_perm("customers.import_customers"),
        **_care_and_calendar(user, today),
    }
    if not context["sees_customers"]:
        return context
    customers = customers_visible_to(user)
    customer_list = reverse("customers:list")
    birthday_mmdd = upcoming_mmdd(today, 7)
    counts = _scope_counts(user, today, birthday_mmdd)
    context["customer_stats"] = [
        Stat("customers", SCOPE_LABELS[scope], counts["customers"], customer_list),
        Stat("new_this_week", "本周新增", counts["new_this_week"], f"{customer_list}?created=week"),
        Stat("grade_a", "A级客户", counts["grade_a"], f"{customer_list}?grade=A"),
        Stat("vip", "VIP客户", counts["vip"], f"{customer_list}?vip=1"),
        Stat("birthdays", "7天内生日", counts["birthdays"], f"{customer_list}?birthday=week"),
    ]
    if user.has_perm("customers.view_deal"):
        deal_list = reverse("customers:deal_list")
        context["deal_stats"] = [
            Stat(key, DEAL_MILESTONES[key][0], counts[key], f"{deal_list}?milestone={key}") for key in DEAL_KEYS
        ]
    # Order by days from today, so 12月30日 comes before 1月2日 across the new year.
    upcoming = customers.filter(birth_mmdd__in=birthday_mmdd).select_related("owner")[:200]
    context["stats"] = {s.key: s.value for s in (*context["customer_stats"], *context["deal_stats"])}
    context["birthdays"] = sorted(upcoming, key=lambda c: birthday_mmdd.index(c.birth_mmdd))[:10]
    # A join on the scope (not "customer IN (subquery)") lets PostgreSQL walk the events
    # newest first on their index and stop at ten: 3.6 s → milliseconds at 1,000,000 customers.
    context["recent_events"] = list(
        TimelineEvent.objects.filter(customer_scope_q(user, prefix="customer__"), customer__is_archived=False)
        .select_related("customer", "actor")
        .order_by("-occurred_at", "-id")[:10]
    )
    return context


DEAL_KEYS = ("awaiting_contract", "awaiting_filing", "awaiting_move_in")


def _scope_counts(user: User, today: date, birthday_mmdd: list[str]) -> dict[str, int]:
    """Every workbench count in two queries (one over customers, one over deals).

    Wide scopes (a director's or management's hundreds of thousands of customers) make each
    pass a scan of the table, so their counts are cached for WORKBENCH_CACHE_SECONDS; a
    consultant's own customers are counted fresh on every visit.
    """
    key = f"workbench:{user.pk}:{today.isoformat()}"
    wide = user.data_scope >= Scope.PROJECT
    ttl = getattr(settings, "WORKBENCH_CACHE_SECONDS", 300)
    if wide and ttl:
        cached = cache.get(key)
        if cached is not None:
            return dict(cached)
    counts = customers_visible_to(user).aggregate(
        customers=Count("pk"),
        new_this_week=Count("pk", filter=Q(created_at__gte=local_midnight(week_start(today)))),
        grade_a=Count("pk", filter=Q(grade=Grade.A)),
        vip=Count("pk", filter=Q(is_vip=True)),
        birthdays=Count("pk", filter=Q(birth_mmdd__in=birthday_mmdd)),
    )
    if user.has_perm("customers.view_deal"):
        counts |= (
            deals_visible_to(user)
            .filter(status=Deal.Status.ACTIVE)
            .aggregate(**{k: Count("pk", filter=DEAL_MILESTONES[k][1]) for k in DEAL_KEYS})
        )
    if wide and ttl:
        cache.set(key, counts, ttl)
    return counts


def _care_and_calendar(user: User, today: date) -> dict[str, Any]:
    """温馨速递 counts and the calendar warning; each count uses the filter of the list it links to.

    Approvers: drafts waiting for them. Care staff: today's outbox (scheduled / sent /
    failed). Administrators, from 1 November: next year's work calendar still missing.
    """
    stats: list[Stat] = []
    if care_services.may_approve(user):
        pending = drafts_visible_to(user).filter(status=Draft.Status.PENDING).count()
        stats.append(Stat("pending_drafts", "待审批短信", pending, reverse("care:approvals"), warn=pending > 0))
    if care_services.is_care_staff(user) and user.data_scope > Scope.NONE:
        keys = (("scheduled", "今日待发"), ("sent_any", "今日已发"), ("failed_any", "今日发送失败"))
        counts = (
            messages_visible_to(user)
            .filter(day_range_q(today, today))
            .aggregate(**{key: Count("pk", filter=status_q(key)) for key, _ in keys})
        )
        outbox = reverse("care:outbox")
        day = today.isoformat()
        stats += [
            Stat(
                f"outbox_{key}",
                label,
                counts[key],
                f"{outbox}?status={key}&date_from={day}&date_to={day}",
                warn=key == "failed_any" and counts[key] > 0,
            )
            for key, label in keys
        ]
    missing_year = None
    if user.is_staff and user.has_perm("core.add_calendaryear"):
        missing_year = missing_next_year(today)
    return {
        "care_stats": stats,
        "calendar_missing_year": missing_year,
        "calendar_admin_url": reverse("admin:core_calendaryear_changelist"),
    }
