"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), standard library only.

Authenticator apps (Google/Microsoft Authenticator, 腾讯身份验证器, FreeOTP) use
HMAC-SHA1, 6 digits and 30-second steps; the secret travels as base32 in an
``otpauth://`` URI. ``verify`` accepts the current step and one either side (clock drift)
and returns the step that matched, so the caller can refuse a code used before (replay).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import urllib.parse
from datetime import datetime

STEP_SECONDS = 30
DIGITS = 6


def new_secret() -> str:
    """A random 160-bit secret in base32 (RFC 4226 recommends 160 bits)."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def _key(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, digest: str = "sha1") -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, digest)).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def step_at(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def totp(secret: str, *, at: datetime) -> str:
    return hotp(_key(secret), step_at(at))


def verify(secret: str, code: str, *, at: datetime, after_step: int = -1, window: int = 1) -> int | None:
    """The step ``code`` is valid for at ``at`` (± ``window`` steps), later than ``after_step``; else None."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = _key(secret)
    now = step_at(at)
    for step in range(now - window, now + window + 1):
        if step > after_step and hmac.compare_digest(hotp(key, step), code):
            return step
    return None


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    label = urllib.parse.quote(f"{issuer}:{account}")
    query = urllib.parse.urlencode({"secret": secret, "issuer": issuer, "digits": DIGITS, "period": STEP_SECONDS})
    return f"otpauth://totp/{label}?{query}"
