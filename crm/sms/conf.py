"""SMS settings, read from environment variables through ``crm.lib.env`` (listed in .env.example).

A Django setting of the same name wins over the environment, so ``override_settings`` works
in tests and the values can move into ``config/settings.py`` later without touching callers.
Values are read when a gateway is built, not at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from crm.lib.env import env_str

from .backends.aliyun import DEFAULT_ENDPOINT as ALIYUN_DEFAULT_ENDPOINT
from .backends.tencent import DEFAULT_ENDPOINT as TENCENT_DEFAULT_ENDPOINT
from .backends.tencent import DEFAULT_REGION as TENCENT_DEFAULT_REGION


@dataclass(frozen=True)
class SmsSettings:
    gateway: str
    console_file: str
    timeout_seconds: float
    connect_timeout_seconds: float
    aliyun_access_key_id: str
    aliyun_access_key_secret: str
    aliyun_endpoint: str
    tencent_secret_id: str
    tencent_secret_key: str
    tencent_sdk_app_id: str
    tencent_region: str
    tencent_endpoint: str

    def __repr__(self) -> str:  # never print the secrets
        return f"SmsSettings(gateway={self.gateway!r}, timeout_seconds={self.timeout_seconds!r})"


def _str(name: str, default: str) -> str:
    value: Any = getattr(settings, name, None)
    if value is not None:
        return str(value)
    return env_str(name, default).strip()


def _float(name: str, default: float) -> float:
    raw = _str(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, got {raw!r}") from exc
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be positive, got {raw!r}")
    return value


def sms_settings() -> SmsSettings:
    timeout = _float("SMS_TIMEOUT_SECONDS", 10.0)
    return SmsSettings(
        gateway=_str("SMS_GATEWAY", "console").lower(),
        console_file=_str("SMS_CONSOLE_FILE", ""),
        timeout_seconds=timeout,
        connect_timeout_seconds=_float("SMS_CONNECT_TIMEOUT_SECONDS", min(5.0, timeout)),
        aliyun_access_key_id=_str("ALIYUN_SMS_ACCESS_KEY_ID", ""),
        aliyun_access_key_secret=_str("ALIYUN_SMS_ACCESS_KEY_SECRET", ""),
        aliyun_endpoint=_str("ALIYUN_SMS_ENDPOINT", "") or ALIYUN_DEFAULT_ENDPOINT,
        tencent_secret_id=_str("TENCENT_SMS_SECRET_ID", ""),
        tencent_secret_key=_str("TENCENT_SMS_SECRET_KEY", ""),
        tencent_sdk_app_id=_str("TENCENT_SMS_SDK_APP_ID", ""),
        tencent_region=_str("TENCENT_SMS_REGION", "") or TENCENT_DEFAULT_REGION,
        tencent_endpoint=_str("TENCENT_SMS_ENDPOINT", "") or TENCENT_DEFAULT_ENDPOINT,
    )
