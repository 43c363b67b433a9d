"""One typed HTTP POST for the adapters, telling "never sent" apart from "sent, no answer".

That difference is what separates ``Outcome.RETRY`` (safe to send again) from
``Outcome.UNKNOWN`` (the gateway may have accepted the message).
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float


DEFAULT_TIMEOUTS = Timeouts(connect=5, read=10)


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    content_type: str
    body: bytes


class NotSent(Exception):
    """The request never left this machine (DNS, refused, connect timeout, TLS handshake)."""


class NoAnswer(Exception):
    """The request was (or may have been) sent, but no complete answer came back."""


def post(url: str, *, headers: dict[str, str], body: bytes, timeouts: Timeouts) -> HttpAnswer:
    try:
        # A fresh session per call: no pooled socket outlives the call, and adapters stay
        # safe to use from several worker threads.
        with requests.Session() as session:
            response = session.post(
                url,
                data=body,
                headers=headers,
                timeout=(timeouts.connect, timeouts.read),
                allow_redirects=False,
            )
            return HttpAnswer(
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


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)  # includes NameResolutionError
