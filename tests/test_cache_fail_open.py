"""With Redis down, the cache fails open: pages come from the database, with a log line."""

import logging
import socket

import pytest
from django.core.cache import caches
from django.test import override_settings

from positions import cache as fail_open_cache
from positions.rest import ClientRate
from tests.factories import StatementFactory

pytestmark = pytest.mark.django_db


def closed_port():
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_cache(url):
    return {
        "default": {
            "BACKEND": "positions.cache.FailOpenRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "arms-talks-test",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def redis_down(monkeypatch):
    monkeypatch.setattr(fail_open_cache.FailOpenRedisCache, "last_report", 0.0)
    monkeypatch.setattr(fail_open_cache.FailOpenRedisCache, "paused_until", 0.0)
    with override_settings(CACHES=redis_cache(f"redis://127.0.0.1:{closed_port()}/0")):
        yield caches["default"]


def test_every_cache_operation_fails_open(redis_down):
    assert redis_down.get("key") is None
    assert redis_down.get("key", "fallback") == "fallback"
    assert redis_down.get_many(["a", "b"]) == {}
    assert redis_down.set("key", 1) is None
    assert redis_down.add("key", 1) is False
    assert redis_down.has_key("key") is False
    assert redis_down.delete("key") is False
    with pytest.raises(ValueError, match="unavailable"):
        redis_down.incr("counter")


def test_pages_and_the_api_are_served_without_redis_and_the_log_says_so(
    client, redis_down, caplog
):
    statement = StatementFactory()
    with caplog.at_level(logging.WARNING, logger="positions.cache"):
        for url in ["/", f"/statements/{statement.pk}/", "/api/v1/comparison/"]:
            assert client.get(url).status_code == 200, url
            assert client.get(url, headers={"HX-Request": "true"}).status_code == 200, url
    warnings = [r for r in caplog.records if r.name == "positions.cache"]
    # Said once, not on every call (at most one line every ten seconds).
    assert len(warnings) == 1
    assert "bypassed" in warnings[0].getMessage()


def test_with_redis_up_it_caches_as_usual():
    """The same backend on the running Redis (database 14, emptied first)."""
    with override_settings(CACHES=redis_cache("redis://127.0.0.1:6379/14")):
        backend = caches["default"]
        try:
            backend.clear()
        except Exception:  # pragma: no cover - CI starts Redis
            pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it).")
        backend.set("key", {"value": 1})
        assert backend.get("key") == {"value": 1}
        backend.clear()


def test_after_a_failure_redis_is_left_alone_for_a_pause(redis_down, monkeypatch):
    """A Redis that times out would cost each call its timeout; after one failure the
    process does not try again until the pause is over."""
    client_class = type(redis_down._cache)
    tried = []
    original = client_class.get

    def counting_get(self, *args, **kwargs):
        tried.append(args[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(client_class, "get", counting_get)
    assert redis_down.get("first") is None
    assert redis_down.get("second") is None
    assert redis_down.get_many(["third"]) == {}
    with pytest.raises(ValueError, match="unavailable"):
        redis_down.incr("counter")
    assert len(tried) == 1
    # The pause over, Redis is tried again (and fails again here).
    fail_open_cache.FailOpenRedisCache.paused_until = 0.0
    assert redis_down.get("fourth") is None
    assert len(tried) == 2


def test_the_api_limits_fail_open_without_redis_and_the_log_says_so(
    client, redis_down, caplog, monkeypatch
):
    """Past the limit with Redis up the answer would be 429 (tests/test_throttling.py);
    with Redis down nothing can be counted, so every request is let through."""
    asked = []
    original = fail_open_cache.FailOpenRedisCache.incr

    def recording_incr(self, key, *args, **kwargs):
        asked.append(key)
        return original(self, key, *args, **kwargs)

    monkeypatch.setattr(fail_open_cache.FailOpenRedisCache, "incr", recording_incr)
    with (
        override_settings(API_RATES={"anon": "1/min", "user": "1/min"}),
        caplog.at_level(logging.WARNING, logger="positions.cache"),
    ):
        statuses = [client.get("/api/v1/topics/").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    # The limit was looked up on every request (and let each through).
    assert sum(key.startswith("throttle_anon_") for key in asked) == 3
    warnings = [r for r in caplog.records if r.name == "positions.cache"]
    assert len(warnings) == 1 and "bypassed" in warnings[0].getMessage()


def test_with_redis_up_the_api_limits_are_counted_there(client, monkeypatch):
    """The same limit on the running Redis: the count lives in the shared cache, so every
    app process sees it."""
    # A clock fixed mid-minute, so that the three requests share one window.
    monkeypatch.setattr(ClientRate, "timer", staticmethod(lambda: 1_800_000_015.0))
    with override_settings(CACHES=redis_cache("redis://127.0.0.1:6379/14")):
        backend = caches["default"]
        backend.clear()
        try:
            with override_settings(API_RATES={"anon": "2/min", "user": None}):
                statuses = [client.get("/api/v1/topics/").status_code for _ in range(3)]
            assert statuses == [200, 200, 429]
            assert any(
                "throttle_anon" in key.decode() for key in backend._cache.get_client().keys("*")
            )
        finally:
            backend.clear()
