"""The care-message jobs as config/schedule.py lists them: each takes ``now``, returns a count."""

from __future__ import annotations

from datetime import datetime

from crm.care import dispatch, planning


def plan_messages(*, now: datetime) -> int:
    """Today's occasions → outbox rows and approval drafts (idempotent; runs many times a day
    so that a customer registered at 09:00 with today's birthday is still greeted)."""
    return planning.plan_today(now=now)


def send_due_messages(*, now: datetime) -> int:
    """Send what is due. First, due messages whose window has passed (the server was down
    at 10:00 and starts at 11:13) are moved to their next window or expired: the dispatcher
    must not take them for ones that may not go late."""
    dispatch.expire_overdue(now=now, due_only=True)
    return dispatch.send_due_messages(now=now)


def settle_submitting(*, now: datetime) -> int:
    return dispatch.settle_submitting(now=now)


def expire_overdue(*, now: datetime) -> int:
    """Messages whose window passed unsent: the next window within the catch-up period, or
    expired with the reason."""
    return dispatch.expire_overdue(now=now)
