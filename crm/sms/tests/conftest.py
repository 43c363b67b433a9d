"""Fixtures: the protocol fakes on free local ports, adapters pointed at them, the locmem outbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crm.sms.backends import locmem
from crm.sms.backends.aliyun import AliyunGateway
from crm.sms.backends.tencent import TencentGateway
from crm.sms.base import SmsMessage
from crm.sms.fakes.aliyun import FakeAliyunSms
from crm.sms.fakes.tencent import FakeTencentSms

from .utils import SLOW_SECONDS, aliyun_gateway, tencent_gateway


@pytest.fixture
def fake_aliyun() -> Iterator[FakeAliyunSms]:
    with FakeAliyunSms(slow_seconds=SLOW_SECONDS) as fake:
        yield fake


@pytest.fixture
def fake_tencent() -> Iterator[FakeTencentSms]:
    with FakeTencentSms(slow_seconds=SLOW_SECONDS) as fake:
        yield fake


@pytest.fixture
def aliyun(fake_aliyun: FakeAliyunSms) -> AliyunGateway:
    return aliyun_gateway(fake_aliyun)


@pytest.fixture
def tencent(fake_tencent: FakeTencentSms) -> TencentGateway:
    return tencent_gateway(fake_tencent)


@pytest.fixture
def locmem_outbox() -> Iterator[list[SmsMessage]]:
    locmem.reset()
    yield locmem.outbox
    locmem.reset()
