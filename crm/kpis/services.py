"""Writes of the KPI app: the team leader's improvement plan on a scorecard."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from crm.accounts.access import leads_team_of
from crm.core import audit
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.kpis.models import ScorecardPlan

if TYPE_CHECKING:
    from crm.accounts.models import User

PLAN_MAX = 2000


def save_plan(consultant: User, *, actor: User, month: date, plan: str, now: datetime | None = None) -> ScorecardPlan:
    """The consultant's team leader writes (or rewrites) the month's improvement plan.

    1. Only the leader of the consultant's team (crm.accounts.access.leads_team_of).
    2. At most 2,000 characters; an empty plan is kept as empty (the leader cleared it).
    3. One row per consultant and month (written again, not duplicated); audited.
    """
    if not leads_team_of(actor, consultant):
        raise NotAllowed("只有该顾问所在小组的组长可以填写改进计划")
    text = (plan or "").strip()
    if len(text) > PLAN_MAX:
        raise DomainError(f"改进计划最多 {PLAN_MAX} 字", field="plan")
    now = now or timezone.now()
    with transaction.atomic():
        row, _ = ScorecardPlan.objects.update_or_create(
            consultant=consultant,
            month=month.replace(day=1),
            defaults={"company_id": consultant.company_id or 0, "plan": text, "written_by": actor, "written_at": now},
        )
        audit.log(
            audit.AuditLog.Action.UPDATE,
            actor=actor,
            target=row,
            summary=f"顾问考核改进计划：{consultant} {month:%Y-%m}",
        )
    return row
