"""Scheduled 客服运营 work (config/schedule.py)."""

from __future__ import annotations
