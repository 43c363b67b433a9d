"""One typed HTTP POST for the adapters, telling "never sent" apart from "sent, no answer".

That difference is what separates ``Outcome.RETRY`` (safe to send again) from
``Outcome.UNKNOWN`` (the gateway may have accepted the message).

Connections are kept alive: each thread has its own ``requests.Session`` (a session is not
safe to share between threads), so a worker pays the TCP (and in production TLS) handshake
once, not per message. A pooled connection the server has closed is noticed by urllib3 before
reuse (it checks for a dropped connection and opens a new one), so an idle close turns into
a new connection, not an error. Only a close racing the request itself — the server shutting
the connection just as the request goes out — ends as ``NoAnswer``, and it must: the request
may have reached the server. To keep that race away from servers that close idle connections
(load balancers: typically after 60 s or more), a connection idle longer than
``IDLE_REUSE_SECONDS`` is not reused. A process forked after a call (Celery prefork) starts
with no session, never sharing the parent's sockets.

The environment (HTTP(S)_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE) is read once per session and
endpoint instead of on every call (requests re-reads it, netrc included, per request: most
of its own cost on a kept-alive connection). A netrc entry is ignored: it would replace the
adapters' signed Authorization header.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float


DEFAULT_TIMEOUTS = Timeouts(connect=5, read=10)

IDLE_REUSE_SECONDS = 15.0
"""A kept-alive connection idle this long is closed rather than reused (see the docstring)."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    content_type: str
    body: bytes


class NotSent(Exception):
    """The request never left this machine (DNS, refused, connect timeout, TLS handshake)."""


class NoAnswer(Exception):
    """The request was (or may have been) sent, but no complete answer came back."""


class _Local(threading.local):
    session: requests.Session | None = None
    pid: int = 0
    last_used: float = 0.0
    environment: dict[str, dict[str, Any]]

    def __init__(self) -> None:
        self.environment = {}


_local = _Local()


def _session() -> requests.Session:
    """This thread's session; a new one after a fork or a long idle spell."""
    now = time.monotonic()
    session = _local.session
    if session is not None and _local.pid != os.getpid():
        session = None  # inherited across a fork: the sockets belong to the parent; drop, don't close
    elif session is not None and now - _local.last_used > IDLE_REUSE_SECONDS:
        session.close()
        session = None
    if session is None:
        session = requests.Session()
        session.trust_env = False  # read once per endpoint instead (_environment)
        _local.session = session
        _local.pid = os.getpid()
        _local.environment = {}
    _local.last_used = now
    return session


def _environment(url: str) -> dict[str, Any]:
    """Proxies and CA bundle for ``url`` from the environment, as requests would read them."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    settings = _local.environment.get(origin)
    if settings is None:
        with requests.Session() as reader:  # trust_env: reads the environment once
            merged = reader.merge_environment_settings(origin, {}, None, None, None)
        settings = {"proxies": merged["proxies"], "verify": merged["verify"], "cert": merged["cert"]}
        _local.environment[origin] = settings
    return settings


def post(url: str, *, headers: dict[str, str], body: bytes, timeouts: Timeouts) -> HttpAnswer:
    session = _session()
    try:
        response = session.post(
            url,
            data=body,
            headers=headers,
            timeout=(timeouts.connect, timeouts.read),
            allow_redirects=False,
            **_environment(url),
        )
        answer = HttpAnswer(
            status=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            body=response.content,
        )
    except (
        requests.exceptions.InvalidURL,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidSchema,
        requests.exceptions.InvalidHeader,
    ) as exc:
        raise NotSent(f"request not built: {exc}") from exc
    except requests.exceptions.ConnectTimeout as exc:
        raise NotSent(f"connect timeout: {exc}") from exc
    except requests.exceptions.SSLError as exc:
        raise NotSent(f"TLS: {exc}") from exc
    except requests.exceptions.ConnectionError as exc:
        if _never_connected(exc):
            raise NotSent(f"connection failed: {exc}") from exc
        raise NoAnswer(f"connection lost: {exc}") from exc
    except requests.exceptions.Timeout as exc:
        raise NoAnswer(f"read timeout: {exc}") from exc
    except requests.exceptions.RequestException as exc:
        raise NoAnswer(f"{type(exc).__name__}: {exc}") from exc
    _local.last_used = time.monotonic()
    return answer


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)  # includes NameResolutionError
