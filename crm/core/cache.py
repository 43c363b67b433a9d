"""The production cache: Redis shared by every gunicorn worker, job runner and Celery worker.

What lives in Django's cache must be seen by every process, or a limit is only a limit per
process: the public complaint page's rate limits (crm.complaints.throttle), its CAPTCHA
tokens spent once (crm.complaints.captcha), the workbench's cached counts, a user's
permissions under their stamp (crm.accounts.backends) and, with ``cached_db``, the
sessions. With the default per-process memory cache and gunicorn's 4 workers a client
could post 4 × the hourly limit and use a CAPTCHA answer once per worker. ``CACHE_URL``
(docs/operations.md) turns this backend on; the embedded default (`make run`, one
process) keeps the memory cache.

A Redis outage must not take the site down with it: every page reads the session and the
user's permissions through the cache. ``ResilientRedisCache`` answers as if the key were
absent when Redis cannot be reached (a miss, an ``add`` that succeeds, a ``set`` that is
dropped) and logs one warning per minute per process; the database stays the source of
truth (sessions are ``cached_db``, permissions are re-read and the limits count again
from zero). What is weaker during the outage: the rate limits and the CAPTCHA's single
use hold per request, not across requests — written in docs/reliability.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
WARN_EVERY_SECONDS = 60.0


class ResilientRedisCache(RedisCache):
    """Django's RedisCache that treats an unreachable Redis as an empty cache."""

    _last_warning = 0.0

    def _unavailable(self, operation: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - ResilientRedisCache._last_warning >= WARN_EVERY_SECONDS:
            ResilientRedisCache._last_warning = now
            logger.warning("缓存服务（Redis）不可用，按未命中处理：%s %s", operation, exc)

    def _guarded(self, operation: str, call: Callable[[], Any], fallback: Any) -> Any:
        """``call()``, or ``fallback`` (as for an absent key) when Redis cannot be reached."""
        try:
            return call()
        except UNAVAILABLE as exc:
            self._unavailable(operation, exc)
            return fallback

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._guarded("get", lambda: super(ResilientRedisCache, self).get(key, default, version), default)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        result: dict[Any, Any] = self._guarded(
            "get_many", lambda: super(ResilientRedisCache, self).get_many(keys, version), {}
        )
        return result

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return bool(
            self._guarded("add", lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), True)
        )

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._guarded("set", lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), None)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        result: list[Any] = self._guarded(
            "set_many", lambda: super(ResilientRedisCache, self).set_many(data, timeout, version), []
        )
        return result

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return bool(
            self._guarded("touch", lambda: super(ResilientRedisCache, self).touch(key, timeout, version), False)
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        return bool(self._guarded("delete", lambda: super(ResilientRedisCache, self).delete(key, version), False))

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._guarded("delete_many", lambda: super(ResilientRedisCache, self).delete_many(keys, version), None)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return bool(self._guarded("has_key", lambda: super(ResilientRedisCache, self).has_key(key, version), False))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except UNAVAILABLE as exc:
            # As for a key that is not there: the caller starts counting again (throttle.hit).
            self._unavailable("incr", exc)
            raise ValueError(f"Key '{key}' not found (cache unavailable)") from exc


def caches_for(url: str) -> dict[str, dict[str, Any]]:
    """settings.CACHES for ``CACHE_URL``: Redis when set, else each process's own memory."""
    if not url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "crm.core.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "estatecrm",
            # A stalled Redis costs a page at most this long before it is treated as absent.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
