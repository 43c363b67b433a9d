"""PI leak scan: 1,000 synthetic customers with valid-checksum fake ID numbers go through
registration, search, reveal, edits, complaints, exports and an erasure; then the database
(every column of every table, and SQLite's own dump), the captured logs, the audit log and
every export a role without ``export_contact`` downloads hold 0 plaintext ID numbers and 0
unmasked mobiles outside the columns that are the numbers' home (a customer's mobile, a
complainant's contact number …), audited reveals and approved exports (the data-subject
copy). Figures in docs/reliability.md.
"""

from __future__ import annotations

import logging
import random
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, models
from django.utils import timezone

from crm.complaints import services as complaint_services
from crm.complaints.models import Category, Channel
from crm.core.models import AuditLog
from crm.customers.models import Channel as Source
from crm.customers.models import Customer
from crm.customers.services import create_customer, reveal_contact, update_customer
from crm.lib.workcalendar import WorkCalendar
from crm.privacy import erasure

from .sweep import body_text

pytestmark = pytest.mark.django_db

COUNT = 1000
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_RE = re.compile(r"(?<![\dA-Z])\d{17}[\dX](?![\dA-Z])")

# The columns that are a number's home: the value itself, shown masked and revealed only by
# an audited action. Anywhere else a full mobile is a leak.
MOBILE_HOMES = {
    ("customers.customer", "mobile"),
    ("customers.customer", "mobile2"),
    ("customers.familymember", "mobile"),
    ("complaints.complaint", "complainant_mobile"),
    ("complaints.consultation", "contact_mobile"),
    ("complaints.customerissue", "contact_mobile"),
    ("care.outboundmessage", "contact_mobile"),
    ("care.optedoutmobile", "mobile"),
    ("care.inboundreply", "mobile"),
    ("accounts.user", "mobile"),
}


def fake_id(rng: random.Random, n: int) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(18_000))
    body = f"410105{born:%Y%m%d}{n % 1000:03d}"
    return body + _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def scan(text: str, mobiles: set[str], ids: set[str]) -> tuple[list[str], list[str]]:
    return [m for m in MOBILE_RE.findall(text) if m in mobiles], [i for i in ID_RE.findall(text) if i in ids]


def database_findings(mobiles: set[str], ids: set[str]) -> dict[str, Any]:
    """Every column of every table: ID numbers nowhere, mobiles only in their homes."""
    found: dict[str, Any] = {"id": [], "mobile": []}
    for model in apps.get_models():
        label = model._meta.label_lower
        for f in model._meta.concrete_fields:
            if isinstance(f, (models.ForeignKey, models.AutoField, models.BooleanField, models.DateTimeField)):
                continue
            for value in model._default_manager.values_list(f.attname, flat=True).iterator():
                if value is None:
                    continue
                text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                bad_mobiles, bad_ids = scan(text, mobiles, ids)
                found["id"] += [f"{label}.{f.attname}" for _ in bad_ids]
                # The audit log is scanned on its own below (its one known finding).
                if (label, f.attname) not in MOBILE_HOMES and label != "core.auditlog":
                    found["mobile"] += [f"{label}.{f.attname}" for _ in bad_mobiles]
    return found


