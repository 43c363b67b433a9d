"""The part of a send every HTTP adapter shares: transport failures → outcomes, and the log line."""

from __future__ import annotations

import logging
from collections.abc import Callable

from crm.lib.mobile import mask_mobile

from .base import Outcome, SendResult, SmsMessage
from .http import HttpAnswer, NoAnswer, NotSent


def send_via(
    call: Callable[[], HttpAnswer],
    interpret: Callable[[HttpAnswer], SendResult],
    *,
    service: str,
    message: SmsMessage,
    logger: logging.Logger,
) -> SendResult:
    """Run the HTTP call; a request that never left is RETRY, one that may have arrived
    without an answer is UNKNOWN (settle it by status query, never resend blindly)."""
    try:
        answer = call()
    except NotSent as exc:
        result = SendResult(Outcome.RETRY, code="CONNECT_ERROR", detail=f"无法连接{service}短信服务，稍后重试（{exc}）")
    except NoAnswer as exc:
        result = SendResult(
            Outcome.UNKNOWN,
            code="TIMEOUT",
            detail=f"{service}未在限定时间内应答，短信可能已发出，须查询状态后再决定（{exc}）",
        )
    else:
        result = interpret(answer)
    logger.info(
        "send ref=%s to=%s outcome=%s code=%s id=%s",
        message.reference,
        mask_mobile(message.mobile),
        result.outcome,
        result.code,
        result.gateway_message_id,
    )
    return result
