"""Backfill: every customer registered with a referrer before this app gets its Referral
row (连锁介绍, recorded when and by whom the customer was registered), so the lists,
chains and statistics start complete."""

from django.db import migrations
from django.db.models import F


def backfill(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Referral = apps.get_model("referrals", "Referral")
    existing = set(Referral.objects.values_list("referred_id", flat=True))
    batch = []
    rows = (
        Customer.objects.filter(referrer__isnull=False)
        .exclude(referrer_id=F("pk"))
        .values_list("pk", "company_id", "referrer_id", "created_at", "created_by_id")
        .iterator(chunk_size=2000)
    )
    for pk, company_id, referrer_id, created_at, created_by_id in rows:
        if pk in existing:
            continue
        batch.append(
            Referral(
                company_id=company_id,
                referrer_id=referrer_id,
                referred_id=pk,
                channel="chain",
                recorded_by_id=created_by_id,
                created_at=created_at,
            )
        )
        if len(batch) >= 2000:
            Referral.objects.bulk_create(batch)
            batch = []
    Referral.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
        ("customers", "0012_audit_company_and_id_hints"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
