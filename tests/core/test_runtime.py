"""Runtime wiring: the cache is Redis when REDIS_URL is set; settings read the environment."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="REDIS_URL not set: cache is in-process"
)
def test_the_cache_round_trips_through_redis() -> None:
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    key = f"test-{uuid.uuid4()}"
    cache.set(key, {"ok": 1}, 30)
    assert cache.get(key) == {"ok": 1}
    cache.delete(key)


def _settings_in_child(env: dict[str, str], expr: str) -> subprocess.CompletedProcess[str]:
    code = f"import townhall.settings as s; print({expr})"
    child_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SECRET_KEY", "TOWNHALL_ENV"}
    }
    child_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], env=child_env, capture_output=True, text=True, check=False
    )


def test_sqlite_is_the_default_database_with_wal() -> None:
    result = _settings_in_child(
        {}, "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['OPTIONS']['init_command']"
    )
    assert "sqlite3" in result.stdout and "journal_mode=WAL" in result.stdout


def test_database_url_selects_postgresql() -> None:
    result = _settings_in_child(
        {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}, "s.DATABASES['default']['ENGINE']"
    )
    assert result.stdout.strip() == "django.db.backends.postgresql"


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = _settings_in_child({"TOWNHALL_ENV": "production"}, "s.SECRET_KEY")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_the_console_command_has_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "townhall", "ledger", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "verify" in result.stdout


def test_each_parallel_test_worker_has_its_own_redis_database() -> None:
    from townhall.conf.storage import redis_url_for_test_worker as for_worker

    assert for_worker("redis://127.0.0.1:6379/15", "") == "redis://127.0.0.1:6379/15"
    assert for_worker("redis://127.0.0.1:6379/15", "gw0") == "redis://127.0.0.1:6379/15"
    assert for_worker("redis://127.0.0.1:6379/15", "gw2") == "redis://127.0.0.1:6379/13"
    assert for_worker("redis://h:6379?ssl=1", "gw1") == "redis://h:6379/14?ssl=1"
    once = for_worker("redis://h/15", "gw3")
    assert for_worker(once, "gw3") == once  # a Townhall a worker starts lands on the same one
    assert for_worker("", "gw1") == "" and for_worker("redis://h/2", "master") == "redis://h/2"
