"""Assertions shared by the API tests."""

from __future__ import annotations

from typing import Any


def has_chinese(value: Any) -> bool:
    """True when a message (or any message in a nested error body) contains Chinese."""
    if isinstance(value, dict):
        return any(has_chinese(v) for v in value.values())
    if isinstance(value, list):
        return any(has_chinese(v) for v in value)
    return any("\u4e00" <= ch <= "\u9fff" for ch in str(value))
