"""Figures that come from apps built beside this one (crm.portraits), read when present.

The scorecard's 客户描摹 column needs ``crm.portraits.selectors.submitted_counts(user, *,
start, end, consultant_ids) -> dict[int, int]`` (portraits a consultant submitted in the
period, in the user's scope, keyed by consultant id). Until that function exists the
column shows 未启用 (``None``): the adapter looks it up with importlib instead of importing
it, so this app neither breaks nor invents a number while the portraits app is being built.
The coordinator wires it by adding that selector (docs/kpis.md, "Scorecard").

Referrals are counted from ``Customer.referrer`` (crm.customers), which exists today.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crm.accounts.models import User

PORTRAITS = ("crm.portraits.selectors", "submitted_counts")


def _selector(module: str, name: str) -> Callable[..., Any] | None:
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    function = getattr(found, name, None)
    return function if callable(function) else None


def portraits_enabled() -> bool:
    return _selector(*PORTRAITS) is not None


def portraits_submitted(user: User, *, start: date, end: date, consultant_ids: Iterable[int]) -> dict[int, int] | None:
    """Portraits submitted per consultant in the period, or None while the portraits app
    has no such selector (shown as 未启用)."""
    function = _selector(*PORTRAITS)
    if function is None:
        return None
    counts = function(user, start=start, end=end, consultant_ids=list(consultant_ids))
    return {int(k): int(v) for k, v in dict(counts).items()}
