"""Where data lives: the database and the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured


def database_settings(env: environ.Env, *, database_url: str) -> dict[str, Any]:
    """DATABASES["default"] for `database_url` (anything dj-database-url understands)."""
    database: dict[str, Any] = dict(env.db_url_config(database_url))
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("OPTIONS", {})
        database["OPTIONS"].update(
            {
                # WAL lets the web server read while the worker writes; IMMEDIATE takes the
                # write lock at BEGIN so two writers queue instead of failing half-way.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            }
        )
    else:
        database.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
        database["CONN_HEALTH_CHECKS"] = True
        pool = _pool_options(env)
        if pool:
            if database["ENGINE"] != "django.db.backends.postgresql":
                raise ImproperlyConfigured("DATABASE_POOL_MAX_SIZE needs PostgreSQL (psycopg 3).")
            database.setdefault("OPTIONS", {})["pool"] = pool
            database["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django refuses both
        if env.bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False):
            # Behind PgBouncer in transaction mode: .iterator() then reads all rows at once.
            database["DISABLE_SERVER_SIDE_CURSORS"] = True
    return database


def _pool_options(env: environ.Env) -> dict[str, Any]:
    """Django's psycopg pool, per process: DATABASE_POOL_MAX_SIZE connections at most
    (unset or 0: no pool), DATABASE_POOL_MIN_SIZE kept open, DATABASE_POOL_TIMEOUT seconds
    a request waits for a free one before failing (docs/operations.md)."""
    max_size = env.int("DATABASE_POOL_MAX_SIZE", default=0)
    if max_size <= 0:
        return {}
    min_size = env.int("DATABASE_POOL_MIN_SIZE", default=min(2, max_size))
    timeout = env.float("DATABASE_POOL_TIMEOUT", default=10.0)
    if not 0 <= min_size <= max_size:
        raise ImproperlyConfigured(
            "DATABASE_POOL_MIN_SIZE must be between 0 and DATABASE_POOL_MAX_SIZE."
        )
    if timeout <= 0:
        raise ImproperlyConfigured("DATABASE_POOL_TIMEOUT must be a positive number of seconds.")
    return {"min_size": min_size, "max_size": max_size, "timeout": timeout}


def sqlite_url(var_dir: Path) -> str:
    """The demo's database: SQLite in the var directory."""
    return f"sqlite:///{var_dir / 'townhall.sqlite3'}"


def redis_url_for_test_worker(url: str, worker: str | None) -> str:
    """`url` with the Redis database of a parallel test worker (PYTEST_XDIST_WORKER gw0,
    gw1, ... -> databases 15, 14, ...): each worker clears its cache between tests, as each
    has a test database of its own. Unchanged outside parallel tests, and idempotent (a
    Townhall the worker starts reads the same variables and lands on the same database)."""
    if not url or not worker or not worker.startswith("gw") or not worker[2:].isdigit():
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{15 - int(worker[2:]) % 16}"))


def cache_settings(env: environ.Env, *, redis_url: str, production: bool = False) -> dict[str, Any]:
    """CACHES: Redis when `redis_url` is set, process memory otherwise; ImproperlyConfigured
    in production without Redis (each process would cache, and forget, on its own).

    The Redis cache degrades to a cache holding nothing while Redis is down (a miss, a
    write that does not stick, the outage logged once: core/resilience.py); a call waits
    at most CACHE_TIMEOUT_SECONDS for Redis.
    """
    if redis_url:
        timeout = env.float("CACHE_TIMEOUT_SECONDS", default=0.5)
        return {
            "default": {
                "BACKEND": "townhall.core.resilience.ResilientRedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="townhall"),
                "OPTIONS": {"socket_timeout": timeout, "socket_connect_timeout": timeout},
            }
        }
    if production:
        raise ImproperlyConfigured(
            "TOWNHALL_ENV=production needs REDIS_URL: the cache (and the rate limits and the "
            "live chat's channel layer) must be shared by every process."
        )
    return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
