"""API keys: issued once, stored hashed, revocable, rate-limited per minute."""

from __future__ import annotations

import hashlib
import secrets
import time

from django.http import HttpRequest
from django.utils import timezone
from limits import RateLimitItemPerMinute

from townhall.core.ratelimit import RateLimited, rate_limit_hit
from townhall.open311.models import ApiKey
from townhall.open311.render import Open311Error, too_many


def api_key_issue(
    *, name: str, contact: str = "", requests_per_minute: int = 60
) -> tuple[ApiKey, str]:
    """Create a key for a client; return it and the secret, which is shown only now."""
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name,
        contact=contact,
        prefix=secret[:8],
        key_hash=hashlib.sha256(secret.encode()).hexdigest(),
        requests_per_minute=requests_per_minute,
    )
    return key, secret


# Keys are looked up once per process every KEY_CACHE_SECONDS, not on every POST: a key
# revoked in the admin stops working within that time (or at once with a future
# "revoked at" set ahead).
KEY_CACHE_SECONDS = 30.0
_keys: dict[str, tuple[float, ApiKey | None]] = {}


def api_key_cache_clear() -> None:
    """Forget the keys this process has looked up (after a revocation, and between tests)."""
    _keys.clear()


def _key_for(key_hash: str) -> ApiKey | None:
    hit = _keys.get(key_hash)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    key = ApiKey.objects.filter(key_hash=key_hash).first()
    if len(_keys) > 10_000:  # made-up keys must not grow the process without bound
        _keys.clear()
    _keys[key_hash] = (time.monotonic() + KEY_CACHE_SECONDS, key)
    return key


def api_key_check(raw: str, request: HttpRequest | None = None) -> ApiKey:
    """Return the active key for `raw`; raise Open311Error 403 if it is missing, unknown
    or revoked, 429 if the client (limit "open311_write") or the key (its own
    requests_per_minute) is over its rate. Both are counted in one round trip."""
    key = _key_for(hashlib.sha256(raw.encode()).hexdigest()) if raw else None
    if key is not None and key.revoked_at is not None and key.revoked_at <= timezone.now():
        key = None
    per_key = (
        [("open311_key", RateLimitItemPerMinute(key.requests_per_minute), key.key_hash)]
        if key is not None
        else []
    )
    try:
        rate_limit_hit(request, "open311_write", extra=per_key)
    except RateLimited as exc:
        raise too_many(exc) from None
    if not raw:
        raise Open311Error(403, "api_key is required to submit requests.")
    if key is None:
        raise Open311Error(403, "api_key is not valid.")
    return key
