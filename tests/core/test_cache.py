"""Shared counters: one round trip on Redis, the cache API elsewhere; both count alike."""

from __future__ import annotations

import uuid

from django.core.cache import caches

from townhall.core.cache import counter_hit


def test_a_counter_counts_and_expires() -> None:
    key = f"test-counter-{uuid.uuid4()}"
    assert [counter_hit(key, ttl_seconds=60) for _ in range(3)] == [1, 2, 3]
    other = f"test-counter-{uuid.uuid4()}"
    assert counter_hit(other, ttl_seconds=60) == 1
    backend = caches["default"]
    if type(backend).__name__ == "RedisCache":
        full = backend.make_and_validate_key(key)
        ttl = backend._cache.get_client(full).ttl(full)
        assert 0 < ttl <= 60
    assert backend.get(key) == 3
