"""The default backend: shows each message instead of sending it.

Each message is printed (mobile masked) and logged. So that its status query is truthful
(dispatch settles a message left "submitting" after a crash from the status query, and an
authoritative query that does not know a message makes dispatch send it again), the console
first records every message it is about to print:

- with ``SMS_CONSOLE_FILE`` set, in that file, one JSON line with the full number and text,
  so a developer or a browser test can read what "was sent";
- otherwise in its ledger (``get_gateway`` puts it in ``VAR_DIR``): reference, masked
  number, id and time only.

``query`` answers from that record like a real status query. The record is written before
the print: a crash between the two leaves a message recorded but not shown, never one shown
twice. Without a file or a ledger (``ConsoleGateway()``) the query knows nothing and says
so (``query_is_authoritative`` is False), so nothing is sent again on its word.
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

    def __init__(
        self, *, file: Path | str | None = None, ledger: Path | str | None = None, stream: TextIO | None = None
    ) -> None:
        self.file = Path(file) if file else None
        self.ledger = Path(ledger) if ledger else None
        self.stream = stream

    @property
    def record(self) -> Path | None:
        """Where printed messages are recorded: the developer's file, else the ledger."""
        return self.file or self.ledger

    @property
    def query_is_authoritative(self) -> bool:
        """The query lists every message printed only when they are recorded somewhere."""
        return self.record is not None

    def send(self, message: SmsMessage) -> SendResult:
        if not message.reference:
            raise ValueError("reference is required")
        gateway_message_id = f"console-{uuid.uuid4().hex}"
        sent_at = datetime.now(tz=CHINA_TZ)
        if self.file:
            self._append(
                self.file,
                {
                    "reference": message.reference,
                    "gateway_message_id": gateway_message_id,
                    "mobile": message.mobile,
                    "sign_name": message.sign_name,
                    "template_code": message.template_code,
                    "params": message.params,
                    "text": message.text,
                    "sent_at": sent_at.isoformat(),
                },
            )
        elif self.ledger:
            self._append(
                self.ledger,
                {
                    "reference": message.reference,
                    "gateway_message_id": gateway_message_id,
                    "mobile": mask_mobile(message.mobile),
                    "sent_at": sent_at.isoformat(),
                },
            )
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
        return SendResult(
            Outcome.ACCEPTED, gateway_message_id=gateway_message_id, code="OK", detail="控制台模拟发送，未真正发出"
        )

    @staticmethod
    def _append(path: Path, record: dict[str, object]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One write per line in append mode: lines from several processes do not interleave.
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def query(self, reference: str, mobile: str, sent_on: date) -> list[Receipt]:
        """Every recorded message for this reference and number is "delivered"."""
        record = self.record
        if record is None or not record.exists():
            return []
        numbers = {mobile, mask_mobile(mobile)}  # the ledger keeps the number masked
        receipts = []
        for line in record.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash
            if entry.get("reference") != reference or entry.get("mobile") not in numbers:
                continue
            sent_at = datetime.fromisoformat(entry["sent_at"])
            if sent_at.astimezone(CHINA_TZ).date() != sent_on:
                continue
            receipts.append(
                Receipt(
                    reference=reference,
                    gateway_message_id=entry["gateway_message_id"],
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
