"""Demo 站内通知: the earlier steps' dispatches, plans, reported departments and held mail
already notified their people through the services; here the breached demo complaints
escalate as the 15-minute job would (the director's bell, 已升级), and what is older than a
day is marked read, so the inbox shows read and unread notifications."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from crm.accounts.models import Company
from crm.complaints import jobs
from crm.core.models import Notification


def seed(company: Company, seed_value: int) -> int:
    now = timezone.now()
    jobs.escalate_breached(now=now)
    rows = Notification.objects.filter(recipient__company=company)
    rows.filter(created_at__lt=now - timedelta(days=1)).update(read_at=now)
    return rows.count()
