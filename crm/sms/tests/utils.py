"""Helpers for the SMS tests: messages and adapters pointed at a fake."""

from __future__ import annotations

from crm.sms.backends.aliyun import AliyunGateway
from crm.sms.backends.tencent import TencentGateway
from crm.sms.base import SmsMessage
from crm.sms.fakes.aliyun import FakeAliyunSms
from crm.sms.fakes.tencent import FakeTencentSms
from crm.sms.http import Timeouts

# Answers from a local fake take milliseconds, but the machine is shared: a generous read
# timeout for ordinary calls, a short one for the tests of the timeout itself.
TIMEOUTS = Timeouts(connect=2.0, read=3.0)
SHORT_TIMEOUTS = Timeouts(connect=2.0, read=0.2)
# Late answers come this late; the fake's stop() releases them, so tests never wait it out.
SLOW_SECONDS = 10.0


def aliyun_gateway(fake: FakeAliyunSms, *, timeouts: Timeouts = TIMEOUTS, **overrides: object) -> AliyunGateway:
    options: dict[str, object] = {
        "access_key_id": fake.access_key_id,
        "access_key_secret": fake.access_key_secret,
        "endpoint": fake.endpoint,
        "timeouts": timeouts,
        **overrides,
    }
    return AliyunGateway(**options)  # type: ignore[arg-type]


def tencent_gateway(fake: FakeTencentSms, *, timeouts: Timeouts = TIMEOUTS, **overrides: object) -> TencentGateway:
    options: dict[str, object] = {
        "secret_id": fake.secret_id,
        "secret_key": fake.secret_key,
        "sdk_app_id": fake.sdk_app_id,
        "region": "ap-guangzhou",
        "endpoint": fake.endpoint,
        "timeouts": timeouts,
        **overrides,
    }
    return TencentGateway(**options)  # type: ignore[arg-type]


def make_message(reference: str = "out-1", mobile: str = "13812345678", **overrides: object) -> SmsMessage:
    fields: dict[str, object] = {
        "reference": reference,
        "mobile": mobile,
        "sign_name": "示范置业",
        "template_code": "SMS_123456789",
        "params": {"name": "张三", "project": "锦华苑"},
        "text": "【示范置业】尊敬的张三，锦华苑祝您生日快乐！拒收请回复R",
        **overrides,
    }
    return SmsMessage(**fields)  # type: ignore[arg-type]
