"""A delivery receipt pushed three times at once, through the real callback endpoint,
changes its message once."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection
from django.utils import timezone

from crm.care import dispatch
from crm.care.models import DeliveryReceipt, OutboundMessage
from crm.customers.models import TimelineEvent
from crm.sms.backends.aliyun import AliyunGateway
from crm.sms.http import Timeouts

from .harness import make_outbox

pytestmark = [pytest.mark.needs_postgres, pytest.mark.django_db(transaction=True)]
TOKEN = "reliability-callback-token"

COUNT_UPDATES = """
CREATE TABLE reliability_row_updates (message_id bigint NOT NULL);
CREATE FUNCTION reliability_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO reliability_row_updates VALUES (NEW.id); RETURN NEW; END $$;
CREATE TRIGGER reliability_count_update AFTER UPDATE ON care_outboundmessage
FOR EACH ROW EXECUTE FUNCTION reliability_count_update();
"""
DROP_COUNTER = """
DROP TRIGGER IF EXISTS reliability_count_update ON care_outboundmessage;
DROP FUNCTION IF EXISTS reliability_count_update();
DROP TABLE IF EXISTS reliability_row_updates;
"""


@pytest.fixture
def row_updates():
    """Counts UPDATEs of outbox rows at the database (a trigger), whoever makes them."""
    with connection.cursor() as cursor:
        cursor.execute(DROP_COUNTER + COUNT_UPDATES)

    def count(message_id: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM reliability_row_updates WHERE message_id = %s", [message_id])
            return int(cursor.fetchone()[0])

    yield count
    with connection.cursor() as cursor:
        cursor.execute(DROP_COUNTER)


def test_a_receipt_pushed_three_times_at_once_changes_the_message_once(
    live_server, settings, start_fake, company, project, consultant, row_updates
):
    fake = start_fake(deliver_at_once=False)  # the receipt, not the send, says "delivered"
    settings.SMS_CALLBACK_TOKEN = TOKEN
    settings.ALIYUN_SMS_ACCESS_KEY_ID = fake.access_key_id
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = fake.access_key_secret
    gateway = AliyunGateway(
        access_key_id=fake.access_key_id,
        access_key_secret=fake.access_key_secret,
        endpoint=fake.endpoint,
        timeouts=Timeouts(connect=2, read=3),
    )
    [message_id] = make_outbox(company, project, consultant, 1)
    assert dispatch.send_due_messages(now=timezone.now(), gateway=gateway) == 1
    message = OutboundMessage.objects.get(pk=message_id)
    assert message.status == OutboundMessage.Status.SENT
    [sent] = fake.messages
    fake.deliver(sent)
    body = fake.receipt_body(sent)
    before = row_updates(message_id)

    url = f"{live_server.url}/sms/callbacks/aliyun/receipts/{TOKEN}/"
    start = threading.Barrier(3)

    def push() -> requests.Response:
        start.wait(timeout=10)
        return requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)

    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda _: push(), range(3)))

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(json.loads(a.content)["code"] == 0 for a in answers)  # Aliyun stops pushing on this
    assert row_updates(message_id) - before == 1
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.DELIVERED
    assert message.delivered_at is not None
    assert DeliveryReceipt.objects.get().message_id == message_id
    events = TimelineEvent.objects.filter(customer_id=message.customer_id, kind=TimelineEvent.Kind.MESSAGE)
    assert events.count() == 1  # written when it was sent, not again per receipt