def test_no_plaintext_id_or_unmasked_mobile_leaks(
    client, company, project, consultant, service, director, supervisor, caplog, settings
):
    caplog.set_level(logging.DEBUG)
    rng = random.Random(14)
    ids = {fake_id(rng, n) for n in range(COUNT)}
    mobiles = {f"13{rng.randrange(10**9):09d}" for _ in range(COUNT)}
    customers = [
        create_customer(
            actor=consultant,
            company=company,
            name=f"扫描客户{n:04d}",
            owner=consultant,
            project_id=project.pk,
            mobile=mobile,
            source_channel=Source.VISIT,
            id_number=id_number,
        )
        for n, (mobile, id_number) in enumerate(zip(sorted(mobiles), sorted(ids), strict=False))
    ]
    assert len(customers) == min(len(mobiles), len(ids)) >= COUNT - 5

    # What staff do with them: search by full mobile and ID, reveal (audited), edit a
    # mobile and an ID, register a complaint, export, erase one.
    client.force_login(consultant)
    first, second, third = customers[:3]
    for text in (first.mobile, sorted(ids)[0]):
        # The search form posts; a full number is swapped for an opaque token in the URL.
        response = client.post("/customers/search/", {"q": text}, follow=True)
        assert response.status_code == 200
        assert text not in response.redirect_chain[-1][0]
    revealed = reveal_contact(first, actor=consultant, field="mobile", reason="回访核对")
    assert revealed == first.mobile
    new_mobile = f"13{rng.randrange(10**9):09d}"
    mobiles.add(new_mobile)
    update_customer(second, actor=consultant, mobile=new_mobile)
    new_id = fake_id(rng, 999)
    ids.add(new_id)
    update_customer(third, actor=consultant, id_number=new_id)
    complaint_services.ensure_default_categories(company)
    complaint_services.register_complaint(
        complaint_services.Intake(
            channel=Channel.PHONE,
            complainant_name=third.name,
            complainant_mobile=third.mobile,
            content=f"联系电话 {third.mobile}，身份证 {new_id}",  # typed into the free text by a person
            project=project,
            category=Category.objects.get(company=company, name="服务质量"),
        ),
        actor=service,
        now=timezone.now(),
        calendar=WorkCalendar(),
    )
    erasure.anonymise_customer(third, actor=director, reason="客户申请", now=timezone.now())

    exports: dict[str, str] = {}
    for user, url in (
        (consultant, "/customers/export/"),
        (supervisor, "/customers/export/"),
        (supervisor, "/customers/deals/export/"),
        (service, "/complaints/export/"),
        (supervisor, "/visits/export/"),
    ):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        exports[f"{user.username} {url}"] = body_text(response)

    db = database_findings(mobiles, ids)
    dump = "\n".join(connection.connection.iterdump()) if connection.vendor == "sqlite" else ""
    dump_ids = scan(dump, mobiles, ids)[1]
    log_text = "\n".join(r.getMessage() for r in caplog.records)
    log_mobiles, log_ids = scan(log_text, mobiles, ids)
    audit_rows = list(AuditLog.objects.values_list("action", "summary", "changes", "reason"))
    audit_mobiles = [(a, m) for a, *rest in audit_rows for m in scan(repr(rest), mobiles, ids)[0]]
    audit_ids = [i for _, *rest in audit_rows for i in scan(repr(rest), mobiles, ids)[1]]
    export_findings = {k: scan(v, mobiles, ids) for k, v in exports.items()}

    figures = {
        "customers": len(customers),
        "db_ids": len(db["id"]),
        "db_mobiles_outside_homes": len(db["mobile"]),
        "sqlite_dump_ids": len(dump_ids),
        "log_records": len(caplog.records),
        "log_mobiles": len(log_mobiles),
        "log_ids": len(log_ids),
        "audit_rows": len(audit_rows),
        "audit_ids": len(audit_ids),
        "audit_mobiles": len(audit_mobiles),
        "exports": len(exports),
        "export_mobiles": sum(len(m) for m, _ in export_findings.values()),
        "export_ids": sum(len(i) for _, i in export_findings.values()),
    }
    print(f"PI leak scan: {figures}")
    # The free text a person typed numbers into is anonymised with the customer; the columns
    # the application writes never hold an ID number or (outside a number's home) a mobile.
    assert db == {"id": [], "mobile": []}
    assert dump_ids == []
    assert (log_mobiles, log_ids) == ([], [])
    assert audit_ids == []
    # Audit rows are masked when written (crm.core.audit.redact): not even an edited
    # mobile's diff holds a full number.
    assert audit_mobiles == []
    assert all(m == ([], []) for m in export_findings.values()), export_findings
    assert Customer.objects.filter(pk=third.pk, name=erasure.ERASED_NAME).exists()


def test_the_scan_finds_a_planted_number(customer):
    """The scanner is not blind: a mobile and an ID number written where they do not belong
    are found (the control for the figures above)."""
    from crm.customers.timeline import record

    id_number = fake_id(random.Random(1), 7)
    record(customer, "note", f"客户手机 {customer.mobile}，身份证 {id_number}")
    found = database_findings({customer.mobile}, {id_number})
    assert found["mobile"] == ["customers.timelineevent.summary"]
    assert "customers.timelineevent.summary" in found["id"]
    assert scan(f"log line {customer.mobile}", {customer.mobile}, set()) == ([customer.mobile], [])
