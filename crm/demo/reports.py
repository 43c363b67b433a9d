"""Demo report packs (报告): last week's 周报 of 锦华苑, written and submitted by 客服专员
service1, and last month's 月报 of every project, still a draft waiting for its summary."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from crm.accounts.models import Company, User
from crm.lib.dates import local_day
from crm.projects.models import Project
from crm.reports import periods, services
from crm.reports.models import Kind


def seed(company: Company, seed_value: int) -> int:
    now = timezone.now()
    today = local_day(now)
    project = Project.objects.filter(company=company).order_by("id").first()
    author = User.objects.filter(company=company, username="service1").first()
    if project is None or author is None:
        return 0
    first, last = periods.week_bounds(today - timedelta(days=7))
    weekly = services.generate_pack(
        Kind.WEEKLY, company_id=company.pk, project=project, first=first, last=last, now=now, actor=author
    )
    services.submit_pack(
        weekly,
        actor=author,
        summary="本周完成认购、签约客户的电话回访，客户对样板间和接待服务评价较好；礼品按时发放。",
        next_focus="跟进回访中客户反映的工程问题，按承诺日期答复客户；做好生日客户关怀。",
        now=now,
    )
    first, last = periods.month_bounds(periods.previous_month(today))
    services.generate_pack(Kind.MONTHLY, company_id=company.pk, project=None, first=first, last=last, now=now)
    return 2
