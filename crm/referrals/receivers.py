"""The receiver of customers' ``referrer_changed`` (crm.customers.signals): keeps the
Referral rows in step with ``Customer.referrer`` in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crm.referrals import services


def on_referrer_changed(sender: Any, *, customer_ids: Iterable[int], actor: Any = None, **kwargs: Any) -> None:
    services.sync_referrals(customer_ids, actor=actor)
