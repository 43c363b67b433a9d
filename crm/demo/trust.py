"""Demo rows of trust: the company's privacy settings, an export waiting for the
supervisor's approval, and an access alert (a consultant stopped after opening too many
customers in an hour), so the supervisor's workbench shows both cards."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from crm.accounts.models import Company, User
from crm.customers import guard
from crm.customers.models import AccessAlert, CompanyPrivacy, ExportRequest


def seed(company: Company, seed_value: int) -> int:
    CompanyPrivacy.objects.get_or_create(
        company=company,
        defaults={
            "export_approval_threshold": settings.EXPORT_APPROVAL_THRESHOLD,
            "open_limit_per_hour": settings.OPEN_LIMIT_PER_HOUR,
            "reveal_limit_per_hour": settings.REVEAL_LIMIT_PER_HOUR,
            "duplicate_limit_per_hour": settings.DUPLICATE_LIMIT_PER_HOUR,
        },
    )
    consultant = User.objects.get(company=company, username="consultant1")
    now = timezone.now()
    ExportRequest.objects.get_or_create(
        company=company,
        requested_by=consultant,
        purpose="本月生日客户回访名单",
        defaults={
            "kind": ExportRequest.Kind.CUSTOMERS,
            "params": {"stage": "owner"},
            "filters_text": "阶段：成交客户",
            "count": 120,
            "requested_at": now - timedelta(hours=2),
        },
    )
    if not AccessAlert.objects.filter(company=company).exists():
        guard.raise_alert(
            consultant, kind=AccessAlert.Kind.OPENS, count=201, limit=200, now=now - timedelta(minutes=30)
        )
    return 2
