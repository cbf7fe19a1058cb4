"""
The Redis cache, failing open: when Redis is down or slow, every read is a miss and every
write is skipped, with a warning in the log (at most one every LOG_EVERY seconds), so the
app serves its pages from the database instead of answering 500. Nothing is lost: the
cache only ever holds copies (see positions/caching.py).

After a failure the process leaves Redis alone for PAUSE seconds: a Redis that does not
answer at all (rather than refusing the connection) costs a timeout per call, and a
request makes several (its fragments, the API's rate counts).
"""

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)
LOG_EVERY = 10  # seconds
PAUSE = 5  # seconds without trying Redis after a failure


def fail_open(default):
    """Run a cache method; if Redis fails, log (now and then) and return ``default``."""

    def decorator(method):
        @functools.wraps(method)
        def wrapped(self, *args, **kwargs):
            try:
                self.check_paused()
                return method(self, *args, **kwargs)
            except FAILURES as error:
                self.report(method.__name__, error)
                return default(*args, **kwargs) if callable(default) else default

        return wrapped

    return decorator


def given_default(key, default=None, *args, **kwargs):
    return default


class Paused(RedisConnectionError):
    """Redis failed a moment ago; not tried again until the pause is over."""


class FailOpenRedisCache(RedisCache):
    last_report = 0.0
    paused_until = 0.0

    def check_paused(self):
        if time.monotonic() < FailOpenRedisCache.paused_until:
            raise Paused(f"Redis failed less than {PAUSE} s ago; not tried again yet")

    def report(self, operation, error):
        now = time.monotonic()
        if not isinstance(error, Paused):
            FailOpenRedisCache.paused_until = now + PAUSE
        if now - FailOpenRedisCache.last_report >= LOG_EVERY:
            FailOpenRedisCache.last_report = now
            logger.warning(
                "The cache (Redis) failed on %s, so it is bypassed: %s", operation, error
            )

    get = fail_open(given_default)(RedisCache.get)
    get_many = fail_open({})(RedisCache.get_many)
    has_key = fail_open(False)(RedisCache.has_key)
    add = fail_open(False)(RedisCache.add)
    set = fail_open(None)(RedisCache.set)
    set_many = fail_open([])(RedisCache.set_many)
    touch = fail_open(False)(RedisCache.touch)
    delete = fail_open(False)(RedisCache.delete)
    delete_many = fail_open(None)(RedisCache.delete_many)
    clear = fail_open(None)(RedisCache.clear)

    def incr(self, key, delta=1, version=None):
        try:
            self.check_paused()
            return super().incr(key, delta, version)
        except FAILURES as error:
            self.report("incr", error)
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).") from error
