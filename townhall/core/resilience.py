"""Staying up when a dependency is not (docs/operations.md, "What happens when").

* The database down or restarting: every request that needs it answers 503 with a
  Retry-After header (JSON on the APIs, a short page otherwise) instead of a 500. Nothing
  is half-written: each write is one transaction, which PostgreSQL rolls back when the
  connection breaks. Django closes the broken connection when the request ends, and the
  next request opens a new one (CONN_HEALTH_CHECKS).
* Redis down: the cache (`ResilientRedisCache`) answers as a cache that holds nothing
  (a miss, a write that did not stick) and logs the outage once; rate limits let requests
  through (core/ratelimit.py); the live chat's pushes are dropped (the widget polls).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template.loader import render_to_string

log = logging.getLogger("townhall.resilience")

# Seconds a client is asked to wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 5
# Paths answered in JSON (machines read them) rather than with a page.
API_PREFIXES = ("/open311/", "/api/", "/hooks/", "/open-data/")
DATABASE_ERRORS = (OperationalError, InterfaceError)
_MARK = "_townhall_database_unavailable"


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """The 503 for a request the database could not serve."""
    response: HttpResponse
    if request.path.startswith(API_PREFIXES):
        response = JsonResponse(
            {"error": "service_unavailable", "detail": "Try again in a few seconds."},
            status=503,
        )
    else:
        # Rendered without the request: no context processor may query the database.
        response = HttpResponse(render_to_string("core/unavailable.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Answer 503 (not 500) when the database cannot be reached, wherever the error was
    raised: in a view (process_exception) or in an inner middleware, e.g. the session
    saved on the way out (marked by `_mark_database_error`, replaced here)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _MARK, False):
            return database_unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        log.warning("database unavailable: answered 503 (%s)", type(exception).__name__)
        return database_unavailable_response(request)


@receiver(got_request_exception, dispatch_uid="townhall.resilience.database_error")
def _mark_database_error(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Mark a request whose uncaught exception is a database outage (sent by Django while
    the exception is handled, before its 500 response is made)."""
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, DATABASE_ERRORS):
        setattr(request, _MARK, True)


# --- the cache ---------------------------------------------------------------------------

# After a Redis failure the cache is skipped (a miss, a no-op) for this many seconds.
CACHE_OUTAGE_RETRY_SECONDS = 5.0


class ResilientRedisCache(RedisCache):
    """Django's Redis cache that degrades to a cache holding nothing when Redis fails.

    A failed call answers as a miss (get: the default; add/set: not stored; incr: the error
    Django gives for a missing key), logs the outage once, and Redis is not asked again for
    CACHE_OUTAGE_RETRY_SECONDS, so requests do not each wait for a timeout; the first call
    that works again logs the recovery.
    """

    _lock = threading.Lock()
    _down_until = 0.0
    _outage_logged = False

    def _call(self, method: str, fallback: Any, *args: Any) -> Any:
        cls = type(self)
        if time.monotonic() < cls._down_until:
            return fallback
        try:
            result = getattr(RedisCache, method)(self, *args)
        except Exception as exc:
            if not (_is_redis_error(exc) or isinstance(exc, OSError)):
                raise  # e.g. incr of a missing key: the caller's business
            with cls._lock:
                cls._down_until = time.monotonic() + CACHE_OUTAGE_RETRY_SECONDS
                if not cls._outage_logged:
                    cls._outage_logged = True
                    log.warning("cache unavailable (%s): serving without it", type(exc).__name__)
            return fallback
        if cls._outage_logged:
            with cls._lock:
                if cls._outage_logged:
                    cls._outage_logged = False
                    log.warning("cache is back")
        return result

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return bool(self._call("add", False, key, value, timeout, version))

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._call("get", default, key, default, version)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._call("set", None, key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return bool(self._call("touch", False, key, timeout, version))

    def delete(self, key: Any, version: int | None = None) -> bool:
        return bool(self._call("delete", False, key, version))

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return dict(self._call("get_many", {}, list(keys), version))

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return bool(self._call("has_key", False, key, version))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        missing = object()
        result = self._call("incr", missing, key, delta, version)
        if result is missing:
            raise ValueError(f"Key '{key}' not found (the cache is unavailable)")
        return int(result)

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        return list(self._call("set_many", list(data), data, timeout, version))

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self._call("delete_many", None, list(keys), version)

    def clear(self) -> None:
        self._call("clear", None)


def _is_redis_error(exc: BaseException) -> bool:
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is a dependency wherever this is used
        return False
    return isinstance(exc, RedisError)


def cache_outage_reset() -> None:
    """Forget a remembered outage (tests)."""
    ResilientRedisCache._down_until = 0.0
    ResilientRedisCache._outage_logged = False
