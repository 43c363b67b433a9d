"""Build the configured gateway: ``get_gateway()`` for SMS_GATEWAY, or one by name."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .backends.aliyun import AliyunGateway
from .backends.console import ConsoleGateway
from .backends.locmem import LocmemGateway
from .backends.tencent import TencentGateway
from .base import Gateway
from .conf import SmsSettings, sms_settings
from .http import Timeouts

GATEWAY_NAMES = ("console", "locmem", "aliyun", "tencent")


def get_gateway(name: str | None = None) -> Gateway:
    """The gateway named ``name`` (default: SMS_GATEWAY), configured from the settings.

    Raises ImproperlyConfigured for an unknown name or missing credentials, so a bad
    configuration fails loudly at the first send instead of failing every message.
    """
    conf = sms_settings()
    chosen = (name or conf.gateway).lower()
    if chosen == "console":
        return ConsoleGateway(file=conf.console_file or None, ledger=console_ledger())
    if chosen == "locmem":
        return LocmemGateway()
    if chosen == "aliyun":
        _require(
            chosen,
            ALIYUN_SMS_ACCESS_KEY_ID=conf.aliyun_access_key_id,
            ALIYUN_SMS_ACCESS_KEY_SECRET=conf.aliyun_access_key_secret,
        )
        return AliyunGateway(
            access_key_id=conf.aliyun_access_key_id,
            access_key_secret=conf.aliyun_access_key_secret,
            endpoint=conf.aliyun_endpoint,
            timeouts=_timeouts(conf),
        )
    if chosen == "tencent":
        _require(
            chosen,
            TENCENT_SMS_SECRET_ID=conf.tencent_secret_id,
            TENCENT_SMS_SECRET_KEY=conf.tencent_secret_key,
            TENCENT_SMS_SDK_APP_ID=conf.tencent_sdk_app_id,
        )
        return TencentGateway(
            secret_id=conf.tencent_secret_id,
            secret_key=conf.tencent_secret_key,
            sdk_app_id=conf.tencent_sdk_app_id,
            region=conf.tencent_region,
            endpoint=conf.tencent_endpoint,
            timeouts=_timeouts(conf),
        )
    raise ImproperlyConfigured(f"SMS_GATEWAY must be one of {', '.join(GATEWAY_NAMES)}, got {chosen!r}")


def console_ledger() -> Path:
    """Where the console records what it printed when SMS_CONSOLE_FILE is not set (its status
    query reads it after a crash; masked numbers only)."""
    var_dir = getattr(settings, "VAR_DIR", None) or Path(settings.BASE_DIR) / "var"
    return Path(var_dir) / "sms-console-ledger.jsonl"


def _timeouts(conf: SmsSettings) -> Timeouts:
    return Timeouts(connect=conf.connect_timeout_seconds, read=conf.timeout_seconds)


def _require(gateway: str, **values: str) -> None:
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ImproperlyConfigured(f"The {gateway} SMS gateway needs {', '.join(missing)}")
