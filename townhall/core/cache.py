"""Counters shared by every process (rate limits), in one cache round trip."""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def counter_hit(key: str, *, ttl_seconds: int) -> int:
    """Add one to the counter `key` and return its new value; it lives `ttl_seconds`
    after its last hit. On Redis, INCR and EXPIRE go in one pipelined round trip
    (Django's own add-then-incr takes three); elsewhere the cache API does it."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        full = cache.make_and_validate_key(key)
        client = cache._cache.get_client(full, write=True)  # type: ignore[attr-defined]
        pipe = client.pipeline(transaction=False)
        pipe.incr(full)
        pipe.expire(full, ttl_seconds)
        count, _ = pipe.execute()
        return int(count)
    cache.add(key, 0, timeout=ttl_seconds)
    return int(cache.incr(key))
