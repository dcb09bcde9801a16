"""Connection pooling settings (conf/storage.py database_settings): Django's psycopg pool
from DATABASE_POOL_*; server-side cursors off for PgBouncer in transaction mode."""

from __future__ import annotations

import copy

import environ
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from townhall.conf.storage import database_settings

PG = "postgres://app@db.internal:5432/townhall"
POOL_ENV = (
    "DATABASE_POOL_MAX_SIZE",
    "DATABASE_POOL_MIN_SIZE",
    "DATABASE_POOL_TIMEOUT",
    "DATABASE_DISABLE_SERVER_SIDE_CURSORS",
    "CONN_MAX_AGE",
)


def env_with(monkeypatch: pytest.MonkeyPatch, **values: str) -> environ.Env:
    for name in POOL_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return environ.Env()


def test_without_pool_settings_connections_persist_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = database_settings(env_with(monkeypatch), database_url=PG)
    assert "pool" not in database.get("OPTIONS", {})
    assert database["CONN_MAX_AGE"] == 60
    assert "DISABLE_SERVER_SIDE_CURSORS" not in database


def test_pool_settings_give_the_psycopg_pool_options(monkeypatch: pytest.MonkeyPatch) -> None:
    env = env_with(
        monkeypatch,
        DATABASE_POOL_MAX_SIZE="8",
        DATABASE_POOL_MIN_SIZE="3",
        DATABASE_POOL_TIMEOUT="5",
        CONN_MAX_AGE="600",
    )
    database = database_settings(env, database_url=PG)
    assert database["OPTIONS"]["pool"] == {"min_size": 3, "max_size": 8, "timeout": 5.0}
    assert database["CONN_MAX_AGE"] == 0  # Django refuses a pool with persistent connections

    small = database_settings(env_with(monkeypatch, DATABASE_POOL_MAX_SIZE="1"), database_url=PG)
    assert small["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 1, "timeout": 10.0}


def test_pgbouncer_transaction_mode_turns_server_side_cursors_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = env_with(monkeypatch, DATABASE_DISABLE_SERVER_SIDE_CURSORS="true", CONN_MAX_AGE="0")
    database = database_settings(env, database_url=PG)
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert database["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"DATABASE_POOL_MAX_SIZE": "4", "DATABASE_POOL_MIN_SIZE": "5"}, "MIN_SIZE"),
        ({"DATABASE_POOL_MAX_SIZE": "4", "DATABASE_POOL_TIMEOUT": "0"}, "TIMEOUT"),
    ],
)
def test_impossible_pool_settings_are_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        database_settings(env_with(monkeypatch, **values), database_url=PG)


def test_a_pool_needs_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    env = env_with(monkeypatch, DATABASE_POOL_MAX_SIZE="4")
    with pytest.raises(ImproperlyConfigured, match="PostgreSQL"):
        database_settings(env, database_url="mysql://app@db.internal/townhall")
    sqlite = database_settings(env, database_url="sqlite:////tmp/x.sqlite3")
    assert "pool" not in sqlite["OPTIONS"]  # the demo's SQLite ignores it


@pytest.mark.skipif(
    "postgresql" not in django_settings.DATABASES["default"]["ENGINE"],
    reason="the psycopg pool is PostgreSQL's",
)
@pytest.mark.django_db
def test_the_pool_options_open_a_working_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db.backends.postgresql.base import DatabaseWrapper

    pooled = database_settings(
        env_with(monkeypatch, DATABASE_POOL_MAX_SIZE="3", DATABASE_POOL_MIN_SIZE="1"),
        database_url=PG,
    )
    probe = copy.deepcopy(connections["default"].settings_dict)
    probe["OPTIONS"] = {**probe["OPTIONS"], "pool": pooled["OPTIONS"]["pool"]}
    probe["CONN_MAX_AGE"] = pooled["CONN_MAX_AGE"]
    wrapper = DatabaseWrapper(probe, alias="pool_probe")
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
        assert wrapper.pool is not None
        stats = wrapper.pool.get_stats()
        assert stats["pool_max"] == 3 and stats["pool_min"] == 1
    finally:
        wrapper.close()
        wrapper.close_pool()
