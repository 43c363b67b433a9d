"""`manage.py dispatch`: send due care messages and settle unknown ones, with the real clock.

The dispatch half of ``manage.py runjobs``, for an extra dispatch worker process and for
draining the outbox (``--until-empty``, used by the reliability tests and by operators after
an outage). Any number may run at once beside runjobs or Celery: rows are claimed before
they are sent (crm/care/dispatch.py).
"""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError, close_old_connections
from django.utils import timezone

from crm.care import dispatch
from crm.care.models import OutboundMessage
from crm.sms.gateways import get_gateway

Status = OutboundMessage.Status


def open_messages(now: Any) -> int:
    """Rows this command still has to act on: due inside their window, or submitting (a row
    past its window is expire_overdue's)."""
    return dispatch.due(now).count() + OutboundMessage.objects.filter(status=Status.SUBMITTING).count()


class Command(BaseCommand):
    help = "发送到期的温馨速递短信并核对结果未知的短信；--until-empty 发完即退出"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--until-empty",
            action="store_true",
            help="exit once no message is due or submitting (else run until SIGTERM)",
        )
        parser.add_argument(
            "--max-seconds", type=float, default=0, help="give up (exit status 1) after this long; 0: no limit"
        )
        parser.add_argument("--batch", type=int, default=dispatch.CLAIM_BATCH * 5, help="messages per send round")
        parser.add_argument("--idle-sleep", type=float, default=0.5, help="seconds to wait when nothing is due")

    def handle(
        self, *args: Any, until_empty: bool, max_seconds: float, batch: int, idle_sleep: float, **_: Any
    ) -> None:
        gateway = get_gateway()
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        started = time.monotonic()
        accepted = settled = 0
        database_down = False
        while not stopping:
            close_old_connections()
            try:
                # A fresh `now` per round: the jobs stamp claims with it (see dispatch.job_clock).
                sent = dispatch.send_due_messages(now=timezone.now(), limit=batch, gateway=gateway)
                accepted += sent
                settled += dispatch.settle_submitting(now=timezone.now(), gateway=gateway)
                empty = until_empty and open_messages(timezone.now()) == 0
            except (OperationalError, InterfaceError):
                # The database does not answer (restart, outage): wait and go on. A row whose
                # outcome could not be written stays `submitting` with its hand-off stamp, and
                # settle_submitting asks the gateway about it instead of sending it again.
                if not database_down:
                    self.stderr.write("数据库暂时无法连接，发送暂停，恢复后继续")
                database_down = True
                sent, empty = 0, False
                close_old_connections()
            else:
                if database_down:
                    self.stderr.write("数据库已恢复，继续发送")
                database_down = False
            if empty:
                break
            if max_seconds and time.monotonic() - started > max_seconds:
                self.stdout.write(f"accepted={accepted} settled={settled}")
                raise CommandError(f"仍有 {open_messages(timezone.now())} 条短信未发完（已超过 {max_seconds:g} 秒）")
            if not sent:
                time.sleep(idle_sleep)
        self.stdout.write(f"accepted={accepted} settled={settled}")
