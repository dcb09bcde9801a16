"""Where data lives: the database and the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ


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
    return database


def sqlite_url(var_dir: Path) -> str:
    """The demo's database: SQLite in the var directory."""
    return f"sqlite:///{var_dir / 'townhall.sqlite3'}"


def cache_settings(env: environ.Env, *, redis_url: str) -> dict[str, Any]:
    """CACHES: Redis when `redis_url` is set, process memory otherwise."""
    if redis_url:
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="townhall"),
            }
        }
    return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
