"""Numbers from the query string and the URL, checked before they reach the database.

``str.isdigit`` accepts "²" and "٣" (int() refuses the first), and SQLite refuses integers
beyond 64 bits ("datatype mismatch", OverflowError): a page number or an id from a request
goes through these first.
"""

from __future__ import annotations

from typing import Any

# The largest value of a 64-bit signed integer column (SQLite INTEGER, PostgreSQL bigint).
MAX_ID = 2**63 - 1
# No list has more pages than this; a larger page number is treated as "past the end".
MAX_PAGE = 10**6


def parse_id(value: Any) -> int | None:
    """A database id (1 … 2**63 - 1) written in ASCII digits, else None."""
    text = str(value if value is not None else "").strip()
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def parse_page(value: Any) -> int | None:
    """A page number (1 … MAX_PAGE), else None (callers show the first or the last page)."""
    number = parse_id(value)
    return number if number is not None and number <= MAX_PAGE else None
