"""`runjobs --at` runs every job on a fake clock, so it must not reach real customers."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

AT = "2026-11-23T10:05:00+08:00"


@pytest.mark.parametrize("gateway", ["aliyun", "tencent", "Aliyun "])
def test_runjobs_at_refuses_a_real_sms_gateway(db, settings, gateway):
    settings.SMS_GATEWAY = gateway
    out = StringIO()
    with pytest.raises(CommandError, match="--allow-real-gateway"):
        call_command("runjobs", at=AT, stdout=out)
    assert out.getvalue() == ""  # refused before any job ran


def test_runjobs_at_reads_the_gateway_from_the_environment_too(db, settings, monkeypatch):
    del settings.SMS_GATEWAY
    monkeypatch.setenv("SMS_GATEWAY", "tencent")
    with pytest.raises(CommandError, match="tencent"):
        call_command("runjobs", at=AT, stdout=StringIO())


def test_runjobs_at_runs_with_a_real_gateway_when_told_to(db, settings):
    settings.SMS_GATEWAY = "aliyun"
    settings.ALIYUN_SMS_ACCESS_KEY_ID = "LTAI-test"
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "test-secret"
    out = StringIO()
    call_command("runjobs", at=AT, allow_real_gateway=True, stdout=out)
    assert "send_due_messages: 0" in out.getvalue()


@pytest.mark.parametrize("gateway", ["console", "locmem"])
def test_runjobs_at_runs_with_a_gateway_that_sends_nothing(db, settings, gateway):
    settings.SMS_GATEWAY = gateway
    out = StringIO()
    call_command("runjobs", at=AT, stdout=out)
    assert "send_due_messages: 0" in out.getvalue()
