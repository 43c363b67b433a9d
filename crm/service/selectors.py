"""Reads of the duty roster and handovers, scoped to the user.

The scope is the one access rule (crm.accounts.access.scope_q) over each row's company,
project and the officers on it: duty officers, specialists and the director see their
projects' shifts and handovers, company-wide roles the company's; an officer always sees
their own (the owner path is the shift's officer, the handover's outgoing officer, and
the advisor path its incoming officer). Outside the scope a row is a 404, never a 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from crm.accounts.access import NOTHING, project_q, scope_q
from crm.projects.models import Project
from crm.service import services
from crm.service.models import DutyCheck, DutyLogEntry, Handover, HandoverEvent, Shift

if TYPE_CHECKING:
    from crm.accounts.models import User

Status = Handover.Status


def shift_scope_q(user: User, *, prefix: str = "") -> Q:
    if not user.has_perm(services.VIEW_SHIFT):
        return NOTHING
    return scope_q(user, company=f"{prefix}company", owner=f"{prefix}officer", project=f"{prefix}project")


def shifts_visible_to(user: User) -> QuerySet[Shift]:
    return Shift.objects.filter(shift_scope_q(user))


def get_shift_for_user(user: User, pk: int) -> Shift:
    shift = shifts_visible_to(user).select_related("project", "officer", "manager").filter(pk=pk).first()
    if shift is None:
        raise Http404("班次不存在或无权查看")
    return shift


def shift_log(shift: Shift) -> QuerySet[DutyLogEntry]:
    return shift.log_entries.select_related("customer", "recorded_by").order_by("at", "id")


def shift_checks(shift: Shift) -> QuerySet[DutyCheck]:
    return shift.checks.select_related("checked_by").order_by("-checked_at", "-id")


def handover_scope_q(user: User) -> Q:
    if not user.has_perm(services.VIEW_HANDOVER):
        return NOTHING
    return scope_q(user, company="company", owner="outgoing", advisor="incoming", project="project")


def handovers_visible_to(user: User) -> QuerySet[Handover]:
    return Handover.objects.filter(handover_scope_q(user))


def get_handover_for_user(user: User, pk: int) -> Handover:
    handover = (
        handovers_visible_to(user).select_related("project", "shift", "outgoing", "incoming").filter(pk=pk).first()
    )
    if handover is None:
        raise Http404("交接班记录不存在或无权查看")
    return handover


def handover_events(handover: Handover) -> QuerySet[HandoverEvent]:
    return handover.events.select_related("actor").order_by("at", "id")


def projects_for_duty(user: User) -> QuerySet[Project]:
    return Project.objects.filter(project_q(user))


# ---------------------------------------------------------------- list filters

HANDOVER_STATES = {
    "open": "未完成交接",
    "refused": "曾被拒接（未完成）",
    "waiting_me": "等我接班",
    "accepted": "已接班",
}


def handover_state_q(state: str, *, user: User) -> Q:
    open_q = Q(status__in=list(Handover.OPEN_STATUSES))
    if state == "open":
        return open_q
    if state == "refused":
        return open_q & Q(refused_at__isnull=False)
    if state == "waiting_me":
        return Q(status=Status.SUBMITTED, incoming=user)
    if state == "accepted":
        return Q(status=Status.ACCEPTED)
    return Q()


SHIFT_STATES = {
    "now": "正在值班",
    "upcoming": "未开始",
    "holiday": "节假日班次",
    "mine": "我的班次",
    "escalated": "有上报事项",
}


def shift_state_q(state: str, *, user: User, now: datetime) -> Q:
    if state == "now":
        return Q(starts_at__lte=now, ends_at__gt=now)
    if state == "upcoming":
        return Q(starts_at__gt=now)
    if state == "holiday":
        return Q(is_holiday=True)
    if state == "mine":
        return Q(officer=user)
    if state == "escalated":
        return Q(pk__in=DutyLogEntry.objects.filter(is_escalated=True).values("shift_id"))
    return Q()
