"""The due notifications the fault drill and the reliability tests drain (bench/outbox.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bench.outbox import TEMPLATE_CODE, make_due_notifications
from crm.care.models import OutboundMessage
from crm.care.rules import Purpose, Trigger

pytestmark = pytest.mark.django_db


def make(company, project, owner, count, **overrides):
    values = {
        "number_prefix": "TST",
        "name_prefix": "测试",
        "mobile_prefix": "135",
        "occasion_prefix": "test-",
        "text": "【测试置业】您的购房款已全额到账。",
        "window": timedelta(hours=1),
        **overrides,
    }
    return make_due_notifications(company, project, owner, count, **values)


def test_each_new_customer_gets_one_full_payment_notification_due_a_minute_ago(company, project, consultant):
    ids = make(company, project, consultant, 3, window=timedelta(hours=2))

    rows = list(OutboundMessage.objects.filter(pk__in=ids).select_related("customer", "rule").order_by("pk"))
    assert len(rows) == 3
    assert len({row.customer_id for row in rows}) == 3
    for row in rows:
        customer = row.customer
        assert customer.number[:3] == "TST"
        assert len(customer.number) == 10
        assert customer.name == f"测试{int(customer.number[3:])}"
        assert customer.mobile == f"135{int(customer.number[3:]):08d}"
        assert (customer.owner, customer.project, customer.consent_notification) == (consultant, project, True)
        assert row.occasion == f"test-{customer.pk}"
        assert (row.trigger, row.purpose, row.status) == (
            Trigger.FULL_PAYMENT,
            Purpose.NOTIFICATION,
            OutboundMessage.Status.SCHEDULED,
        )
        assert row.text == "【测试置业】您的购房款已全额到账。"
        assert row.rule.gateway_template_code == TEMPLATE_CODE
        assert row.next_attempt_at == row.scheduled_at
        assert row.window_ends_at - row.scheduled_at == timedelta(hours=2, minutes=1)


def test_a_second_call_adds_other_customers(company, project, consultant):
    first = make(company, project, consultant, 2)
    second = make(company, project, consultant, 2, number_prefix="TSU", mobile_prefix="134")

    numbers = set(OutboundMessage.objects.filter(pk__in=first + second).values_list("customer__number", flat=True))
    assert len(numbers) == 4
