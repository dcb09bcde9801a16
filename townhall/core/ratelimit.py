"""Rate limits per client and per target, shared by every process.

Built on the `limits` library: limits are written as ``"10/minute;100/hour"``, named in
``settings.TOWNHALL_RATE_LIMITS`` and kept in Redis (``REDIS_URL``) or, without Redis
(demo, development, tests on SQLite), in this process's memory.

A named limit ``name`` counts per client (the client's address, IPv6 by /64); a limit
``name.target`` counts per target (an e-mail address, a case, an API key). Keys are keyed
hashes: Redis never holds an address. Every limit a request touches is counted in one
Redis round trip: fixed windows in `limits`' own key layout, one through `limits`' own
INCR-and-EXPIRE script, several in one MULTI/EXEC pipeline (bench/ratelimit.py).

A limiter failure (Redis down or slow) never locks anyone out: the request goes on, the
outage is logged once, and the limiter is tried again after a few seconds.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage, Storage

from townhall.core.security import SecurityEventKind, security_event

log = logging.getLogger("townhall.ratelimit")

# After a failure the limiter is skipped (requests allowed) for this many seconds.
OUTAGE_RETRY_SECONDS = 5.0


class RateLimited(Exception):
    """A request over a limit; faces answer 429 with ``Retry-After: retry_after``."""

    def __init__(self, name: str, retry_after: int) -> None:
        super().__init__(f"rate limit {name!r} reached; retry after {retry_after} s")
        self.name = name
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Check:
    name: str  # the limit's name, e.g. "sign_in.target"
    item: RateLimitItem
    key: str  # hashed client or target


_storage: Storage | None = None
_storage_lock = threading.Lock()
_items: dict[str, list[RateLimitItem]] = {}
_down_until = 0.0
_outage_logged = False


def _storage_get() -> Storage:
    global _storage
    if _storage is None:
        with _storage_lock:
            if _storage is None:
                _storage = _storage_new()
    return _storage


def _storage_new() -> Storage:
    uri: str = settings.TOWNHALL_RATE_LIMIT_STORAGE or "memory://"
    if uri.startswith(("redis://", "rediss://", "redis+unix://")):
        timeout = settings.TOWNHALL_RATE_LIMIT_TIMEOUT
        return RedisStorage(
            uri,
            key_prefix=settings.TOWNHALL_RATE_LIMIT_PREFIX,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
    return MemoryStorage()


def rate_limits_reset() -> None:
    """Forget every count and the storage (tests; after changing the settings)."""
    global _storage, _down_until, _outage_logged
    storage, _storage = _storage, None
    _items.clear()
    _down_until, _outage_logged = 0.0, False
    if storage is not None:
        try:
            storage.reset()
        except Exception:  # a Redis that is down has nothing to forget
            log.debug("rate limit storage reset failed", exc_info=True)


def limit_items(name: str) -> list[RateLimitItem]:
    """The parsed limits named `name` in settings (empty: not limited)."""
    spec = settings.TOWNHALL_RATE_LIMITS.get(name) or ""
    items = _items.get(spec)
    if items is None:
        items = [] if spec.strip().lower() in {"", "off", "none"} else parse_many(spec)
        _items[spec] = items
    return items


def _hashed(value: str) -> str:
    return hashlib.blake2b(
        value.encode("utf-8", "replace"), key=settings.SECRET_KEY.encode()[:64], digest_size=12
    ).hexdigest()


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the address the trusted proxies saw
    (``TOWNHALL_TRUSTED_PROXIES`` hops from the right of X-Forwarded-For). IPv6
    addresses count by /64, the block one subscriber usually gets."""
    addr = str(request.META.get("REMOTE_ADDR", ""))
    hops: int = settings.TOWNHALL_TRUSTED_PROXIES
    if hops > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if forwarded:
            addr = forwarded[-min(hops, len(forwarded))]
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return addr[:64]
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)


def target_key(value: str) -> str:
    """A target's key: the hash of its trimmed, lower-cased text."""
    return _hashed("t:" + value.strip().lower())


