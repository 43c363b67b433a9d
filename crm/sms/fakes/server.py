"""The harness both fakes share: a real HTTP server on 127.0.0.1 in a background thread.

A fake decides each answer in ``handle``; an answer may carry a delay, spent *after* the
fake has acted on the request (a message accepted, then the answer late: the ambiguous case a
client timeout produces). Delays wait on an event that ``stop`` sets, so stopping never
waits for a slow answer and every handler thread is joined before ``stop`` returns.

It speaks HTTP/1.1 with keep-alive, as the real gateways do, so a client's pooled connections
are exercised: every answer carries its Content-Length; a late (delayed) answer closes the
connection after it (the client that timed out has dropped its end); a hang-up closes it
without a word. ``stop`` shuts the kept-alive connections down, so handler threads waiting
for a next request end and the client sees the close before its next request.
"""

from __future__ import annotations

import contextlib
import enum
import socket
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
    connections: set[socket.socket] = field(default_factory=set)


class FakeServer:
    """Subclasses implement ``handle``; ``slow_seconds`` is how late a TIMEOUT answer comes."""

    slow_seconds: float = 2.0

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._state = _State()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.connections_opened = 0

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
        state = _State()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive
            # Headers and body go out in two writes; with Nagle's algorithm the second waits
            # for the client's delayed ACK (40 ms) on a kept-alive connection.
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with fake.lock:
                    state.connections.add(self.connection)
                    fake.connections_opened += 1
                if state.stopping.is_set():
                    self.close_connection = True

            def finish(self) -> None:
                with fake.lock:
                    state.connections.discard(self.connection)
                with contextlib.suppress(OSError):  # the client reset the connection
                    super().finish()

            def handle_one_request(self) -> None:
                try:
                    super().handle_one_request()
                except OSError:
                    self.close_connection = True  # the client gave up (its timeout) and reset
                if state.stopping.is_set():
                    self.close_connection = True

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
                if response.delay:
                    # The client may well have timed out and dropped its end: answer, then close.
                    self.close_connection = True
                    if state.stopping.wait(response.delay):
                        return  # stopping: drop the answer
                if response.status == 0:
                    self.close_connection = True
                    return  # hang up without a word
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", response.content_type)
                    self.send_header("Content-Length", str(len(response.body)))
                    if self.close_connection:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(response.body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up waiting (its timeout): the point

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = False
        server.block_on_close = True  # server_close joins the handler threads
        self._state = state
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._state.stopping.set()
        self._server.shutdown()
        self.close_connections()  # wakes the handlers waiting for a next request
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def close_connections(self) -> None:
        """Close the kept-alive connections, as a server does with idle ones."""
        with self.lock:
            connections = list(self._state.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
