"""The shared cache of production (crm/core/cache.py): every process sees the same limits,
and a Redis that cannot be reached is ridden out as an empty cache."""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from crm.complaints import throttle
from crm.core.cache import ResilientRedisCache, caches_for

# Nothing listens on port 1: a connection is refused at once (the outage).
DEAD = "redis://127.0.0.1:1/0"


def _test_redis_url() -> str:
    """REDIS_URL's server on a database tests may use (never 0)."""
    parts = urlsplit(os.environ["REDIS_URL"])
    db = parts.path.strip("/") or "0"
    return urlunsplit(parts._replace(path=f"/{db if db != '0' else '15'}"))


def test_caches_follow_cache_url() -> None:
    assert caches_for("")["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    shared = caches_for("redis://redis-host:6379/2")["default"]
    assert shared["BACKEND"] == "crm.core.cache.ResilientRedisCache"
    assert shared["LOCATION"] == "redis://redis-host:6379/2"


def test_an_unreachable_redis_is_an_empty_cache_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    cache = ResilientRedisCache(DEAD, {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}})
    ResilientRedisCache._last_warning = 0.0
    with caplog.at_level(logging.WARNING, logger="crm.core.cache"):
        assert cache.get("k", "默认") == "默认"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.add("k", 1) is True  # as for an absent key
        cache.set("k", 1)
        assert cache.has_key("k") is False
        assert cache.delete("k") is False
        with pytest.raises(ValueError, match="cache unavailable"):
            cache.incr("k")
    warnings = [r.getMessage() for r in caplog.records if r.name == "crm.core.cache"]
    assert len(warnings) == 1  # one warning per minute, not one per call
    assert "缓存服务（Redis）不可用" in warnings[0]


@pytest.mark.django_db
def test_pages_and_limits_work_while_redis_is_down(client: Client) -> None:
    """Sessions (cached_db), permissions and the throttle go on from the database alone."""
    dead = caches_for(DEAD)
    dead["default"]["OPTIONS"] = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}
    with override_settings(CACHES=dead, SESSION_ENGINE="django.contrib.sessions.backends.cached_db"):
        caches["default"]
        assert isinstance(caches["default"], ResilientRedisCache)
        from crm.accounts.models import User

        user = User.objects.create_user("outage_clerk", password="Str0ng-口令-2026")
        client.force_login(user)
        response = client.get("/account/security/")
        assert response.status_code == 200
        # The throttle counts each request afresh: a limit of 1 lets every one through.
        assert throttle.hit("test", "1.2.3.4", throttle.Limit(1, 60))
        assert throttle.hit("test", "1.2.3.4", throttle.Limit(1, 60))


@pytest.mark.needs_redis
def test_every_process_counts_the_same_limit() -> None:
    """Two workers (two cache clients on one Redis) share the public page's counters: the
    limit holds for the site, not for each of gunicorn's workers."""
    url = _test_redis_url()
    prefix = f"t{uuid.uuid4().hex[:8]}"
    options = {"KEY_PREFIX": prefix}
    worker_a, worker_b = ResilientRedisCache(url, options), ResilientRedisCache(url, options)
    with override_settings(
        CACHES={"default": {"BACKEND": "crm.core.cache.ResilientRedisCache", "LOCATION": url, "KEY_PREFIX": prefix}}
    ):
        limit = throttle.Limit(3, 60)
        assert [throttle.hit("ip", "10.0.0.9", limit) for _ in range(4)] == [True, True, True, False]
        key = "throttle:ip:10.0.0.9"
        assert worker_a.get(key) == 4
        assert worker_b.add(key, 1, 60) is False  # the other worker's first hit is not a first
        assert worker_b.incr(key) == 5
        throttle.reset("ip", "10.0.0.9")
    assert worker_a.get(key) is None


def test_wide_scope_counts_are_kept_and_narrow_ones_counted_each_time(settings: Any) -> None:
    from django.core.cache import cache

    from crm.core.cards import wide_scope_counts

    settings.WORKBENCH_CACHE_SECONDS = 300
    cache.clear()
    calls: list[int] = []

    def compute() -> dict[str, int]:
        calls.append(1)
        return {"overdue": len(calls)}

    first = wide_scope_counts("workbench:t:1:2026-12-07", compute, wide=True)
    again = wide_scope_counts("workbench:t:1:2026-12-07", compute, wide=True)
    assert first == again == ({"overdue": 1}, "数字约每 5 分钟更新一次")
    assert wide_scope_counts("workbench:t:1:2026-12-08", compute, wide=True)[0] == {"overdue": 2}  # a new day
    assert wide_scope_counts("workbench:t:2:2026-12-07", compute, wide=False) == ({"overdue": 3}, "")
    assert wide_scope_counts("workbench:t:2:2026-12-07", compute, wide=False) == ({"overdue": 4}, "")
    settings.WORKBENCH_CACHE_SECONDS = 0  # tests and whoever switches it off: always fresh
    assert wide_scope_counts("workbench:t:1:2026-12-07", compute, wide=True) == ({"overdue": 5}, "")
