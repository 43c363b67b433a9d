"""Integration clients (the website, the WeChat official account) that submit complaints
over the API with a key of their own.

A key is ``ek_`` + a prefix (to find the row) + a secret, 32 random bytes in all; only its
SHA-256 is stored (a random key needs no slow hash). ``issue_key`` makes a new key and
returns it once; ``authenticate`` finds the enabled client whose hash matches (constant-time
compare). ``submit`` registers the complaint through the same service as the public page,
stamped with the client's channel, within COMPLAINT_INTEGRATION_PER_HOUR per client.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.utils.crypto import constant_time_compare

from crm.complaints import services, throttle
from crm.complaints.models import Complaint, IntegrationClient
from crm.core.errors import DomainError

KEY_PREFIX = "ek_"
PREFIX_LENGTH = 8
TOO_FAST = "提交过于频繁，请稍后再试"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(client: IntegrationClient) -> str:
    """Give ``client`` a new key (the old one stops working) and return it: the only time
    it can be seen. Saves the client."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    while IntegrationClient.objects.filter(key_prefix=prefix).exclude(pk=client.pk).exists():
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    key = f"{KEY_PREFIX}{prefix}{secrets.token_urlsafe(32)}"
    client.key_prefix = prefix
    client.key_hash = _hash(key)
    client.save()
    return key


def authenticate(key: str) -> IntegrationClient | None:
    """The enabled client this key belongs to, or None (unknown, wrong or disabled)."""
    key = key.strip()
    if not key.startswith(KEY_PREFIX) or len(key) < len(KEY_PREFIX) + PREFIX_LENGTH + 16:
        return None
    prefix = key[len(KEY_PREFIX) : len(KEY_PREFIX) + PREFIX_LENGTH]
    client = IntegrationClient.objects.select_related("company").filter(key_prefix=prefix).first()
    if client is None or not constant_time_compare(client.key_hash, _hash(key)) or not client.is_enabled:
        return None
    return client


def submit(client: IntegrationClient, intake: services.Intake, *, now: datetime) -> Complaint:
    """Register a complaint for ``client`` (its channel, its company), within its limit."""
    limit = throttle.Limit(settings.COMPLAINT_INTEGRATION_PER_HOUR, 3600)
    if not throttle.hit("integration", str(client.pk), limit):
        raise DomainError(TOO_FAST)
    complaint = services.register_external_complaint(
        intake, company=client.company, source=f"由接入方“{client.name}”提交", now=now
    )
    IntegrationClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return complaint
