"""Demo rows of 顾问月度考核: last month's improvement plan for the first consultant of
each team, written by the team's leader (crm.visits.services.save_improvement_plan, the same plan the
visits score page shows)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from crm.accounts.models import Company, User
from crm.accounts.roles import Role, group_name
from crm.lib.dates import local_day
from crm.visits import services

PLAN = "逾期回访每天上午先处理；签约7日内回访全部按期完成；客户意见当天录入系统。"


def seed(company: Company, seed_value: int) -> int:
    now = timezone.now()
    last_month = (local_day(now).replace(day=1) - timedelta(days=1)).replace(day=1)
    written = 0
    consultants = User.objects.filter(
        company=company, groups__name=group_name(Role.CONSULTANT), team__leader__isnull=False
    ).select_related("team__leader")
    seen: set[int] = set()
    for consultant in consultants.order_by("username"):
        team = consultant.team
        if team is None or team.leader is None or team.pk in seen:
            continue
        seen.add(team.pk)
        services.save_improvement_plan(consultant, actor=team.leader, month=last_month, plan=PLAN, now=now)
        written += 1
    return written
