"""The SMS gateway interface: what a message is, what a send can end in, and what comes back.

The outbox (built on top of this module) claims a row, records it as "submitting", calls
``Gateway.send`` once, and acts on the ``Outcome``:

- ``ACCEPTED``: store ``gateway_message_id``; the receipt or a status query settles it later.
- ``UNKNOWN``: the request may have reached the gateway (timeout, dropped connection). Never
  resend blindly: settle it with ``Gateway.query`` or a receipt, both of which find the message
  by our ``reference``.
- ``RETRY``: nothing was accepted; back off and send again.
- ``THROTTLED``: this number hit a per-number limit; send again after ``retry_after`` seconds.
- ``DEFER``: outside the gateway's time window (marketing 08:00–22:00); send again from 08:00.
- ``FAILED``: permanent for this message (invalid number, parameters rejected).
- ``OPTED_OUT``: permanent, and the customer must be marked as opted out at once.
- ``PAUSE``: the account cannot send anything (balance, day/month cap, suspension, signature or
  template not approved, credentials rejected): stop the queue and alert an administrator.

``send`` never raises for anything the gateway or the network does; it raises ``ValueError``
only for a message that could never be sent (a programming error).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple, Protocol, runtime_checkable


class Outcome(enum.StrEnum):
    """What the outbox does next with a message; the values are safe to store."""

    ACCEPTED = "accepted"
    UNKNOWN = "unknown"
    RETRY = "retry"
    THROTTLED = "throttled"
    DEFER = "defer"
    FAILED = "failed"
    OPTED_OUT = "opted_out"
    PAUSE = "pause"

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]

    @property
    def may_have_been_sent(self) -> bool:
        """True when the gateway may hold the message, so sending again could duplicate it."""
        return self in (Outcome.ACCEPTED, Outcome.UNKNOWN)

    @property
    def is_permanent(self) -> bool:
        """True when this message must never be sent again."""
        return self in (Outcome.FAILED, Outcome.OPTED_OUT)


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.ACCEPTED: "网关已受理",
    Outcome.UNKNOWN: "结果未知（可能已发出）",
    Outcome.RETRY: "暂时失败，稍后重试",
    Outcome.THROTTLED: "号码频率受限，稍后重试",
    Outcome.DEFER: "不在发送时段，推迟到8点",
    Outcome.FAILED: "发送失败（不再重试）",
    Outcome.OPTED_OUT: "客户已退订或在黑名单",
    Outcome.PAUSE: "账户无法发送，已暂停队列",
}


class ErrorRule(NamedTuple):
    """One row of a gateway's error table: the outcome and a Chinese, user-facing detail."""

    outcome: Outcome
    detail: str
    retry_after: float | None = None


@dataclass(frozen=True)
class SmsMessage:
    """One message to one number, as the outbox hands it to a gateway."""

    reference: str
    """Our outbox id, passed to the gateway as its own reference (Aliyun OutId, Tencent
    SessionContext) and echoed in receipts and status queries."""
    mobile: str
    """Normalised by ``crm.lib.mobile.normalize_mobile``: "13812345678", or E.164 if foreign."""
    sign_name: str
    template_code: str
    params: dict[str, str]
    """Template variables in template order. Aliyun uses the names (``${name}``); Tencent uses
    only the order (``{1}{2}``)."""
    text: str = ""
    """The fully rendered text, for the console backend and logs."""


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    gateway_message_id: str = ""
    """Aliyun BizId or Tencent SerialNo; empty unless the gateway accepted the message."""
    code: str = ""
    """The gateway's code ("OK", "isv.AMOUNT_NOT_ENOUGH", "Ok", …) or a local one ("HTTP_503",
    "TIMEOUT", "CONNECT_ERROR", "BAD_RESPONSE")."""
    detail: str = ""
    """Chinese, user-facing, shown in the outbox and in the administrator's alert."""
    retry_after: float | None = None
    """Seconds to wait before sending again, when the gateway's window is known."""

    @property
    def is_accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


