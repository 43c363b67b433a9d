"""In-memory backend for tests, in the manner of Django's locmem e-mail backend.

``outbox`` holds every message the "gateway" holds: those ACCEPTED and those whose send
ended UNKNOWN (the realistic case: the gateway got it, the answer was lost), so a test of
the outbox can prove a message went out exactly once. ``calls`` holds every send with its
result. Outcomes are scripted first-in first-out, globally or per number::

    locmem.script(Outcome.UNKNOWN, Outcome.ACCEPTED)
    locmem.script(Outcome.OPTED_OUT, mobile="13800000000")

Unscripted sends are ACCEPTED. ``query`` reports every held message as delivered.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from datetime import date, datetime

from ..base import OUTCOME_LABELS, CallbackAck, InboundReply, Outcome, Receipt, SendResult, SmsMessage
from ..formats import CHINA_TZ
from . import simple

outbox: list[SmsMessage] = []
calls: list[tuple[SmsMessage, SendResult]] = []

_lock = threading.Lock()
_script: list[SendResult] = []
_script_by_mobile: dict[str, list[SendResult]] = {}
_held: list[tuple[SmsMessage, str, datetime]] = []
_ids = itertools.count(1)


def script(*results: Outcome | SendResult, mobile: str | None = None) -> None:
    """Queue the results of the next sends (to ``mobile`` only, when given)."""
    expanded = [_result_for(item) for item in results]
    with _lock:
        if mobile is None:
            _script.extend(expanded)
        else:
            _script_by_mobile.setdefault(mobile, []).extend(expanded)


def reset() -> None:
    with _lock:
        outbox.clear()
        calls.clear()
        _script.clear()
        _script_by_mobile.clear()
        _held.clear()


def _result_for(item: Outcome | SendResult) -> SendResult:
    if isinstance(item, SendResult):
        return item
    return SendResult(
        item,
        code=f"LOCMEM_{item.name}",
        detail=OUTCOME_LABELS[item],
        retry_after=60.0 if item is Outcome.THROTTLED else None,
    )


class LocmemGateway:
    name = "locmem"

    def send(self, message: SmsMessage) -> SendResult:
        if not message.reference:
            raise ValueError("reference is required")
        with _lock:
            queue = _script_by_mobile.get(message.mobile)
            if queue:
                scripted = queue.pop(0)
            elif _script:
                scripted = _script.pop(0)
            else:
                scripted = SendResult(Outcome.ACCEPTED, code="OK", detail="测试网关已受理")
            result = scripted
            if scripted.outcome.may_have_been_sent:
                gateway_message_id = scripted.gateway_message_id or f"locmem-{next(_ids)}"
                outbox.append(message)
                _held.append((message, gateway_message_id, datetime.now(tz=CHINA_TZ)))
                if scripted.outcome is Outcome.ACCEPTED and not scripted.gateway_message_id:
                    result = SendResult(
                        Outcome.ACCEPTED, gateway_message_id, scripted.code, scripted.detail, scripted.retry_after
                    )
            calls.append((message, result))
        return result

    def query(self, reference: str, mobile: str, sent_on: date) -> list[Receipt]:
        with _lock:
            held = list(_held)
        return [
            Receipt(
                reference=reference,
                gateway_message_id=gateway_message_id,
                mobile=mobile,
                delivered=True,
                code="DELIVERED",
                detail="测试网关模拟送达",
                reported_at=sent_at,
            )
            for message, gateway_message_id, sent_at in held
            if message.reference == reference and message.mobile == mobile and sent_at.date() == sent_on
        ]

    def parse_receipts(self, body: bytes, headers: Mapping[str, str]) -> list[Receipt]:
        return simple.parse_receipts(body)

    def parse_replies(self, body: bytes, headers: Mapping[str, str]) -> list[InboundReply]:
        return simple.parse_replies(body)

    def callback_ack(self, *, ok: bool = True) -> CallbackAck:
        return simple.callback_ack(ok=ok)