def _checks(request: HttpRequest | None, name: str, targets: Iterable[str]) -> list[_Check]:
    checks: list[_Check] = []
    if request is not None:
        client = _hashed("c:" + client_address(request))
        checks += [_Check(name, item, client) for item in limit_items(name)]
    target_items = limit_items(name + ".target")
    for target in targets:
        if target and target.strip():
            key = target_key(target)
            checks += [_Check(name + ".target", item, key) for item in target_items]
    return checks


def _count(storage: Storage, checks: Sequence[_Check]) -> list[int]:
    """Add one to every check's window and return the counts, in one round trip: one
    window through `limits`' own INCR-and-EXPIRE script, several in one MULTI/EXEC."""
    if isinstance(storage, RedisStorage) and len(checks) > 1:
        pipe = storage.storage.pipeline(transaction=True)
        for check in checks:
            key = storage.prefixed_key(check.item.key_for(check.name, check.key))
            pipe.set(key, 0, ex=check.item.get_expiry(), nx=True)
            pipe.incrby(key, 1)
        replies = pipe.execute()
        return [int(n) for n in replies[1::2]]
    return [
        storage.incr(c.item.key_for(c.name, c.key), c.item.get_expiry(), amount=1) for c in checks
    ]


def _retry_after(storage: Storage, check: _Check) -> int:
    try:
        reset = storage.get_expiry(check.item.key_for(check.name, check.key))
        return max(1, math.ceil(reset - time.time()))
    except Exception:
        return int(check.item.get_expiry())


def rate_limit_hit(
    request: HttpRequest | None,
    name: str,
    *,
    targets: Iterable[str] = (),
    extra: Iterable[tuple[str, RateLimitItem, str]] = (),
) -> None:
    """Count one request against the limit `name` for the client of `request`, and
    against ``name.target`` for each of `targets`; `extra` adds (name, limit, raw key)
    checks whose amounts are data (e.g. an API key's own rate). Raise RateLimited with
    the longest wait when any is over; a limiter failure lets the request through."""
    global _down_until, _outage_logged
    if not settings.TOWNHALL_RATE_LIMITS_ENABLED:
        return
    checks = _checks(request, name, targets)
    checks += [_Check(n, item, _hashed("x:" + raw)) for n, item, raw in extra]
    if not checks or time.monotonic() < _down_until:
        return
    try:
        storage = _storage_get()
        counts = _count(storage, checks)
    except Exception:
        _down_until = time.monotonic() + OUTAGE_RETRY_SECONDS
        if not _outage_logged:
            _outage_logged = True
            log.exception("rate limiter unavailable: requests are let through until it is back")
        return
    if _outage_logged:
        _outage_logged = False
        log.warning("rate limiter is back")
    over = [(c, n) for c, n in zip(checks, counts, strict=True) if n > c.item.amount]
    if not over:
        return
    wait = max(_retry_after(storage, c) for c, _ in over)
    for check, count in over:
        if count == check.item.amount + 1:  # once per window and key, not per refusal
            security_event(
                SecurityEventKind.RATE_LIMITED,
                request=request,
                subject=check.key,
                detail={"limit": check.name, "rate": str(check.item)},
            )
    raise RateLimited(over[0][0].name, wait)


Responder = Callable[[HttpRequest, RateLimited], HttpResponse]
View = Callable[..., HttpResponse]


def rate_limited(
    name: str,
    *,
    respond: Responder,
    methods: Sequence[str] | None = ("POST",),
    targets: Callable[[HttpRequest], Iterable[str]] | None = None,
) -> Callable[[View], View]:
    """Decorate a view: count its requests (only `methods`; None for all) against the
    limit `name` per client and, when `targets` gives any, ``name.target`` per target;
    over a limit, answer ``respond(request, exc)`` with a Retry-After header."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if methods is None or request.method in methods:
                try:
                    rate_limit_hit(
                        request, name, targets=targets(request) if targets is not None else ()
                    )
                except RateLimited as exc:
                    return too_many(respond(request, exc), exc)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def too_many(response: HttpResponse, exc: RateLimited) -> HttpResponse:
    """Make `response` a 429 with its Retry-After header."""
    response.status_code = 429
    response["Retry-After"] = str(exc.retry_after)
    return response


def posted_email(request: HttpRequest) -> list[str]:
    """The e-mail address a form posted (a target for per-address limits)."""
    return [str(request.POST.get("email", ""))[:320]]
