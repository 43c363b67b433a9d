"""Scheduled complaint work (config/schedule.py)."""

from __future__ import annotations

from datetime import datetime

from crm.complaints import escalation


def escalate_breached(*, now: datetime) -> int:
    """Breached complaints go to the director's queue (level 1), and to level 2 when still
    breached one working day later. Idempotent: returns how many levels were raised."""
    return escalation.escalate_breached(now=now)
