"""The prospect retention job: stale prospects are anonymised, owners and held ones are not."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from crm.customers.models import Customer, TimelineEvent
from crm.customers.services import create_deal
from crm.lib.dates import CHINA_TZ
from crm.privacy import jobs, services
from crm.privacy.models import ErasureRecord, RetentionRun

pytestmark = pytest.mark.django_db

LATER = datetime(2029, 1, 10, 3, 0, tzinfo=CHINA_TZ)


def test_cutoff_is_24_months_back_at_local_midnight():
    assert jobs.prospect_cutoff(LATER) == datetime(2027, 1, 10, tzinfo=CHINA_TZ)
    assert jobs.prospect_cutoff(datetime(2026, 8, 31, 12, tzinfo=CHINA_TZ)).date() == date(2024, 8, 31)


def test_stale_prospects_are_anonymised_and_the_run_is_recorded(make_customer, unit, consultant, admin_user):
    stale = make_customer("久未跟进")
    active = make_customer("最近跟进")
    owner = make_customer("已成交")
    held = make_customer("诉讼中")
    create_deal(actor=consultant, customer=owner, unit=unit, subscribed_on=date(2026, 11, 1))
    services.set_legal_hold(held, actor=admin_user, reason="诉讼保全", now=LATER)
    old = LATER - timedelta(days=800)
    Customer.objects.update(created_at=old, updated_at=old)
    TimelineEvent.objects.update(occurred_at=old)
    TimelineEvent.objects.create(customer=active, kind="note", occurred_at=LATER - timedelta(days=30), summary="回访")

    assert jobs.anonymise_stale_prospects(now=LATER) == 1

    assert Customer.objects.get(pk=stale.pk).name == "已注销客户"
    for kept in (active, owner, held):
        assert Customer.objects.get(pk=kept.pk).name == kept.name
    record = ErasureRecord.objects.get(customer_pk=stale.pk)
    assert record.kind == "retention"
    assert record.erased_by is None
    run = RetentionRun.objects.get()
    assert (run.examined, run.anonymised, run.held) == (2, 1, 1)
    # A second run finds nothing more to do and says so.
    assert jobs.anonymise_stale_prospects(now=LATER) == 0
    assert RetentionRun.objects.latest("id").anonymised == 0


def test_complaint_retention_records_its_run(world):
    from crm.complaints.models import Complaint, PurgeRecord

    Complaint.objects.filter(pk=world.complaint.pk).update(
        status=Complaint.Status.ARCHIVED, archived_at=LATER - timedelta(days=400)
    )
    assert jobs.purge_expired_complaints(now=LATER) == 1
    assert PurgeRecord.objects.count() == 1
    run = RetentionRun.objects.get(job=jobs.COMPLAINT_JOB)
    assert (run.company_id, run.anonymised) == (world.customer.company_id, 1)
