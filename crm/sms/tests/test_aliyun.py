"""The Aliyun adapter against the local fake of dysmsapi 2017-05-25."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
import requests

from crm.sms.backends.aliyun import (
    ALIYUN_ERRORS,
    AliyunGateway,
    aliyun_mobile,
    canonical_query,
    sign_request,
)
from crm.sms.base import CallbackError, Outcome, QueryError
from crm.sms.fakes.aliyun import FakeAliyunSms
from crm.sms.fakes.server import Behaviour, FakeError
from crm.sms.formats import CHINA_TZ
from crm.sms.http import Timeouts

from .utils import SHORT_TIMEOUTS, aliyun_gateway, make_message


def test_send_is_accepted_with_the_biz_id_and_our_reference_as_out_id(aliyun: AliyunGateway, fake_aliyun):
    result = aliyun.send(make_message(reference="outbox-42"))

    assert result.outcome is Outcome.ACCEPTED
    [kept] = fake_aliyun.messages
    assert result.gateway_message_id == kept.biz_id != ""
    assert kept.out_id == "outbox-42"
    assert kept.phone_number == "13812345678"
    assert kept.sign_name == "示范置业"
    assert kept.template_code == "SMS_123456789"


def test_template_param_is_a_json_string_with_string_values(aliyun: AliyunGateway, fake_aliyun):
    params = {"name": "张三", "amount": 5, "days": 3.5}  # callers may slip numbers in

    result = aliyun.send(make_message(params=params))

    assert result.outcome is Outcome.ACCEPTED
    [kept] = fake_aliyun.messages
    assert isinstance(kept.template_param, str)
    assert json.loads(kept.template_param) == {"name": "张三", "amount": "5", "days": "3.5"}
    assert list(json.loads(kept.template_param)) == ["name", "amount", "days"]


def test_a_message_without_params_sends_no_template_param(aliyun: AliyunGateway, fake_aliyun):
    aliyun.send(make_message(params={}))

    [request] = fake_aliyun.requests
    assert "TemplateParam" not in request.params


def test_mobile_formatting():
    assert aliyun_mobile("13812345678") == "13812345678"
    assert aliyun_mobile("+85291234567") == "85291234567"


def test_a_foreign_number_is_sent_as_country_code_and_number(aliyun: AliyunGateway, fake_aliyun):
    result = aliyun.send(make_message(mobile="+85291234567"))

    assert result.outcome is Outcome.ACCEPTED
    assert fake_aliyun.messages[0].phone_number == "85291234567"


@pytest.mark.parametrize(
    ("behaviour", "outcome", "code"),
    [
        (Behaviour.THROTTLE, Outcome.THROTTLED, "isv.BUSINESS_LIMIT_CONTROL"),
        (Behaviour.INVALID_NUMBER, Outcome.FAILED, "isv.MOBILE_NUMBER_ILLEGAL"),
        (Behaviour.TEMPLATE_UNAPPROVED, Outcome.PAUSE, "isv.SMS_TEMPLATE_ILLEGAL"),
        (Behaviour.SIGNATURE_UNAPPROVED, Outcome.PAUSE, "isv.SMS_SIGN_ILLEGAL"),
        (Behaviour.OUT_OF_BALANCE, Outcome.PAUSE, "isv.AMOUNT_NOT_ENOUGH"),
        (Behaviour.DAY_LIMIT, Outcome.PAUSE, "isv.DAY_LIMIT_CONTROL"),
        (Behaviour.HTTP_500, Outcome.RETRY, "InternalError"),
    ],
)
def test_each_error_class_maps_to_its_outcome(aliyun: AliyunGateway, fake_aliyun, behaviour, outcome, code):
    fake_aliyun.script(behaviour)

    result = aliyun.send(make_message())

    assert (result.outcome, result.code) == (outcome, code)
    assert result.gateway_message_id == ""
    assert result.detail  # Chinese, for the outbox and the alert
    assert fake_aliyun.messages == []


def test_throttling_names_the_window_from_the_gateway_message(aliyun: AliyunGateway, fake_aliyun):
    fake_aliyun.script(
        FakeError("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"),
        FakeError("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5"),
        FakeError("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10"),
    )

    windows = [aliyun.send(make_message(reference=f"r{i}")).retry_after for i in range(3)]

    assert windows == [60, 3600, 86400]


@pytest.mark.parametrize("code", sorted(code for code in ALIYUN_ERRORS if code != "OK"))
def test_every_code_in_the_table_reaches_its_outcome_through_the_protocol(aliyun: AliyunGateway, fake_aliyun, code):
    # isv./isp. codes come in a 2xx body; the OpenAPI gateway's own codes as HTTP 4xx.
    http_status = 200 if code.startswith(("isv.", "isp.")) else 400
    fake_aliyun.script(FakeError(code, "网关说明", http_status=http_status))

    result = aliyun.send(make_message())

    rule = ALIYUN_ERRORS[code]
    assert result.outcome is rule.outcome
    assert result.code == code
    assert result.detail.startswith(rule.detail)
    assert "网关说明" in result.detail


def test_unknown_codes_fail_the_message_and_isp_codes_retry(aliyun: AliyunGateway, fake_aliyun):
    fake_aliyun.script(
        FakeError("isv.SOMETHING_NEW"), FakeError("isp.NEW_OUTAGE"), FakeError("Throttling.Tenant", http_status=400)
    )

    outcomes = [aliyun.send(make_message(reference=f"r{i}")).outcome for i in range(3)]

    assert outcomes == [Outcome.FAILED, Outcome.RETRY, Outcome.RETRY]


def test_the_fake_throttles_per_number(aliyun: AliyunGateway, fake_aliyun):
    fake_aliyun.per_number_limit = 1

    first = aliyun.send(make_message(reference="a1", mobile="13812345678"))
    second = aliyun.send(make_message(reference="a2", mobile="13812345678"))
    other = aliyun.send(make_message(reference="b1", mobile="13900000001"))

    assert first.outcome is Outcome.ACCEPTED
    assert (second.outcome, second.retry_after) == (Outcome.THROTTLED, 60)
    assert other.outcome is Outcome.ACCEPTED
    assert [m.out_id for m in fake_aliyun.messages] == ["a1", "b1"]


def test_running_out_of_balance_pauses_the_queue(aliyun: AliyunGateway, fake_aliyun):
    fake_aliyun.balance = 1

    results = [aliyun.send(make_message(reference=f"r{i}")) for i in range(2)]

    assert [r.outcome for r in results] == [Outcome.ACCEPTED, Outcome.PAUSE]
    assert "余额不足" in results[1].detail


def test_an_invalid_number_is_refused_by_the_gateway(aliyun: AliyunGateway, fake_aliyun):
    result = aliyun.send(make_message(mobile="12345"))

    assert (result.outcome, result.code) == (Outcome.FAILED, "isv.MOBILE_NUMBER_ILLEGAL")


# -- signature ---------------------------------------------------------------------------------


def test_a_wrong_secret_is_rejected_and_pauses_the_queue(fake_aliyun):
    gateway = aliyun_gateway(fake_aliyun, access_key_secret="not-the-secret")

    result = gateway.send(make_message())

    assert (result.outcome, result.code) == (Outcome.PAUSE, "SignatureDoesNotMatch")
    assert "签名校验失败" in result.detail
    assert fake_aliyun.messages == []


def test_an_unknown_access_key_id_pauses_the_queue(fake_aliyun):
    gateway = aliyun_gateway(fake_aliyun, access_key_id="LTAI-unknown")

    result = gateway.send(make_message())

    assert (result.outcome, result.code) == (Outcome.PAUSE, "InvalidAccessKeyId.NotFound")


def test_a_clock_far_off_is_rejected(fake_aliyun):
    gateway = aliyun_gateway(fake_aliyun, clock=lambda: time.time() - 3600)

    result = gateway.send(make_message())

    assert (result.outcome, result.code) == (Outcome.PAUSE, "InvalidTimeStamp.Expired")


def test_the_fake_rejects_a_query_changed_after_signing(fake_aliyun):
    signed_query = {"PhoneNumbers": "13812345678", "SignName": "示范置业", "TemplateCode": "SMS_1", "OutId": "r1"}
    headers = sign_request(
        access_key_id=fake_aliyun.access_key_id,
        access_key_secret=fake_aliyun.access_key_secret,
        host=fake_aliyun.endpoint.removeprefix("http://"),
        action="SendSms",
        query=signed_query,
        body=b"",
        x_acs_date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        nonce="nonce-1",
    )
    tampered = canonical_query({**signed_query, "PhoneNumbers": "13900000000"})

    response = requests.post(f"{fake_aliyun.endpoint}/?{tampered}", headers=headers, data=b"", timeout=3)
    honest = requests.post(
        f"{fake_aliyun.endpoint}/?{canonical_query(signed_query)}", headers=headers, data=b"", timeout=3
    )

    assert (response.status_code, response.json()["Code"]) == (400, "SignatureDoesNotMatch")
    assert (honest.status_code, honest.json()["Code"]) == (200, "OK")
    assert [m.phone_number for m in fake_aliyun.messages] == ["13812345678"]


# -- timeouts: the ambiguous case ----------------------------------------------------------------


def test_a_timeout_is_unknown_and_the_gateway_did_get_the_message(fake_aliyun):
    gateway = aliyun_gateway(fake_aliyun, timeouts=SHORT_TIMEOUTS)
    fake_aliyun.script(Behaviour.TIMEOUT)

    result = gateway.send(make_message(reference="outbox-7"))

    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "TIMEOUT")
    assert "可能已发出" in result.detail
    # The gateway holds it: sending again would deliver it twice.
    [kept] = fake_aliyun.messages
    assert kept.out_id == "outbox-7"
    # The status query settles it by our reference.
    [receipt] = gateway.query("outbox-7", "13812345678", kept.sent_at.date())
    assert receipt.delivered
    assert receipt.is_final


def test_a_lost_request_is_unknown_too_and_the_query_finds_nothing(fake_aliyun):
    gateway = aliyun_gateway(fake_aliyun, timeouts=SHORT_TIMEOUTS)
    fake_aliyun.script(Behaviour.LOST)

    result = gateway.send(make_message(reference="outbox-8"))

    assert result.outcome is Outcome.UNKNOWN
    assert fake_aliyun.messages == []
    assert gateway.query("outbox-8", "13812345678", datetime.now(tz=CHINA_TZ).date()) == []


def test_every_third_send_timing_out_leaves_every_message_accepted(fake_aliyun):
    fake_aliyun.timeout_every = 3
    gateway = aliyun_gateway(fake_aliyun, timeouts=Timeouts(connect=2.0, read=1.0))

    outcomes = [gateway.send(make_message(reference=f"r{i}")).outcome for i in range(1, 7)]

    assert outcomes == [Outcome.ACCEPTED, Outcome.ACCEPTED, Outcome.UNKNOWN] * 2
    assert [m.out_id for m in fake_aliyun.messages] == [f"r{i}" for i in range(1, 7)]
    sent_on = fake_aliyun.messages[2].sent_at.date()
    assert [r.reference for r in gateway.query("r3", "13812345678", sent_on)] == ["r3"]


def test_a_connection_closed_without_an_answer_is_unknown(aliyun, fake_aliyun):
    fake_aliyun.script(Behaviour.HANG_UP)

    result = aliyun.send(make_message(reference="h1"))

    assert result.outcome is Outcome.UNKNOWN
    assert [m.out_id for m in fake_aliyun.messages] == ["h1"]


def test_a_proxy_timeout_is_unknown_but_other_5xx_retry(aliyun: AliyunGateway, fake_aliyun):
    fake_aliyun.script(FakeError("GatewayTimeout", http_status=504), FakeError("ServiceUnavailable", http_status=503))

    first, second = (aliyun.send(make_message(reference=f"r{i}")) for i in range(2))

    assert first.outcome is Outcome.UNKNOWN
    assert second.outcome is Outcome.RETRY


def test_sends_share_one_kept_alive_connection(aliyun: AliyunGateway, fake_aliyun):
    results = [aliyun.send(make_message(reference=f"k{i}")) for i in range(3)]

    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 3
    assert fake_aliyun.connections_opened == 1


def test_a_kept_alive_connection_the_gateway_closed_is_replaced_not_unknown(aliyun: AliyunGateway, fake_aliyun):
    aliyun.send(make_message(reference="c1"))
    fake_aliyun.close_connections()  # the gateway drops the idle connection
    time.sleep(0.05)

    result = aliyun.send(make_message(reference="c2"))

    assert result.outcome is Outcome.ACCEPTED
    assert fake_aliyun.connections_opened == 2
    assert [m.out_id for m in fake_aliyun.messages] == ["c1", "c2"]


def test_after_a_timeout_the_next_send_gets_a_fresh_connection(fake_aliyun):
    gateway = aliyun_gateway(fake_aliyun, timeouts=SHORT_TIMEOUTS)
    fake_aliyun.script(Behaviour.TIMEOUT)

    first, second = (gateway.send(make_message(reference=f"t{i}")) for i in range(2))

    assert (first.outcome, second.outcome) == (Outcome.UNKNOWN, Outcome.ACCEPTED)
    assert [m.out_id for m in fake_aliyun.messages] == ["t0", "t1"]


def test_a_gateway_gone_after_a_send_is_a_retry_not_unknown(aliyun: AliyunGateway, fake_aliyun):
    aliyun.send(make_message(reference="g1"))
    fake_aliyun.stop()  # the kept-alive connection is closed and nothing listens any more

    result = aliyun.send(make_message(reference="g2"))

    assert (result.outcome, result.code) == (Outcome.RETRY, "CONNECT_ERROR")


def test_an_unreachable_gateway_is_a_retry(fake_aliyun):
    gateway = aliyun_gateway(fake_aliyun)
    fake_aliyun.stop()  # nothing listens on the port any more

    result = gateway.send(make_message())

    assert (result.outcome, result.code) == (Outcome.RETRY, "CONNECT_ERROR")


# -- status query --------------------------------------------------------------------------------


def test_the_status_query_finds_our_message_by_reference(aliyun: AliyunGateway, fake_aliyun):
    aliyun.send(make_message(reference="r1"))
    aliyun.send(make_message(reference="r2"))
    aliyun.send(make_message(reference="r3", mobile="13900000001"))
    kept = fake_aliyun.messages[1]

    [receipt] = aliyun.query("r2", "13812345678", kept.sent_at.date())

    assert receipt.reference == "r2"
    assert receipt.mobile == "13812345678"
    assert receipt.delivered
    assert receipt.is_final
    assert receipt.code == "DELIVERED"
    assert receipt.reported_at is not None
    assert receipt.reported_at.utcoffset() is not None


def test_the_status_query_reads_every_page(aliyun: AliyunGateway, fake_aliyun):
    for i in range(55):
        aliyun.send(make_message(reference=f"p{i}"))

    receipts = aliyun.query("p54", "13812345678", fake_aliyun.messages[54].sent_at.date())

    assert [r.reference for r in receipts] == ["p54"]
    assert [r.params["CurrentPage"] for r in fake_aliyun.requests if r.action == "QuerySendDetails"] == ["1", "2"]


def test_a_message_waiting_for_its_receipt_is_not_final(aliyun: AliyunGateway, fake_aliyun):
    fake_aliyun.deliver_at_once = False
    aliyun.send(make_message(reference="w1"))

    [receipt] = aliyun.query("w1", "13812345678", fake_aliyun.messages[0].sent_at.date())

    assert not receipt.delivered
    assert not receipt.is_final
    assert receipt.detail == "等待回执"


def test_a_failed_message_is_final_and_not_delivered(aliyun: AliyunGateway, fake_aliyun):
    fake_aliyun.deliver_at_once = False
    aliyun.send(make_message(reference="f1"))
    fake_aliyun.deliver(fake_aliyun.messages[0], success=False, err_code="MK:0012")

    [receipt] = aliyun.query("f1", "13812345678", fake_aliyun.messages[0].sent_at.date())

    assert (receipt.delivered, receipt.is_final, receipt.code) == (False, True, "MK:0012")


def test_a_status_query_with_a_bad_secret_raises_with_the_pause_outcome(fake_aliyun):
    gateway = aliyun_gateway(fake_aliyun, access_key_secret="wrong")

    with pytest.raises(QueryError) as caught:
        gateway.query("r1", "13812345678", datetime.now(tz=CHINA_TZ).date())

    assert (caught.value.code, caught.value.outcome) == ("SignatureDoesNotMatch", Outcome.PAUSE)


# -- callbacks -----------------------------------------------------------------------------------


def test_receipts_parse_from_the_push_format(aliyun: AliyunGateway, fake_aliyun):
    aliyun.send(make_message(reference="r1"))
    kept = fake_aliyun.messages[0]

    [receipt] = aliyun.parse_receipts(fake_aliyun.receipt_body(kept), {"Content-Type": "application/json"})

    assert receipt.reference == "r1"
    assert receipt.gateway_message_id == kept.biz_id
    assert receipt.mobile == "13812345678"
    assert receipt.delivered is True
    assert receipt.code == "DELIVERED"
    assert receipt.reported_at == kept.reported_at
    assert receipt.dedup_key == f"{kept.biz_id}:13812345678"


def test_a_receipt_pushed_three_times_parses_identically(aliyun: AliyunGateway, fake_aliyun):
    aliyun.send(make_message(reference="r1"))
    body = fake_aliyun.receipt_body(fake_aliyun.messages[0])

    parsed = [aliyun.parse_receipts(body, {}) for _ in range(3)]

    assert parsed[0] == parsed[1] == parsed[2]
    assert len({receipts[0].dedup_key for receipts in parsed}) == 1


def test_a_blacklisted_number_shows_in_the_receipt(aliyun: AliyunGateway, fake_aliyun):
    fake_aliyun.script(Behaviour.BLACKLISTED)

    result = aliyun.send(make_message(reference="b1"))
    [receipt] = aliyun.parse_receipts(fake_aliyun.receipt_body(fake_aliyun.messages[0]), {})

    # Aliyun accepts it: only the receipt says the number refuses messages.
    assert result.outcome is Outcome.ACCEPTED
    assert (receipt.delivered, receipt.code, receipt.has_opted_out) == (False, "W-BLACK", True)


def test_a_batch_of_receipts_parses_in_order(aliyun: AliyunGateway, fake_aliyun):
    for ref in ("r1", "r2", "r3"):
        aliyun.send(make_message(reference=ref))
    fake_aliyun.deliver(fake_aliyun.messages[1], success=False, err_code="MK:0001")

    receipts = aliyun.parse_receipts(fake_aliyun.receipt_body(*fake_aliyun.messages), {})

    assert [(r.reference, r.delivered) for r in receipts] == [("r1", True), ("r2", False), ("r3", True)]


@pytest.mark.parametrize(("content", "opts_out"), [("TD", True), ("退订", True), ("r", True), ("好的，谢谢", False)])
def test_inbound_replies_parse_and_recognise_opt_outs(aliyun: AliyunGateway, content, opts_out):
    body = FakeAliyunSms.reply_body("13812345678", content, dest_code="0001")

    [reply] = aliyun.parse_replies(body, {"Content-Type": "application/json"})

    assert (reply.mobile, reply.text, reply.extend_code) == ("13812345678", content, "0001")
    assert reply.received_at == datetime(2026, 3, 1, 9, 30, tzinfo=CHINA_TZ)
    assert reply.is_opt_out is opts_out


def test_a_foreign_reply_number_is_normalised(aliyun: AliyunGateway):
    [reply] = aliyun.parse_replies(FakeAliyunSms.reply_body("85291234567", "TD"), {})

    assert reply.mobile == "+85291234567"


@pytest.mark.parametrize("body", [b"not json", b'"a string"', b"[1, 2]"])
def test_a_malformed_callback_raises(aliyun: AliyunGateway, body):
    with pytest.raises(CallbackError):
        aliyun.parse_receipts(body, {})


def test_the_callback_answer_is_what_aliyun_expects(aliyun: AliyunGateway):
    ok = aliyun.callback_ack()
    failed = aliyun.callback_ack(ok=False)

    assert (ok.status, json.loads(ok.body)) == (200, {"code": 0, "msg": "接收成功"})
    assert failed.status == 500
    assert json.loads(failed.body)["code"] != 0


def test_the_endpoint_may_be_given_without_a_scheme():
    gateway = AliyunGateway(access_key_id="LTAI-1", access_key_secret="s3cr3t", endpoint="dysmsapi.aliyuncs.com")

    assert (gateway.endpoint, gateway.host) == ("https://dysmsapi.aliyuncs.com", "dysmsapi.aliyuncs.com")
    assert "s3cr3t" not in repr(gateway)
