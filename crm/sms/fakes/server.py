"""The harness both fakes share: a real HTTP server on 127.0.0.1 in a background thread.

A fake decides each answer in ``handle``; an answer may carry a delay, spent *after* the
fake has acted on the request (a message accepted, then the answer late: the ambiguous case a
client timeout produces). Delays wait on an event that ``stop`` sets, so stopping never
waits for a slow answer and every handler thread is joined before ``stop`` returns.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit


class Behaviour(enum.Enum):
    """What a fake does with one scripted send (each fake maps it to its protocol's code)."""

    OK = "ok"
    THROTTLE = "throttle"  # per-number frequency limit
    INVALID_NUMBER = "invalid_number"
    BLACKLISTED = "blacklisted"
    TIME_WINDOW = "time_window"  # marketing outside 08:00–22:00 (Tencent)
    TEMPLATE_UNAPPROVED = "template_unapproved"
    SIGNATURE_UNAPPROVED = "signature_unapproved"
    OUT_OF_BALANCE = "out_of_balance"
    DAY_LIMIT = "day_limit"
    HTTP_500 = "http_500"
    TIMEOUT = "timeout"  # accepted, but the answer comes after the client has given up
    LOST = "lost"  # not accepted, and no answer in time either
    HANG_UP = "hang_up"  # accepted, then the connection closes without an answer


@dataclass(frozen=True)
class FakeError:
    """Answer a send with an arbitrary code (to walk an error table through the real protocol).

    ``placement`` is Tencent's: "status" (per number, SendStatusSet) or "error"
    (Response.Error); ``http_status`` is Aliyun's (its errors may come as HTTP 4xx).
    """

    code: str
    message: str = "fake error"
    placement: str = "status"
    http_status: int = 200


Script = Behaviour | FakeError


@dataclass(frozen=True)
class FakeRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass(frozen=True)
class FakeResponse:
    status: int  # 0: close the connection without answering
    body: bytes
    content_type: str = "application/json"
    delay: float = 0.0


@dataclass
class _State:
    stopping: threading.Event = field(default_factory=threading.Event)


class FakeServer:
    """Subclasses implement ``handle``; ``slow_seconds`` is how late a TIMEOUT answer comes."""

    slow_seconds: float = 2.0

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._state = _State()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handle(self, request: FakeRequest) -> FakeResponse:
        raise NotImplementedError

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake is not running")
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._dispatch("POST")

            def do_GET(self) -> None:
                self._dispatch("GET")

            def _dispatch(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = FakeRequest(
                    method=method,
                    path=parts.path,
                    query=parts.query,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=body,
                )
                response = fake.handle(request)
                if response.delay and fake._state.stopping.wait(response.delay):
                    return  # stopping: drop the answer
                if response.status == 0:
                    self.close_connection = True
                    return  # hang up without a word
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", response.content_type)
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    self.wfile.write(response.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (its timeout): that is the point

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = False
        server.block_on_close = True  # server_close joins the handler threads
        self._state = _State()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
