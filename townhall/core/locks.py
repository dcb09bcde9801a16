"""Process-wide singleton locks: one holder per deployment, for as long as it lives.

On PostgreSQL the lock is a session advisory lock (pg_try_advisory_lock) taken on a
connection of its own, outside Django's connection handling and any pool: the server
lets it go the moment that connection ends (the process exits, crashes or loses the
network), so a standby can take over. The connection must reach PostgreSQL in session
mode (directly, or a PgBouncer pool in session mode): PgBouncer in transaction mode
would hand the session, and the lock, to other clients.

On SQLite (the demo, one machine) it is an flock(2) on a file in VAR_DIR, which the
kernel releases when the process ends.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)


class SingletonLock(Protocol):
    name: str

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this process now holds it."""

    def still_held(self) -> bool:
        """Whether the lock is still ours (a lost connection loses it)."""

    def release(self) -> None:
        """Let it go (also what the end of the process does)."""


def lock_key(name: str) -> int:
    """The advisory lock's 64-bit key for `name` (stable across processes and versions)."""
    digest = hashlib.sha256(f"townhall:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLock:
    """pg_try_advisory_lock on a dedicated autocommit connection."""

    def __init__(self, name: str, *, alias: str = DEFAULT_DB_ALIAS) -> None:
        self.name = name
        self.key = lock_key(name)
        self.alias = alias
        self._conn: Any = None

    def acquire(self) -> bool:
        import psycopg

        if self._conn is None:
            params = connections[self.alias].get_connection_params()
            params.pop("cursor_factory", None)
            params.pop("context", None)
            params["application_name"] = f"townhall {self.name} lock"
            self._conn = psycopg.connect(**params, autocommit=True)
        try:
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()
        except psycopg.Error:
            self._drop()
            return False
        return bool(row and row[0])

    def still_held(self) -> bool:
        import psycopg

        if self._conn is None:
            return False
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid() AND objsubid = 1"
                " AND classid = ((%(key)s::bigint >> 32) & 4294967295)::oid"
                " AND objid = (%(key)s::bigint & 4294967295)::oid",
                {"key": self.key},
            ).fetchone()
        except psycopg.Error:
            self._drop()
            return False
        return bool(row and row[0])

    def release(self) -> None:
        if self._conn is not None:
            try:  # at once, not whenever the server notices the session ended
                self._conn.execute("SELECT pg_advisory_unlock(%s)", [self.key])
            except Exception:  # the session is gone, and the lock with it
                logger.debug("lock connection already gone")
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # a broken connection is being thrown away
                logger.debug("lock connection already gone")
            self._conn = None


class FileLock:
    """flock(2) on VAR_DIR/<name>.lock, held while the file stays open."""

    def __init__(self, name: str, *, directory: Path | None = None) -> None:
        self.name = name
        folder = Path(directory or settings.VAR_DIR)
        self.path = folder / f"{name}.lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def singleton_lock(name: str, *, alias: str = DEFAULT_DB_ALIAS) -> SingletonLock:
    """The lock for `name` on this deployment's database: advisory on PostgreSQL, a file
    lock in VAR_DIR otherwise (SQLite lives on one machine, so a file lock covers it)."""
    if connections[alias].vendor == "postgresql":
        return AdvisoryLock(name, alias=alias)
    return FileLock(name)
