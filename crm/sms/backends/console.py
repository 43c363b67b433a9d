"""The default backend: shows each message instead of sending it.

Each message is printed (mobile masked) and logged; when ``SMS_CONSOLE_FILE`` is set it is
also appended there as one JSON line with the full number, so a developer or a browser test
can read what "was sent", and ``query`` answers from that file like a real status query.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from crm.lib.mobile import mask_mobile

from ..base import CallbackAck, InboundReply, Outcome, Receipt, SendResult, SmsMessage
from ..formats import CHINA_TZ
from . import simple

logger = logging.getLogger("crm.sms.console")


class ConsoleGateway:
    name = "console"

    def __init__(self, *, file: Path | str | None = None, stream: TextIO | None = None) -> None:
        self.file = Path(file) if file else None
        self.stream = stream

    def send(self, message: SmsMessage) -> SendResult:
        if not message.reference:
            raise ValueError("reference is required")
        gateway_message_id = f"console-{uuid.uuid4().hex}"
        sent_at = datetime.now(tz=CHINA_TZ)
        stream = self.stream or sys.stdout  # looked up per call, so pytest's capsys sees it
        print(
            f"[短信·控制台] 【{message.sign_name}】{message.text}\n"
            f"  → {mask_mobile(message.mobile)} 模板 {message.template_code} 参数 "
            f"{json.dumps(message.params, ensure_ascii=False)} 引用 {message.reference} 编号 {gateway_message_id}",
            file=stream,
            flush=True,
        )
        logger.info(
            "console send ref=%s to=%s template=%s id=%s",
            message.reference,
            mask_mobile(message.mobile),
            message.template_code,
            gateway_message_id,
        )
        if self.file:
            record = {
                "reference": message.reference,
                "gateway_message_id": gateway_message_id,
                "mobile": message.mobile,
                "sign_name": message.sign_name,
                "template_code": message.template_code,
                "params": message.params,
                "text": message.text,
                "sent_at": sent_at.isoformat(),
            }
            self.file.parent.mkdir(parents=True, exist_ok=True)
            # One write per line in append mode: lines from several processes do not interleave.
            with self.file.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        return SendResult(
            Outcome.ACCEPTED, gateway_message_id=gateway_message_id, code="OK", detail="控制台模拟发送，未真正发出"
        )

    def query(self, reference: str, mobile: str, sent_on: date) -> list[Receipt]:
        """Every line of the console file for this reference and number is "delivered"."""
        if not self.file or not self.file.exists():
            return []
        receipts = []
        for line in self.file.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("reference") != reference or record.get("mobile") != mobile:
                continue
            sent_at = datetime.fromisoformat(record["sent_at"])
            if sent_at.astimezone(CHINA_TZ).date() != sent_on:
                continue
            receipts.append(
                Receipt(
                    reference=reference,
                    gateway_message_id=record["gateway_message_id"],
                    mobile=mobile,
                    delivered=True,
                    code="DELIVERED",
                    detail="控制台模拟送达",
                    reported_at=sent_at,
                )
            )
        return receipts

    def parse_receipts(self, body: bytes, headers: Mapping[str, str]) -> list[Receipt]:
        return simple.parse_receipts(body)

    def parse_replies(self, body: bytes, headers: Mapping[str, str]) -> list[InboundReply]:
        return simple.parse_replies(body)

    def callback_ack(self, *, ok: bool = True) -> CallbackAck:
        return simple.callback_ack(ok=ok)
