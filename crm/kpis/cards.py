"""指标看板's card on the workbench: the management home for the management roles.

管理层 and 客服中心主任 (``kpis.view_management_home``) see the month's headline figures,
the breached complaints and the approvals waiting, each linking to the page or list behind
it; whoever may read the dashboard but not the home gets a quick link to the dashboard.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone

from crm.accounts.access import widest_scope
from crm.accounts.roles import Scope
from crm.complaints import selectors as complaints
from crm.core.cards import Action, Card, Stat, wide_scope_counts
from crm.kpis import definitions, periods
from crm.kpis.definitions import KpiQuery

if TYPE_CHECKING:
    from crm.accounts.models import User

HEADLINE = ("complaint_rate", "resolution_timeliness", "visit_satisfaction")
# The tile's big number is the figure's numerator (a count, linking to what it counts);
# its label says so before giving the rate, so "14" is not read as the rate itself.
COUNTED = {
    "complaint_rate": "本月投诉（件）",
    "resolution_timeliness": "按时处理（件）",
    "visit_satisfaction": "回访满意（条）",
}


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
    if user.has_perm("kpis.view_management_home"):
        home = reverse("kpis:home")
        month = periods.month_of(today)
        kpis = (definitions.complaint_rate, definitions.resolution_timeliness, definitions.visit_satisfaction)

        def figures() -> dict[str, tuple[str, int]]:
            q = KpiQuery(user, month.start, month.end)
            return {f.key: (f"{COUNTED[f.key]}，{f.label} {f.display}", f.numerator) for f in (kpi(q) for kpi in kpis)}

        # The month's figures read every complaint, visit task and customer of the scope.
        headline, note = wide_scope_counts(
            f"workbench:kpis-counted:{user.pk}:{today.isoformat()}", figures, wide=widest_scope(user) >= Scope.PROJECT
        )
        stats = [Stat(key, label, numerator, home) for key, (label, numerator) in headline.items()]
        breached = complaints.breached(user, now=timezone.now()).count()
        url = f"{reverse('complaints:list')}?state=breached" if user.has_perm("complaints.view_complaint") else home
        stats.append(Stat("breached", "投诉已超时", breached, url, warn=breached > 0))
        return [
            Card("kpis_home", title="管理首页 · 本月指标", stats=tuple(stats), order=15, note=note),
            Action("管理首页", home, primary=False, order=60),
        ]
    if user.has_perm("kpis.view_kpis"):
        return [Action("指标看板", reverse("kpis:dashboard"), order=80)]
    return []
