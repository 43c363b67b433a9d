"""Choosing and configuring a gateway from settings, and the interface's pure helpers."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from crm.sms.backends.aliyun import ALIYUN_ERRORS, AliyunGateway
from crm.sms.backends.console import ConsoleGateway
from crm.sms.backends.locmem import LocmemGateway
from crm.sms.backends.tencent import TENCENT_ERRORS, TencentGateway
from crm.sms.base import Gateway, Outcome, Receipt, is_opt_out_text
from crm.sms.conf import sms_settings
from crm.sms.formats import CHINA_TZ, canonical_mobile, parse_china_time, parse_unix_time
from crm.sms.gateways import get_gateway

SMS_VARIABLES = [
    "SMS_GATEWAY",
    "SMS_CONSOLE_FILE",
    "SMS_TIMEOUT_SECONDS",
    "SMS_CONNECT_TIMEOUT_SECONDS",
    "ALIYUN_SMS_ACCESS_KEY_ID",
    "ALIYUN_SMS_ACCESS_KEY_SECRET",
    "ALIYUN_SMS_ENDPOINT",
    "TENCENT_SMS_SECRET_ID",
    "TENCENT_SMS_SECRET_KEY",
    "TENCENT_SMS_SDK_APP_ID",
    "TENCENT_SMS_REGION",
    "TENCENT_SMS_ENDPOINT",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in SMS_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_the_default_gateway_is_the_console():
    assert isinstance(get_gateway(), ConsoleGateway)


def test_the_console_writes_to_the_configured_file(monkeypatch, tmp_path):
    monkeypatch.setenv("SMS_CONSOLE_FILE", str(tmp_path / "sms.jsonl"))

    gateway = get_gateway()

    assert isinstance(gateway, ConsoleGateway)
    assert gateway.file == tmp_path / "sms.jsonl"


def test_aliyun_is_built_from_the_environment(monkeypatch):
    monkeypatch.setenv("SMS_GATEWAY", "aliyun")
    monkeypatch.setenv("ALIYUN_SMS_ACCESS_KEY_ID", "LTAI-1")
    monkeypatch.setenv("ALIYUN_SMS_ACCESS_KEY_SECRET", "secret")
    monkeypatch.setenv("SMS_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("SMS_CONNECT_TIMEOUT_SECONDS", "1")

    gateway = get_gateway()

    assert isinstance(gateway, AliyunGateway)
    assert (gateway.access_key_id, gateway.access_key_secret) == ("LTAI-1", "secret")
    assert gateway.endpoint == "https://dysmsapi.aliyuncs.com"
    assert (gateway.timeouts.connect, gateway.timeouts.read) == (1.0, 2.5)


def test_tencent_is_built_from_the_environment(monkeypatch):
    monkeypatch.setenv("SMS_GATEWAY", "tencent")
    monkeypatch.setenv("TENCENT_SMS_SECRET_ID", "AKID-1")
    monkeypatch.setenv("TENCENT_SMS_SECRET_KEY", "key")
    monkeypatch.setenv("TENCENT_SMS_SDK_APP_ID", "1400000001")
    monkeypatch.setenv("TENCENT_SMS_ENDPOINT", "http://127.0.0.1:9")

    gateway = get_gateway()

    assert isinstance(gateway, TencentGateway)
    assert (gateway.sdk_app_id, gateway.region) == ("1400000001", "ap-guangzhou")
    assert (gateway.endpoint, gateway.host) == ("http://127.0.0.1:9", "127.0.0.1:9")
    assert gateway.timeouts.read == 10.0


def test_a_named_gateway_overrides_the_setting():
    assert isinstance(get_gateway("locmem"), LocmemGateway)


@override_settings(SMS_GATEWAY="locmem")
def test_a_django_setting_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("SMS_GATEWAY", "console")

    assert isinstance(get_gateway(), LocmemGateway)


@pytest.mark.parametrize(
    ("gateway", "missing"),
    [
        ("aliyun", "ALIYUN_SMS_ACCESS_KEY_ID, ALIYUN_SMS_ACCESS_KEY_SECRET"),
        ("tencent", "TENCENT_SMS_SECRET_ID, TENCENT_SMS_SECRET_KEY, TENCENT_SMS_SDK_APP_ID"),
    ],
)
def test_missing_credentials_fail_loudly(monkeypatch, gateway, missing):
    monkeypatch.setenv("SMS_GATEWAY", gateway)

    with pytest.raises(ImproperlyConfigured, match=missing):
        get_gateway()


def test_an_unknown_gateway_fails_loudly(monkeypatch):
    monkeypatch.setenv("SMS_GATEWAY", "carrier-pigeon")

    with pytest.raises(ImproperlyConfigured, match="carrier-pigeon"):
        get_gateway()


@pytest.mark.parametrize("value", ["soon", "0", "-1"])
def test_a_bad_timeout_fails_loudly(monkeypatch, value):
    monkeypatch.setenv("SMS_TIMEOUT_SECONDS", value)

    with pytest.raises(ImproperlyConfigured, match="SMS_TIMEOUT_SECONDS"):
        sms_settings()


def test_settings_never_show_secrets(monkeypatch):
    monkeypatch.setenv("ALIYUN_SMS_ACCESS_KEY_SECRET", "s3cr3t")
    monkeypatch.setenv("TENCENT_SMS_SECRET_KEY", "k3y")

    shown = repr(sms_settings())

    assert "s3cr3t" not in shown
    assert "k3y" not in shown


def test_every_configured_gateway_satisfies_the_protocol(monkeypatch):
    monkeypatch.setenv("ALIYUN_SMS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("ALIYUN_SMS_ACCESS_KEY_SECRET", "b")
    monkeypatch.setenv("TENCENT_SMS_SECRET_ID", "c")
    monkeypatch.setenv("TENCENT_SMS_SECRET_KEY", "d")
    monkeypatch.setenv("TENCENT_SMS_SDK_APP_ID", "e")

    gateways = [get_gateway(name) for name in ("console", "locmem", "aliyun", "tencent")]

    assert all(isinstance(gateway, Gateway) for gateway in gateways)
    assert [gateway.name for gateway in gateways] == ["console", "locmem", "aliyun", "tencent"]


# -- the interface's pure helpers ------------------------------------------------------------------


@pytest.mark.parametrize("text", ["TD", "td", "T", "N", "R", "退订", "TD退订", "请退订，谢谢", "拒收", " ＴＤ。"])
def test_opt_out_replies(text):
    assert is_opt_out_text(text)


@pytest.mark.parametrize("text", ["好的", "收到，谢谢", "TDK", "什么时候交房", ""])
def test_other_replies_are_not_opt_outs(text):
    assert not is_opt_out_text(text)


def test_outcomes_say_whether_a_resend_could_duplicate():
    assert {o for o in Outcome if o.may_have_been_sent} == {Outcome.ACCEPTED, Outcome.UNKNOWN}
    assert {o for o in Outcome if o.is_permanent} == {Outcome.FAILED, Outcome.OPTED_OUT}
    assert Outcome("unknown") is Outcome.UNKNOWN
    assert all(outcome.label for outcome in Outcome)


def test_receipts_without_a_gateway_id_deduplicate_on_our_reference():
    receipt = Receipt("r1", "", "13812345678", True, "DELIVERED", "", None)

    assert receipt.dedup_key == "r1:13812345678"


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("13812345678", "", "13812345678"),
        ("13812345678", "86", "13812345678"),
        ("+8613812345678", "", "13812345678"),
        ("91234567", "852", "+85291234567"),
        ("85291234567", "", "+85291234567"),
        ("12345", "", "12345"),  # kept as reported rather than dropping the receipt
    ],
)
def test_gateway_numbers_are_normalised(raw, country, expected):
    assert canonical_mobile(raw, country) == expected


def test_gateway_times_are_china_time():
    assert parse_china_time("2026-03-01 09:30:00") == datetime(2026, 3, 1, 9, 30, tzinfo=CHINA_TZ)
    assert parse_china_time("garbage") is None
    assert parse_unix_time(1772328600) == datetime(2026, 3, 1, 9, 30, tzinfo=CHINA_TZ)
    assert parse_unix_time(None) is None


def test_env_example_lists_every_sms_variable():
    listed = {
        line.split("=", 1)[0]
        for line in (settings.BASE_DIR / ".env.example").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    }

    assert set(SMS_VARIABLES) <= listed


def test_the_docs_list_every_code_of_both_tables_with_its_outcome():
    docs = (settings.BASE_DIR / "docs" / "sms.md").read_text(encoding="utf-8")

    for table in (ALIYUN_ERRORS, TENCENT_ERRORS):
        for code, rule in table.items():
            assert f"| `{code}` | {rule.outcome.name} |" in docs, code


# The row classes of SMS-GATEWAYS.md §2 and the outcome each must map to.
_CLASS_OUTCOMES = {
    "success": Outcome.ACCEPTED,
    "per-number throttle": Outcome.THROTTLED,
    "time window": Outcome.DEFER,
    "invalid number": Outcome.FAILED,
    "blacklist": Outcome.OPTED_OUT,
    "signature not approved": Outcome.PAUSE,
    "template not approved": Outcome.PAUSE,
    "params/content invalid": Outcome.FAILED,
    "out of balance": Outcome.PAUSE,
    "day/month cap": Outcome.PAUSE,
    "suspended/permission": Outcome.PAUSE,
    "transient": Outcome.RETRY,
}
# Not API codes (a receipt code, a wildcard, an SDK exception) or a deliberate deviation
# (clock skew: a retry cannot fix it, so PAUSE; see docs/sms.md).
_NOT_IN_TABLES = {"err_code", "W-BLACK", "AuthFailure.*", "ThrottlingException"}
_DEVIATIONS = {"InternalError.RequestTimeException": Outcome.PAUSE}


def _crib_sheet_codes() -> list[tuple[str, str, Outcome]]:
    path = settings.BASE_DIR.parent / "shared" / "SMS-GATEWAYS.md"
    if not path.exists():
        pytest.skip("shared/SMS-GATEWAYS.md is not beside the checkout")
    section = path.read_text(encoding="utf-8").split("## 2.", 1)[1].split("## 3.", 1)[0]
    codes = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0].startswith(("Class", "---")):
            continue
        label = cells[0].split("→")[0].strip()
        outcome = next(o for name, o in _CLASS_OUTCOMES.items() if label.startswith(name))
        for gateway, cell in zip(("aliyun", "tencent"), cells[1:], strict=True):
            previous = ""
            for token in re.findall(r"`([^`]+)`", cell):
                code = f"{previous.split('.')[0]}{token}" if token.startswith(".") else token
                previous = code
                if code not in _NOT_IN_TABLES:
                    codes.append((gateway, code, _DEVIATIONS.get(code, outcome)))
    return codes


def test_every_code_of_the_crib_sheet_is_mapped_to_its_class_outcome():
    codes = _crib_sheet_codes()
    tables = {"aliyun": ALIYUN_ERRORS, "tencent": TENCENT_ERRORS}

    assert len(codes) > 55
    for gateway, code, outcome in codes:
        assert code in tables[gateway], f"{gateway}: {code} missing"
        assert tables[gateway][code].outcome is outcome, f"{gateway}: {code}"
