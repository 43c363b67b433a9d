"""客服运营's cards on the workbench: duty and handovers.

An officer sees the handovers waiting for their acceptance and their current shift; the
director (值班抽查) the open handovers, the refused ones (warned) and the shifts with
matters escalated to them. Each count links to the list with the same filter
(crm.service.selectors.handover_state_q / shift_state_q), so number and rows agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from crm.core.cards import Action, Card, Stat
from crm.service import selectors, services
from crm.service.models import Finding

if TYPE_CHECKING:
    from crm.accounts.models import User


def _url(name: str, state: str) -> str:
    return f"{reverse(name)}?{urlencode({'state': state})}"


def workbench_cards(user: User, *, today: date) -> list[Card | Action]:
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
        if user.has_perm(services.PLAN):
            n = len(selectors.roster_gaps(user, now=now))
            stats.append(Stat("duty_gaps", "未来7天值班空档", n, reverse("service:shift_list"), warn=n > 0))
        n = shifts.filter(selectors.shift_state_q("now", user=user, now=now)).count()
        stats.append(Stat("duty_now", "正在值班", n, _url("service:shift_list", "now")))
    cards: list[Card | Action] = []
    if stats:
        cards.append(Card("service_duty", title="值班与交接班", stats=tuple(stats), order=30))
    gifts = _gift_stats(user, today=today)
    if gifts:
        cards.append(Card("service_gifts", title="礼品与生日", stats=tuple(gifts), order=32))
    checks = _inspection_stats(user, now=now)
    if checks:
        cards.append(Card("service_inspection", title="日常巡查", stats=tuple(checks), order=12))
    displays = _display_stats(user, today=today)
    if displays:
        cards.append(Card("service_displays", title="现场公示", stats=tuple(displays), order=14))
    if user.has_perm(services.ISSUE_GIFT):
        cards.append(Action("发放礼品", reverse("service:issue_new"), order=45))
    return cards


def _gift_stats(user: User, *, today: date) -> list[Stat]:
    """待送礼品 (the consultant's own, or all in scope for a manager) and this week's
    birthdays from the monthly list (the list page shows the whole month)."""
    stats: list[Stat] = []
    if user.has_perm("service.view_gifttask"):
        state = "mine" if user.has_perm(services.ISSUE_GIFT) else "open"
        n = selectors.tasks_visible_to(user).filter(selectors.task_state_q(state, user=user)).count()
        stats.append(Stat("gift_tasks", "待送礼品", n, _url("service:task_list", state), warn=n > 0))
    if user.has_perm("service.view_birthdayentry"):
        first, last = selectors.period_bounds("week", today)
        n = selectors.birthdays_visible_to(user).filter(birthday_on__range=(first, last)).count()
        stats.append(Stat("birthdays_week", "本周生日", n, reverse("service:birthday_list")))
    return stats


def _inspection_stats(user: User, *, now: datetime) -> list[Stat]:
    """Shown only when something is late: projects not inspected by 10:00 and findings not
    handled by 11:00 (an alert card, near the top)."""
    if not user.has_perm(services.VIEW_INSPECTION):
        return []
    url = reverse("service:inspection_list")
    stats = []
    late = len(selectors.late_inspections(user, now=now))
    if late:
        stats.append(Stat("inspection_late", "10:00前未完成巡查", late, url, warn=True))
    findings = selectors.findings_visible_to(user)
    overdue = findings.filter(selectors.overdue_findings_q(now)).count()
    if overdue:
        stats.append(Stat("findings_overdue", "巡查问题超时未处理", overdue, url, warn=True))
    # 工程方面问题第一时间告知 (seed 001): open engineering findings stay on the card until handled.
    engineering = findings.filter(handled_at__isnull=True, department=Finding.Department.ENGINEERING).count()
    if engineering:
        stats.append(Stat("findings_engineering", "工程问题未处理", engineering, url, warn=True))
    return stats


def _display_stats(user: User, *, today: date) -> list[Stat]:
    """Display items of the user's projects not checked for more than
    DISPLAY_CHECK_STALE_DAYS days (or never), for those who inspect or manage them; shown
    only when there are some. The link opens the list with the same filter."""
    if not user.has_perm(services.VIEW_DISPLAY) or not (
        user.has_perm(services.INSPECT) or user.has_perm(services.MANAGE_MATERIAL)
    ):
        return []
    days = services.display_stale_days()
    n = selectors.display_items_visible_to(user).filter(selectors.stale_display_q(today, days)).count()
    if not n:
        return []
    url = f"{reverse('service:display_list')}?{urlencode({'stale': 'on'})}"
    return [Stat("displays_stale", f"超过{days}天未检查的公示项", n, url, warn=True)]
