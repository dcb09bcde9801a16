"""Readiness: may this process take traffic? Database, cache, migrations and the worker.

Each check returns a short, fixed word (never data); the first failure of a check does not
stop the others, so the answer says everything that is wrong.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from townhall.ops.queue import queue_is_database, queue_state

logger = logging.getLogger(__name__)

OK = "ok"
_migrations_applied = False  # once true, stays true for the life of the process


def check_database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return OK


def check_cache() -> str:
    key = "townhall:readyz"
    value = uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    return OK if cache.get(key) == value else "cache did not return what was stored"


def check_migrations() -> str:
    """No migration left to apply; a positive answer is kept, so later probes cost nothing."""
    global _migrations_applied
    if _migrations_applied:
        return OK
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return f"{len(plan)} migrations not applied"
    _migrations_applied = True
    return OK


def check_worker() -> str:
    """The oldest runnable task has waited at most TOWNHALL_READY_MAX_TASK_AGE seconds."""
    if not queue_is_database():
        return "skipped"
    age = queue_state().oldest_age_seconds
    limit = settings.TOWNHALL_READY_MAX_TASK_AGE
    return OK if age <= limit else f"oldest task waiting {int(age)}s (limit {limit}s)"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "migrations": check_migrations,
    "worker": check_worker,
}


def readiness() -> tuple[bool, dict[str, str]]:
    """(ready, {check: "ok" | "skipped" | what is wrong})."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as error:  # a probe answers; it never raises
            logger.warning("readiness check %s failed: %s", name, type(error).__name__)
            results[name] = f"error: {type(error).__name__}"
    return all(value in (OK, "skipped") for value in results.values()), results


def migrations_cache_forget() -> None:
    """For tests: the next probe looks at the migrations again."""
    global _migrations_applied
    _migrations_applied = False
