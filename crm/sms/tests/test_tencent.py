"""The Tencent adapter against the local fake of SMS API 2021-01-11."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
import requests

from crm.sms.backends.tencent import TENCENT_ERRORS, TencentGateway, sign_request, tencent_mobile
from crm.sms.base import CallbackError, Outcome, QueryError
from crm.sms.fakes.server import Behaviour, FakeError
from crm.sms.fakes.tencent import FakeTencentSms
from crm.sms.formats import CHINA_TZ
from crm.sms.http import Timeouts

from .utils import SHORT_TIMEOUTS, make_message, tencent_gateway


def test_send_is_accepted_with_the_serial_no_and_our_reference_as_session_context(
    tencent: TencentGateway, fake_tencent
):
    result = tencent.send(make_message(reference="outbox-42"))

    assert result.outcome is Outcome.ACCEPTED
    [kept] = fake_tencent.messages
    assert result.gateway_message_id == kept.serial_no != ""
    assert kept.session_context == "outbox-42"
    assert kept.sign_name == "示范置业"
    assert kept.template_id == "SMS_123456789"


def test_mainland_numbers_are_sent_with_plus_86(tencent: TencentGateway, fake_tencent):
    tencent.send(make_message(mobile="13812345678"))
    tencent.send(make_message(reference="r2", mobile="+85291234567"))

    assert [m.phone_number for m in fake_tencent.messages] == ["+8613812345678", "+85291234567"]
    assert tencent_mobile("13812345678") == "+8613812345678"


def test_template_params_are_strings_in_template_order(tencent: TencentGateway, fake_tencent):
    tencent.send(make_message(params={"name": "张三", "days": 3, "project": "锦华苑"}))

    assert fake_tencent.messages[0].params == ["张三", "3", "锦华苑"]


@pytest.mark.parametrize(
    ("behaviour", "outcome", "code"),
    [
        (Behaviour.THROTTLE, Outcome.THROTTLED, "LimitExceeded.PhoneNumberThirtySecondLimit"),
        (Behaviour.INVALID_NUMBER, Outcome.FAILED, "InvalidParameterValue.IncorrectPhoneNumber"),
        (Behaviour.BLACKLISTED, Outcome.OPTED_OUT, "FailedOperation.PhoneNumberInBlacklist"),
        (Behaviour.TIME_WINDOW, Outcome.DEFER, "FailedOperation.MarketingSendTimeConstraint"),
        (Behaviour.TEMPLATE_UNAPPROVED, Outcome.PAUSE, "FailedOperation.TemplateIncorrectOrUnapproved"),
        (Behaviour.SIGNATURE_UNAPPROVED, Outcome.PAUSE, "FailedOperation.SignatureIncorrectOrUnapproved"),
        (Behaviour.OUT_OF_BALANCE, Outcome.PAUSE, "FailedOperation.InsufficientBalanceInSmsPackage"),
        (Behaviour.DAY_LIMIT, Outcome.PAUSE, "LimitExceeded.AppDailyLimit"),
        (Behaviour.HTTP_500, Outcome.RETRY, "HTTP_500"),
    ],
)
def test_each_error_class_maps_to_its_outcome(tencent: TencentGateway, fake_tencent, behaviour, outcome, code):
    fake_tencent.script(behaviour)

    result = tencent.send(make_message())

    assert (result.outcome, result.code) == (outcome, code)
    assert result.gateway_message_id == ""
    assert result.detail
    assert fake_tencent.messages == []


def test_a_per_number_throttle_says_how_long_to_wait(tencent: TencentGateway, fake_tencent):
    fake_tencent.script(
        FakeError("LimitExceeded.PhoneNumberThirtySecondLimit"),
        FakeError("LimitExceeded.PhoneNumberOneHourLimit"),
        FakeError("LimitExceeded.PhoneNumberDailyLimit"),
    )

    windows = [tencent.send(make_message(reference=f"r{i}")).retry_after for i in range(3)]

    assert windows == [30, 3600, 86400]


@pytest.mark.parametrize("placement", ["status", "error"])
@pytest.mark.parametrize("code", sorted(code for code in TENCENT_ERRORS if code != "Ok"))
def test_every_code_in_the_table_reaches_its_outcome_in_either_place(
    tencent: TencentGateway, fake_tencent, code, placement
):
    # Per-number vs Response.Error placement is undocumented: both must work.
    fake_tencent.script(FakeError(code, "网关说明", placement=placement))

    result = tencent.send(make_message())

    rule = TENCENT_ERRORS[code]
    assert result.outcome is rule.outcome
    assert result.code == code
    assert result.detail.startswith(rule.detail)
    assert "网关说明" in result.detail
    assert result.retry_after == rule.retry_after


def test_codes_outside_the_table_fall_back_by_family(tencent: TencentGateway, fake_tencent):
    fake_tencent.script(
        FakeError("AuthFailure.MFAFailure", placement="error"),
        FakeError("UnauthorizedOperation.Something", placement="error"),
        FakeError("InternalError.Brandnew", placement="error"),
        FakeError("FailedOperation.Brandnew"),
    )

    outcomes = [tencent.send(make_message(reference=f"r{i}")).outcome for i in range(4)]

    assert outcomes == [Outcome.PAUSE, Outcome.PAUSE, Outcome.RETRY, Outcome.FAILED]


def test_the_fake_throttles_per_number(tencent: TencentGateway, fake_tencent):
    fake_tencent.per_number_limit = 1

    first = tencent.send(make_message(reference="a1"))
    second = tencent.send(make_message(reference="a2"))
    other = tencent.send(make_message(reference="b1", mobile="13900000001"))

    assert [first.outcome, second.outcome, other.outcome] == [Outcome.ACCEPTED, Outcome.THROTTLED, Outcome.ACCEPTED]
    assert second.retry_after == 30
    assert [m.session_context for m in fake_tencent.messages] == ["a1", "b1"]


# -- signature ---------------------------------------------------------------------------------


def test_a_wrong_secret_key_is_rejected_and_pauses_the_queue(fake_tencent):
    gateway = tencent_gateway(fake_tencent, secret_key="not-the-key")

    result = gateway.send(make_message())

    assert (result.outcome, result.code) == (Outcome.PAUSE, "AuthFailure.SignatureFailure")
    assert "签名校验失败" in result.detail
    assert fake_tencent.messages == []


def test_an_unknown_secret_id_pauses_the_queue(fake_tencent):
    result = tencent_gateway(fake_tencent, secret_id="AKID-unknown").send(make_message())

    assert (result.outcome, result.code) == (Outcome.PAUSE, "AuthFailure.SecretIdNotFound")


def test_a_clock_far_off_is_rejected(fake_tencent):
    result = tencent_gateway(fake_tencent, clock=lambda: time.time() - 900).send(make_message())

    assert (result.outcome, result.code) == (Outcome.PAUSE, "AuthFailure.SignatureExpire")


def test_a_wrong_sdk_app_id_pauses_the_queue(fake_tencent):
    result = tencent_gateway(fake_tencent, sdk_app_id="1400999999").send(make_message())

    assert (result.outcome, result.code) == (Outcome.PAUSE, "UnauthorizedOperation.SmsSdkAppIdVerifyFail")


def test_the_fake_rejects_a_body_changed_after_signing(fake_tencent):
    body = json.dumps({"SmsSdkAppId": fake_tencent.sdk_app_id, "PhoneNumberSet": ["+8613812345678"]}).encode()
    headers = sign_request(
        secret_id=fake_tencent.secret_id,
        secret_key=fake_tencent.secret_key,
        host=fake_tencent.endpoint.removeprefix("http://"),
        action="SendSms",
        body=body,
        timestamp=int(time.time()),
        region="ap-guangzhou",
    )
    tampered = body.replace(b"13812345678", b"13900000000")

    answer = requests.post(f"{fake_tencent.endpoint}/", headers=headers, data=tampered, timeout=3)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert fake_tencent.messages == []


def test_the_request_carries_the_documented_headers(tencent: TencentGateway, fake_tencent):
    tencent.send(make_message())

    [request] = fake_tencent.requests
    assert request.action == "SendSms"
    assert request.payload["SmsSdkAppId"] == fake_tencent.sdk_app_id
    assert request.payload["TemplateId"] == "SMS_123456789"


# -- timeouts: the ambiguous case ----------------------------------------------------------------


def test_a_timeout_is_unknown_and_the_gateway_did_get_the_message(fake_tencent):
    gateway = tencent_gateway(fake_tencent, timeouts=SHORT_TIMEOUTS)
    fake_tencent.script(Behaviour.TIMEOUT)

    result = gateway.send(make_message(reference="outbox-7"))

    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "TIMEOUT")
    [kept] = fake_tencent.messages
    assert kept.session_context == "outbox-7"
    [receipt] = gateway.query("outbox-7", "13812345678", kept.sent_at.date())
    assert receipt.delivered
    assert receipt.gateway_message_id == kept.serial_no


def test_every_third_send_timing_out_leaves_every_message_accepted(fake_tencent):
    fake_tencent.timeout_every = 3
    gateway = tencent_gateway(fake_tencent, timeouts=Timeouts(connect=2.0, read=1.0))

    outcomes = [gateway.send(make_message(reference=f"r{i}")).outcome for i in range(1, 7)]

    assert outcomes == [Outcome.ACCEPTED, Outcome.ACCEPTED, Outcome.UNKNOWN] * 2
    assert [m.session_context for m in fake_tencent.messages] == [f"r{i}" for i in range(1, 7)]


def test_a_lost_request_is_unknown_and_nothing_was_kept(fake_tencent):
    gateway = tencent_gateway(fake_tencent, timeouts=SHORT_TIMEOUTS)
    fake_tencent.script(Behaviour.LOST)

    result = gateway.send(make_message())

    assert result.outcome is Outcome.UNKNOWN
    assert fake_tencent.messages == []


def test_a_connection_closed_without_an_answer_is_unknown(tencent, fake_tencent):
    fake_tencent.script(Behaviour.HANG_UP)

    result = tencent.send(make_message(reference="h1"))

    assert result.outcome is Outcome.UNKNOWN
    assert [m.session_context for m in fake_tencent.messages] == ["h1"]


def test_an_unreachable_gateway_is_a_retry(fake_tencent):
    gateway = tencent_gateway(fake_tencent)
    fake_tencent.stop()

    assert gateway.send(make_message()).outcome is Outcome.RETRY


# -- status query --------------------------------------------------------------------------------


def test_the_status_query_finds_our_message_by_reference(tencent: TencentGateway, fake_tencent):
    for ref in ("r1", "r2"):
        tencent.send(make_message(reference=ref))
    tencent.send(make_message(reference="r3", mobile="13900000001"))
    kept = fake_tencent.messages[1]

    [receipt] = tencent.query("r2", "13812345678", kept.sent_at.date())

    assert (receipt.reference, receipt.gateway_message_id, receipt.mobile) == ("r2", kept.serial_no, "13812345678")
    assert receipt.delivered
    assert receipt.reported_at == kept.received_at
    [pull] = [r for r in fake_tencent.requests if r.action == "PullSmsSendStatusByPhoneNumber"]
    assert pull.payload["PhoneNumber"] == "+8613812345678"


def test_a_message_not_yet_reported_is_not_listed(tencent: TencentGateway, fake_tencent):
    fake_tencent.deliver_at_once = False
    tencent.send(make_message(reference="w1"))

    # Tencent lists reported messages only: an empty answer is not proof it never arrived.
    assert tencent.query("w1", "13812345678", fake_tencent.messages[0].sent_at.date()) == []


def test_a_status_query_with_a_bad_key_raises_with_the_pause_outcome(fake_tencent):
    gateway = tencent_gateway(fake_tencent, secret_key="wrong")

    with pytest.raises(QueryError) as caught:
        gateway.query("r1", "13812345678", datetime.now(tz=CHINA_TZ).date())

    assert (caught.value.code, caught.value.outcome) == ("AuthFailure.SignatureFailure", Outcome.PAUSE)


# -- callbacks -----------------------------------------------------------------------------------


def test_receipts_parse_from_the_status_callback(tencent: TencentGateway, fake_tencent):
    tencent.send(make_message(reference="r1"))
    kept = fake_tencent.messages[0]

    [receipt] = tencent.parse_receipts(fake_tencent.receipt_body(kept), {"Content-Type": "application/json"})

    assert receipt.reference == "r1"
    assert receipt.gateway_message_id == kept.serial_no
    assert receipt.mobile == "13812345678"
    assert (receipt.delivered, receipt.code) == (True, "DELIVRD")
    assert receipt.reported_at == kept.received_at
    assert receipt.dedup_key == f"{kept.serial_no}:13812345678"


def test_a_receipt_pushed_three_times_parses_identically(tencent: TencentGateway, fake_tencent):
    tencent.send(make_message(reference="r1"))
    body = fake_tencent.receipt_body(fake_tencent.messages[0])

    parsed = [tencent.parse_receipts(body, {}) for _ in range(3)]

    assert parsed[0] == parsed[1] == parsed[2]
    assert len({receipts[0].dedup_key for receipts in parsed}) == 1


def test_a_failed_foreign_receipt(tencent: TencentGateway, fake_tencent):
    tencent.send(make_message(reference="f1", mobile="+85291234567"))
    fake_tencent.deliver(fake_tencent.messages[0], success=False, errmsg="MK:0005")

    [receipt] = tencent.parse_receipts(fake_tencent.receipt_body(fake_tencent.messages[0]), {})

    assert (receipt.mobile, receipt.delivered, receipt.code) == ("+85291234567", False, "MK:0005")


@pytest.mark.parametrize(("text", "opts_out"), [("TD", True), ("退订", True), ("Ｔ Ｄ", True), ("收到", False)])
def test_a_reply_callback_parses_and_recognises_opt_outs(tencent: TencentGateway, text, opts_out):
    [reply] = tencent.parse_replies(FakeTencentSms.reply_body("13812345678", text, extend="01"), {})

    assert (reply.mobile, reply.text, reply.extend_code) == ("13812345678", text, "01")
    assert reply.received_at == datetime(2026, 3, 1, 9, 30, tzinfo=CHINA_TZ)
    assert reply.is_opt_out is opts_out


def test_a_reply_callback_may_be_an_array(tencent: TencentGateway):
    one = json.loads(FakeTencentSms.reply_body("13812345678", "TD"))
    two = json.loads(FakeTencentSms.reply_body("852", "R", nationcode="852"))
    two["mobile"] = "91234567"

    replies = tencent.parse_replies(json.dumps([one, two]).encode(), {})

    assert [(r.mobile, r.is_opt_out) for r in replies] == [("13812345678", True), ("+85291234567", True)]


def test_a_malformed_callback_raises(tencent: TencentGateway):
    with pytest.raises(CallbackError):
        tencent.parse_replies(b"\xff\xfe", {})


def test_the_callback_answer_is_what_tencent_expects(tencent: TencentGateway):
    ok = tencent.callback_ack()
    failed = tencent.callback_ack(ok=False)

    assert (ok.status, json.loads(ok.body)) == (200, {"result": 0, "errmsg": "OK"})
    assert failed.status >= 500
    assert json.loads(failed.body)["result"] != 0
