"""Customers' cards on the workbench: counts of the user's customers and deal milestones,
birthdays this week and the latest events (DESIGN 3.8).

Every count uses the filter of the list it links to (crm.customers.filters), so the number
on the card and the rows behind it agree.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Count, Q
from django.urls import reverse

from crm.accounts.access import SCOPE_LABELS, widest_scope
from crm.accounts.roles import Scope
from crm.core.cards import Action, Card, Stat, cached_minutes, wide_scope_counts
from crm.customers.export_requests import pending_for as pending_exports
from crm.customers.filters import DEAL_MILESTONES, upcoming_mmdd
from crm.customers.models import AccessAlert, Deal, Grade, TimelineEvent
from crm.customers.selectors import customer_scope_q, customers_visible_to, deals_visible_to
from crm.lib.dates import local_midnight, week_start

if TYPE_CHECKING:
    from crm.accounts.models import User

DEAL_KEYS = ("awaiting_contract", "awaiting_filing", "awaiting_move_in")


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    parts: list[Card | Action] = _trust_cards(user)
    if user.has_perm("customers.import_customers"):
        parts.append(Action("导入客户", reverse("customers:import"), order=10))
    if user.has_perm("customers.add_customer"):
        parts.append(Action("＋ 新建客户", reverse("customers:create"), primary=True, order=20))
    scope = widest_scope(user)
    if scope == Scope.NONE or not user.has_perm("customers.view_customer"):
        return [*parts, Card("no_customers", template="customers/cards/no_customers.html", order=90)]
    customer_list = reverse("customers:list")
    birthday_mmdd = upcoming_mmdd(today, 7)
    counts = _scope_counts(user, today, birthday_mmdd)
    parts.append(
        Card(
            "customers",
            stats=(
                Stat("customers", SCOPE_LABELS[scope], counts["customers"], customer_list),
                Stat("new_this_week", "本周新增", counts["new_this_week"], f"{customer_list}?created=week"),
                Stat("grade_a", "A级客户", counts["grade_a"], f"{customer_list}?grade=A"),
                Stat("vip", "VIP客户", counts["vip"], f"{customer_list}?vip=1"),
                Stat("birthdays", "7天内生日", counts["birthdays"], f"{customer_list}?birthday=week"),
            ),
            # The list caps its total at 1000+; these are exact (and, for wide scopes, cached).
            template="customers/cards/count_note.html",
            context={"cached_minutes": cached_minutes(wide=_wide(user))},
            order=50,
        )
    )
    if user.has_perm("customers.view_deal"):
        deal_list = reverse("customers:deal_list")
        parts.append(
            Card(
                "deals",
                title="成交节点",
                stats=tuple(
                    Stat(
                        key, DEAL_MILESTONES[key][0], counts[key], f"{deal_list}?milestone={key}", warn=counts[key] > 0
                    )
                    for key in DEAL_KEYS
                ),
                order=55,
            )
        )
    # Order by days from today, so 12月30日 comes before 1月2日 across the new year.
    upcoming = customers_visible_to(user).filter(birth_mmdd__in=birthday_mmdd).select_related("owner")[:200]
    birthdays = sorted(upcoming, key=lambda c: birthday_mmdd.index(c.birth_mmdd))[:10]
    # A join on the scope (not "customer IN (subquery)") lets PostgreSQL walk the events
    # newest first on their index and stop at ten: 3.6 s → milliseconds at 1,000,000 customers.
    events = list(
        TimelineEvent.objects.filter(customer_scope_q(user, prefix="customer__"), customer__is_archived=False)
        .select_related("customer", "actor")
        .order_by("-occurred_at", "-id")[:10]
    )
    parts += [
        Card(
            "birthdays",
            title="7天内生日",
            template="customers/cards/birthdays.html",
            context={"customers": birthdays, "url": f"{customer_list}?birthday=week"},
            order=60,
            half=True,
        ),
        Card(
            "recent_events",
            title="最新动态",
            template="customers/cards/events.html",
            context={"events": events},
            order=61,
            half=True,
        ),
    ]
    return parts


def _wide(user: User) -> bool:
    """A director's or management's hundreds of thousands of customers: each count is a
    scan of the table, so their counts are cached (crm.core.cards.wide_scope_counts)."""
    return widest_scope(user) >= Scope.PROJECT


def _scope_counts(user: User, today: date, birthday_mmdd: list[str]) -> dict[str, int]:
    """Every customer count in two queries (one over customers, one over deals); a wide
    scope's kept WORKBENCH_CACHE_SECONDS, a consultant's own counted on every visit."""

    def compute() -> dict[str, int]:
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
        return counts

    counts, _ = wide_scope_counts(f"workbench:{user.pk}:{today.isoformat()}", compute, wide=_wide(user))
    return counts


def _trust_cards(user: User) -> list[Card | Action]:
    """For supervisors: bulk exports waiting for approval and users stopped for unusual
    access (docs/privacy.md). Shown only when there is something to do (alerts, order 10)."""
    stats = []
    if user.has_perm("customers.approve_export"):
        waiting = pending_exports(user).count()
        if waiting:
            stats.append(Stat("exports_waiting", "导出待审批", waiting, reverse("customers:exports"), warn=True))
    if user.has_perm("customers.view_security_audit") and user.company_id is not None:
        alerts = AccessAlert.objects.filter(company_id=user.company_id, resolved_at__isnull=True).count()
        if alerts:
            stats.append(Stat("access_alerts", "异常访问告警", alerts, reverse("customers:alerts"), warn=True))
    return [Card("trust", title="个人信息保护", stats=tuple(stats), order=10)] if stats else []
