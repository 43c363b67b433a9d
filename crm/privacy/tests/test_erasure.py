"""Erasure anonymises a customer everywhere and leaves a ledger row with no personal data."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.db import connection, models

from crm.care.models import OutboundMessage
from crm.complaints.models import Complaint
from crm.core.models import AuditLog
from crm.customers.models import Customer, CustomerProfile, Deal, FamilyMember, TimelineEvent
from crm.customers.selectors import customers_visible_to, search_customers
from crm.privacy import erasure
from crm.privacy.models import ErasureRecord
from crm.visits.models import VisitTask

from .conftest import ID_NUMBER, MOBILE, MOBILE2, NAME, NOW

pytestmark = pytest.mark.django_db(transaction=False)


def table_text() -> str:
    """Every row of every table as text (the PI scan's view of the database)."""
    parts: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            parts.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(parts)


def test_erasure_leaves_no_personal_value_anywhere(world, director):
    before = {m: m.objects.count() for m in (Customer, Complaint, OutboundMessage, VisitTask, TimelineEvent, Deal)}
    text = table_text()
    assert NAME in text
    assert MOBILE in text

    outcome = erasure.anonymise_customer(world.customer, actor=director, reason="客户申请", now=NOW)

    text = table_text()
    for value in (
        NAME,
        MOBILE,
        MOBILE2,
        ID_NUMBER,
        "幸福路8号",
        "高血压",
        "配偶甲",
        "13600001111",
        "停车位",
        "物业态度差",
    ):
        assert value not in text, value
    assert ID_NUMBER[:6] + "********" not in text  # the hint is gone too
    customer = Customer.objects.get(pk=world.customer.pk)
    assert customer.name == erasure.ERASED_NAME
    assert customer.is_archived
    assert customer.has_opted_out
    assert not customer.consent_care
    assert not customer.consent_notification
    assert CustomerProfile.objects.get(customer=customer).address == ""
    assert not FamilyMember.objects.filter(customer=customer).exists()
    # Reports keep their counts: rows stay, only their personal values go.
    after = {m: m.objects.count() for m in before}
    assert after[Customer] == before[Customer]
    assert after[Complaint] == before[Complaint]
    assert after[OutboundMessage] == before[OutboundMessage]
    assert after[VisitTask] == before[VisitTask]
    record = outcome.record
    assert (record.customer_number, record.kind, record.erased_by) == (customer.number, "request", director)
    assert NAME not in json.dumps(record.rows)
    assert record.rows["care.cancelled"] >= 1


def test_no_message_can_be_sent_after_erasure(world, director):
    erasure.anonymise_customer(world.customer, actor=director, reason="客户申请", now=NOW)
    message = OutboundMessage.objects.get(pk=world.message.pk)
    assert message.status == OutboundMessage.Status.CANCELLED
    assert NAME not in message.text
    assert not message.recipient_mobile[:1].isdigit()  # no number to send to


def test_search_finds_nothing_after_erasure(world, director):
    erasure.anonymise_customer(world.customer, actor=director, reason="客户申请", now=NOW)
    everyone = customers_visible_to(director, include_archived=True)
    for text in (NAME, MOBILE, MOBILE[-4:], MOBILE2, "0", "1", "9"):
        assert not search_customers(everyone, text).filter(pk=world.customer.pk).exists(), text


def test_audit_rows_keep_who_and_when_but_not_the_quotes(world, director):
    from crm.customers.services import reveal_contact

    reveal_contact(world.customer, actor=director, field="mobile", reason="回访核对")
    erasure.anonymise_customer(world.customer, actor=director, reason="客户申请", now=NOW)
    rows = AuditLog.objects.filter(customer_id=world.customer.pk)
    assert rows.filter(action=AuditLog.Action.REVEAL, actor=director).count() == 1
    assert not any(NAME in r.summary or MOBILE in json.dumps(r.changes) for r in rows)
    assert rows.filter(action=AuditLog.Action.DELETE).count() == 1


def test_erasure_twice_changes_nothing_more(world, director):
    first = erasure.anonymise_customer(world.customer, actor=director, reason="客户申请", now=NOW)
    second = erasure.anonymise_customer(world.customer, actor=director, reason="again", now=NOW)
    assert first.record.pk == second.record.pk
    assert ErasureRecord.objects.count() == 1


def test_unlinked_complaints_with_the_customers_mobile_are_erased_too(world, director, make_customer):
    Complaint.objects.filter(pk=world.complaint.pk).update(customer=None)
    other = make_customer("无关客户")
    erasure.anonymise_customer(world.customer, actor=director, reason="客户申请", now=NOW)
    complaint = Complaint.objects.get(pk=world.complaint.pk)
    assert complaint.complainant_mobile == ""
    assert NAME not in complaint.content
    assert Customer.objects.get(pk=other.pk).name == "无关客户"


def test_placeholder_mobiles_hold_no_digit_and_differ():
    values = {erasure.placeholder_mobile(pk) for pk in range(1, 2000)}
    assert len(values) == 1999
    assert not any(ch.isdigit() for v in values for ch in v)
    assert all(len(v) <= 20 for v in values)


def _points_at_customer(model: type[models.Model], covered: set[str]) -> bool:
    for f in model._meta.concrete_fields:
        if isinstance(f, models.ForeignKey):
            target = f.related_model._meta.label_lower
            if target == "customers.customer" or target in covered:
                return True
    return False


def test_every_model_holding_a_customers_data_is_in_the_erasure_plan():
    """A new model pointing at a customer (or at a row the plan covers) must say what of it
    is personal (PLAN) or that nothing is (NOT_PERSONAL)."""
    planned = {rule.label for rule in erasure.PLAN}
    covered = planned | {"customers.customer"}
    missing = sorted(
        m._meta.label_lower
        for m in apps.get_models()
        if _points_at_customer(m, covered) and m._meta.label_lower not in planned | erasure.NOT_PERSONAL
    )
    assert missing == []


def test_every_planned_field_exists():
    for rule in erasure.PLAN:
        model = erasure.model_of(rule)
        for name in (*erasure.rule_fields(rule), *rule.copy_fields, *rule.mobiles):
            model._meta.get_field(name)


def test_duplicates_merged_into_the_customer_are_erased_too(world, director, make_customer):
    from crm.customers.services import merge_customers

    duplicate = make_customer(NAME, mobile="13811112222")
    merge_customers(world.customer, duplicate, actor=director)
    erasure.anonymise_customer(world.customer, actor=director, reason="客户申请", now=NOW)
    duplicate.refresh_from_db()
    assert duplicate.name == erasure.ERASED_NAME
    assert "13811112222" not in table_text()
    assert ErasureRecord.objects.filter(customer_pk=duplicate.pk).count() == 1


def test_an_erased_customer_cannot_be_restored(world, director):
    from crm.core.errors import DomainError
    from crm.customers.services import restore_customer

    erasure.anonymise_customer(world.customer, actor=director, reason="客户申请", now=NOW)
    with pytest.raises(DomainError, match="不能恢复"):
        restore_customer(Customer.objects.get(pk=world.customer.pk), actor=director)
