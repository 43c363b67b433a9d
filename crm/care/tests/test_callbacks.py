"""Receipt and reply callbacks over HTTP, in the gateways' own formats."""

import json
from datetime import date

import pytest

from crm.care import dispatch, planning
from crm.care.models import DeliveryReceipt, InboundReply, OutboundMessage
from crm.care.tests.conftest import local
from crm.sms.backends.locmem import LocmemGateway

TOKEN = "cb-secret-123"


@pytest.fixture(autouse=True)
def _gateways(settings):
    settings.SMS_CALLBACK_TOKEN = TOKEN
    settings.ALIYUN_SMS_ACCESS_KEY_ID = "test-id"
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "test-secret"
    settings.TENCENT_SMS_SECRET_ID = "tid"
    settings.TENCENT_SMS_SECRET_KEY = "tkey"
    settings.TENCENT_SMS_SDK_APP_ID = "1400000000"


@pytest.fixture
def sent_message(owner):
    planning.plan_birthdays(now=local(date(2026, 11, 23), 1))
    dispatch.send_due_messages(now=local(date(2026, 11, 23), 10, 1), gateway=LocmemGateway())
    message = OutboundMessage.objects.get()
    OutboundMessage.objects.filter(pk=message.pk).update(gateway="aliyun", gateway_message_id="900619746536498^0")
    message.refresh_from_db()
    return message


def aliyun_receipt(message):
    return [
        {
            "phone_number": "13811112222",
            "send_time": "2026-11-23 10:01:00",
            "report_time": "2026-11-23 10:01:05",
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "sms_size": "1",
            "biz_id": message.gateway_message_id,
            "out_id": str(message.pk),
        }
    ]


def post(client, path, body):
    return client.post(path, data=json.dumps(body, ensure_ascii=False), content_type="application/json")


def test_an_aliyun_receipt_pushed_three_times_is_applied_once(client, sent_message):
    url = f"/sms/callbacks/aliyun/receipts/{TOKEN}/"
    responses = [post(client, url, aliyun_receipt(sent_message)) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert json.loads(responses[0].content)["code"] == 0
    sent_message.refresh_from_db()
    assert sent_message.status == OutboundMessage.Status.DELIVERED
    assert DeliveryReceipt.objects.count() == 1


def test_a_wrong_token_is_not_found_and_changes_nothing(client, sent_message):
    response = post(client, "/sms/callbacks/aliyun/receipts/guess/", aliyun_receipt(sent_message))
    assert response.status_code == 404
    sent_message.refresh_from_db()
    assert sent_message.status == OutboundMessage.Status.SENT


def test_callbacks_are_off_without_a_configured_token(client, sent_message, settings):
    settings.SMS_CALLBACK_TOKEN = ""
    assert post(client, "/sms/callbacks/aliyun/receipts//", []).status_code == 404


def test_a_malformed_body_gets_the_gateways_failure_answer(client, db):
    response = client.post(
        f"/sms/callbacks/aliyun/receipts/{TOKEN}/", data=b"not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_a_tencent_reply_td_opts_the_customer_out(client, sent_message):
    body = {
        "extend": "",
        "mobile": "13811112222",
        "nationcode": "86",
        "sign": "测试置业",
        "text": "TD",
        "time": 1795400000,
    }
    response = post(client, f"/sms/callbacks/tencent/replies/{TOKEN}/", body)
    assert response.status_code == 200
    assert json.loads(response.content)["result"] == 0
    sent_message.customer.refresh_from_db()
    assert sent_message.customer.has_opted_out
    assert InboundReply.objects.get().is_opt_out


def test_only_post_is_accepted(client, db):
    assert client.get(f"/sms/callbacks/aliyun/receipts/{TOKEN}/").status_code == 405
