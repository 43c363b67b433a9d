"""Field encryption for sensitive personal information (ID numbers) and blind indexes.

The keys live outside the database (environment variables); a database dump alone
does not reveal ID numbers. The blind index (HMAC-SHA256) lets staff find a customer
by the exact ID number without decrypting every row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from crm.lib.instance_secrets import blind_index_key_bytes


def _derived(purpose: str) -> bytes:
    # Only when a key is explicitly empty: settings fill both from the environment or
    # the installation's secrets file (crm.lib.instance_secrets).
    return hashlib.sha256(f"{purpose}:{settings.SECRET_KEY}".encode()).digest()


def _fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:
        key = base64.urlsafe_b64encode(_derived("field-encryption")).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt field: wrong FIELD_ENCRYPTION_KEY") from exc


def blind_index(value: str) -> str:
    if not value:
        return ""
    key = blind_index_key_bytes(settings.BLIND_INDEX_KEY) if settings.BLIND_INDEX_KEY else _derived("blind-index")
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
