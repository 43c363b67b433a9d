"""Demo rows of 个人信息申请: a copy request being handled, a correction due soon, an
erasure carried out (its ledger row), and one run of the prospect retention job."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from crm.accounts.models import Company, User
from crm.customers.models import Customer
from crm.lib.dates import local_day
from crm.privacy import erasure, services
from crm.privacy.models import RetentionRun


def seed(company: Company, seed_value: int) -> int:
    director = User.objects.get(company=company, username="director1")
    now = timezone.now()
    today = local_day(now)
    customers = list(
        Customer.objects.filter(
            company=company, is_archived=False, deals__isnull=True, project__in=director.projects.all()
        ).order_by("id")[:3]
    )
    if len(customers) < 3:
        return 0
    copy = services.create_request(
        customers[0],
        actor=director,
        kind="copy",
        received_via="visit",
        identity_check="到访出示身份证原件，核对姓名与登记信息一致",
        received_on=today,
        now=now,
    )
    services.start_request(copy, actor=director, now=now)
    services.create_request(
        customers[1],
        actor=director,
        kind="correct",
        received_via="phone",
        identity_check="回拨登记手机号，核对购房意向楼盘",
        received_on=today - timedelta(days=14),
        details="工作单位已变更，请更正为新单位",
        now=now,
    )
    erase = services.create_request(
        customers[2],
        actor=director,
        kind="erase",
        received_via="letter",
        identity_check="书面申请附身份证复印件，签名与登记一致",
        received_on=today - timedelta(days=3),
        now=now,
    )
    services.erase_for_request(erase, actor=director, now=now)
    RetentionRun.objects.create(
        company=company,
        job="anonymise_stale_prospects",
        started_at=now - timedelta(days=1),
        finished_at=now - timedelta(days=1),
        cutoff_at=now - timedelta(days=730),
        examined=0,
        anonymised=0,
        note="演示：无超过24个月未跟进的潜在客户",
    )
    return 3 + int(erasure.is_erased(customers[2].pk))
