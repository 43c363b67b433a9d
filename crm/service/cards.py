"""客服运营's cards on the workbench: duty and handovers.

An officer sees the handovers waiting for their acceptance and their current shift; the
director (值班抽查) the open handovers, the refused ones (warned) and the shifts with
matters escalated to them. Each count links to the list with the same filter
(crm.service.selectors.handover_state_q / shift_state_q), so number and rows agree.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from crm.core.cards import Card, Stat
from crm.service import selectors, services

if TYPE_CHECKING:
    from crm.accounts.models import User


def _url(name: str, state: str) -> str:
    return f"{reverse(name)}?{urlencode({'state': state})}"


def workbench_cards(user: User, *, today: date) -> list[Card]:
    stats: list[Stat] = []
    now = timezone.now()
    if user.has_perm(services.VIEW_HANDOVER):
        handovers = selectors.handovers_visible_to(user)
        if user.has_perm(services.KEEP_LOG):
            n = handovers.filter(selectors.handover_state_q("waiting_me", user=user)).count()
            stats.append(
                Stat("handover_waiting_me", "等我接班", n, _url("service:handover_list", "waiting_me"), warn=n > 0)
            )
        if user.has_perm(services.CHECK):
            n = handovers.filter(selectors.handover_state_q("open", user=user)).count()
            stats.append(Stat("handover_open", "未完成交接", n, _url("service:handover_list", "open")))
            n = handovers.filter(selectors.handover_state_q("refused", user=user)).count()
            stats.append(
                Stat("handover_refused", "拒接未完成", n, _url("service:handover_list", "refused"), warn=n > 0)
            )
    if user.has_perm(services.VIEW_SHIFT):
        shifts = selectors.shifts_visible_to(user)
        if user.has_perm(services.CHECK):
            n = shifts.filter(selectors.shift_state_q("escalated", user=user, now=now)).count()
            stats.append(Stat("duty_escalated", "值班上报事项", n, _url("service:shift_list", "escalated"), warn=n > 0))
        n = shifts.filter(selectors.shift_state_q("now", user=user, now=now)).count()
        stats.append(Stat("duty_now", "正在值班", n, _url("service:shift_list", "now")))
    if not stats:
        return []
    return [Card("service_duty", title="值班与交接班", stats=tuple(stats), order=30)]
