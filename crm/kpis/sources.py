"""Figures the scorecard reads from the apps built beside visits (crm.portraits).

客户描摹: portraits submitted per consultant in the period, through
``crm.portraits.selectors.portrait_counts`` (keyed by consultant id; the consultants are
those of the viewer's scope already). Referrals are counted from ``Customer.referrer``
(crm.customers), which crm.referrals keeps in step with its referral rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from crm.portraits import selectors as portraits_selectors

if TYPE_CHECKING:
    from crm.accounts.models import User


def portraits_enabled() -> bool:
    return True


def portraits_submitted(user: User, *, start: date, end: date, consultant_ids: Iterable[int]) -> dict[int, int] | None:
    """Portraits submitted per consultant in the period (0 for one with none)."""
    ids = list(consultant_ids)
    if user.company_id is None or not ids:
        return dict.fromkeys(ids, 0)
    counts = portraits_selectors.portrait_counts(start, end, company=user.company_id, consultants=ids)
    return {pk: counts.get(pk, 0) for pk in ids}
