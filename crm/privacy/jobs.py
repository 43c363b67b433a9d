"""Retention jobs (PIPL art. 19: kept no longer than the purpose needs).

``anonymise_stale_prospects``: a prospect — a customer with no deal at all — with no
activity for ``PROSPECT_RETENTION_MONTHS`` (24) is anonymised by the same mechanism as an
erasure request (crm.privacy.erasure), ledger row included. Activity is the latest of the
customer row's change, its creation and its newest timeline event (a visit, a message, a
complaint, a note all write one). Customers under a legal hold are counted and left.
Each run writes one ``RetentionRun`` per company it looked at.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, Max, OuterRef
from django.db.models.functions import Coalesce, Greatest

from crm.accounts.models import Company
from crm.customers.models import Customer, Deal, TimelineEvent
from crm.lib.dates import local_day, local_midnight
from crm.privacy import erasure
from crm.privacy.models import ErasureRecord, LegalHold, RetentionRun

JOB = "anonymise_stale_prospects"


def prospect_cutoff(now: datetime) -> datetime:
    """Prospects with no activity since this moment have expired: local midnight the
    configured number of months before today (the 29th–31st fall back to the month's end)."""
    months = int(getattr(settings, "PROSPECT_RETENTION_MONTHS", 24))
    today = local_day(now)
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    day = today.day
    while True:
        try:
            return local_midnight(today.replace(year=year, month=month + 1, day=day))
        except ValueError:
            day -= 1


def stale_prospects(now: datetime) -> list[int]:
    cutoff = prospect_cutoff(now)
    latest_event = (
        TimelineEvent.objects.filter(customer=OuterRef("pk"))
        .values("customer")
        .annotate(latest=Max("occurred_at"))
        .values("latest")
    )
    qs = (
        Customer.objects.filter(merged_into__isnull=True)
        .exclude(Exists(Deal.objects.filter(customer=OuterRef("pk"))))
        .exclude(Exists(ErasureRecord.objects.filter(customer_pk=OuterRef("pk")).exclude(kind="restrict")))
        .annotate(active=Greatest("updated_at", "created_at", Coalesce(latest_event, "created_at")))
        .filter(active__lt=cutoff)
    )
    return list(qs.order_by("id").values_list("pk", flat=True))


def anonymise_stale_prospects(*, now: datetime, limit: int = 500) -> int:
    cutoff = prospect_cutoff(now)
    pks = stale_prospects(now)
    held = set(
        LegalHold.objects.filter(customer_id__in=pks, released_at__isnull=True).values_list("customer_id", flat=True)
    )
    runs = {
        company_id: RetentionRun.objects.create(company_id=company_id, job=JOB, started_at=now, cutoff_at=cutoff)
        for company_id in Company.objects.values_list("pk", flat=True)
    }
    months = int(getattr(settings, "PROSPECT_RETENTION_MONTHS", 24))
    done = 0
    for customer in Customer.objects.filter(pk__in=pks[: limit + len(held)]).order_by("id"):
        run = runs[customer.company_id]
        run.examined += 1
        if customer.pk in held:
            run.held += 1
            continue
        if done >= limit:
            continue
        erasure.anonymise_customer(
            customer,
            actor=None,
            reason=f"潜在客户超过{months}个月无跟进",
            kind=ErasureRecord.Kind.RETENTION,
            now=now,
        )
        run.anonymised += 1
        done += 1
    for run in runs.values():
        run.finished_at = now
        if len(pks) > limit + len(held):
            run.note = f"本次处理上限 {limit} 位，其余下次继续"
        run.save()
    return done


COMPLAINT_JOB = "purge_expired_complaints"


def purge_expired_complaints(*, now: datetime) -> int:
    """Complaint retention (crm.complaints.retention: archived complaints kept one year,
    important ones indefinitely), run through here so that it, too, leaves a RetentionRun
    per company: how many complaints were due and how many were purged (each with its own
    PurgeRecord, as before)."""
    from crm.complaints.jobs import purge_expired_complaints as purge
    from crm.complaints.models import PurgeRecord

    cutoff = now - timedelta(days=int(getattr(settings, "COMPLAINT_RETENTION_DAYS", 365)))
    purged = purge(now=now)
    # The records this run wrote carry its moment as their purge time.
    by_company = dict(
        PurgeRecord.objects.filter(purged_at=now)
        .values("company_id")
        .annotate(n=Count("pk"))
        .values_list("company_id", "n")
    )
    for company_id in Company.objects.values_list("pk", flat=True):
        count = by_company.get(company_id, 0)
        RetentionRun.objects.create(
            company_id=company_id,
            job=COMPLAINT_JOB,
            started_at=now,
            finished_at=now,
            cutoff_at=cutoff,
            examined=count,
            anonymised=count,
            note=f"清除归档满{settings.COMPLAINT_RETENTION_DAYS}天的投诉 {count} 件（不含重要投诉）",
        )
    return purged