@dataclass(frozen=True)
class Receipt:
    """A delivery report, from a callback or a status query.

    Parsing is pure: the same body always gives equal receipts. Gateways push the same report
    more than once, so the caller deduplicates on ``dedup_key``.
    """

    reference: str
    """Our outbox id as echoed by the gateway; empty if the gateway did not echo it."""
    gateway_message_id: str
    mobile: str
    """Normalised like ``SmsMessage.mobile``."""
    delivered: bool
    code: str
    """The carrier's code ("DELIVERED", "DELIVRD", "W-BLACK", …): for display only; decide on
    ``delivered``."""
    detail: str
    reported_at: datetime | None
    """When the handset received it (or the failure was reported), timezone-aware."""
    is_final: bool = True
    """False for a status query's "waiting for a receipt" (Aliyun SendStatus 1): the gateway has
    the message, so it must not be sent again, but its fate is not known yet."""
    has_opted_out: bool = False
    """The receipt says the number is on the gateway's blacklist / unsubscribed list: mark the
    customer as opted out, like ``Outcome.OPTED_OUT``."""

    @property
    def dedup_key(self) -> str:
        """Aliyun: biz_id + number; Tencent: SerialNo (+ number). A status query on Aliyun does
        not return the BizId, so such receipts fall back to our reference."""
        return f"{self.gateway_message_id or self.reference}:{self.mobile}"


@dataclass(frozen=True)
class InboundReply:
    """A customer's reply (上行短信). Replies carry no message id: match them by number."""

    mobile: str
    text: str
    received_at: datetime | None
    extend_code: str = ""

    @property
    def is_opt_out(self) -> bool:
        return is_opt_out_text(self.text)


@dataclass(frozen=True)
class CallbackAck:
    """The exact HTTP answer a gateway expects from our receipt/reply endpoint."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"


class CallbackError(ValueError):
    """A callback body that is not in the gateway's format (answer with ``callback_ack(ok=False)``)."""


class QueryError(Exception):
    """A status query failed. Queries are read-only, so the caller may simply try again later."""

    def __init__(self, code: str, detail: str, outcome: Outcome) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.outcome = outcome


@runtime_checkable
class Gateway(Protocol):
    name: str

    def send(self, message: SmsMessage) -> SendResult:
        """Submit one message; never raises for gateway or network failures (see module doc)."""
        ...

    def query(self, reference: str, mobile: str, sent_on: date) -> list[Receipt]:
        """Status of the messages we sent to ``mobile`` on ``sent_on`` (Asia/Shanghai) with this
        ``reference``; raises ``QueryError``. An empty list does not prove the gateway never got
        the message (Tencent lists only reported messages; receipts can lag)."""
        ...

    def parse_receipts(self, body: bytes, headers: Mapping[str, str]) -> list[Receipt]:
        """Delivery receipts pushed to our endpoint; raises ``CallbackError``."""
        ...

    def parse_replies(self, body: bytes, headers: Mapping[str, str]) -> list[InboundReply]:
        """Inbound replies pushed to our endpoint; raises ``CallbackError``."""
        ...

    def callback_ack(self, *, ok: bool = True) -> CallbackAck:
        """The answer to a receipt/reply callback; ``ok=False`` asks the gateway to push again."""
        ...


# Replies that mean "stop sending me messages": R is what the marketing line asks for
# (拒收请回复R), TD/T/N are the carriers' unsubscribe words, 退订 the Chinese one. Opt-out by
# reply must be honoured at once (工信部令第31号), so anything containing 退订 or 拒收 counts.
OPT_OUT_WORDS = frozenset({"R", "TD", "T", "N", "退订", "拒收"})
_OPT_OUT_FRAGMENTS = ("退订", "拒收")
_PUNCTUATION = str.maketrans("", "", " \t\r\n.,!?;:。，！？；：、\"'“”‘’()（）[]【】")


def is_opt_out_text(text: str) -> bool:
    """Whether a reply asks to stop messages; errs on the side of the customer."""
    folded = text.translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)})  # full-width → ASCII
    cleaned = folded.translate(_PUNCTUATION).upper()
    if cleaned in OPT_OUT_WORDS:
        return True
    return any(fragment in cleaned for fragment in _OPT_OUT_FRAGMENTS)
