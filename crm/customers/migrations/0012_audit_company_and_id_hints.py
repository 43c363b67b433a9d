"""Backfill the company of audit rows written before it was recorded (from the customer,
else the acting user), and store ID number hints in the new mask (decision 0025)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):
    AuditLog = apps.get_model("core", "AuditLog")
    Customer = apps.get_model("customers", "Customer")
    User = apps.get_model("accounts", "User")
    customer_company = Customer.objects.filter(pk=OuterRef("customer_id")).values("company_id")[:1]
    AuditLog.objects.filter(company_id__isnull=True, customer_id__isnull=False).update(
        company_id=Subquery(customer_company)
    )
    actor_company = User.objects.filter(pk=OuterRef("actor_id")).values("company_id")[:1]
    AuditLog.objects.filter(company_id__isnull=True, actor_id__isnull=False).update(company_id=Subquery(actor_company))
    for pk, hint in Customer.objects.exclude(id_number_hint="").values_list("pk", "id_number_hint").iterator():
        if len(hint) == 18:
            Customer.objects.filter(pk=pk).update(id_number_hint=f"{hint[:4]}{'*' * 10}{hint[-4:]}")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0011_privacy_exports_and_access_limits"),
        ("core", "0005_audit_company_and_label"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
