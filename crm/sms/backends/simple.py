"""Callback formats of the console and locmem backends, which have no gateway of their own.

Receipts: a JSON object or array of ``{"reference", "gateway_message_id", "mobile",
"delivered", "code", "detail", "reported_at" (ISO 8601)}``; replies: ``{"mobile", "text",
"received_at" (ISO 8601), "extend_code"}``. Handy for simulating a gateway by hand in
development (``curl`` a reply "TD" to the reply endpoint).
"""

from __future__ import annotations

import json
from datetime import datetime

from ..base import CallbackAck, CallbackError, InboundReply, Receipt
from ..formats import CHINA_TZ, canonical_mobile, json_items, text


def _iso(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CallbackError(f"时间格式不正确：{value}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CHINA_TZ)


def parse_receipts(body: bytes) -> list[Receipt]:
    return [
        Receipt(
            reference=text(item, "reference"),
            gateway_message_id=text(item, "gateway_message_id"),
            mobile=canonical_mobile(text(item, "mobile")),
            delivered=item.get("delivered") is True,
            code=text(item, "code"),
            detail=text(item, "detail"),
            reported_at=_iso(text(item, "reported_at")),
        )
        for item in json_items(body)
    ]


def parse_replies(body: bytes) -> list[InboundReply]:
    return [
        InboundReply(
            mobile=canonical_mobile(text(item, "mobile")),
            text=text(item, "text"),
            received_at=_iso(text(item, "received_at")),
            extend_code=text(item, "extend_code"),
        )
        for item in json_items(body)
    ]


def callback_ack(*, ok: bool) -> CallbackAck:
    return CallbackAck(200 if ok else 500, json.dumps({"ok": ok}).encode())
