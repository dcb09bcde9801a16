"""API keys: issued once, stored hashed, revocable, rate-limited per minute."""

from __future__ import annotations

import hashlib
import secrets
import time

from django.utils import timezone

from townhall.core.cache import counter_hit
from townhall.open311.models import ApiKey
from townhall.open311.render import Open311Error


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


def api_key_check(raw: str) -> ApiKey:
    """Return the active key for `raw`; raise Open311Error 403 if it is missing, unknown,
    revoked or over its rate for this minute."""
    if not raw:
        raise Open311Error(403, "api_key is required to submit requests.")
    key = _key_for(hashlib.sha256(raw.encode()).hexdigest())
    if key is None or (key.revoked_at is not None and key.revoked_at <= timezone.now()):
        raise Open311Error(403, "api_key is not valid.")
    bucket = f"open311:rate:{key.key_hash[:16]}:{int(time.time() // 60)}"
    if counter_hit(bucket, ttl_seconds=120) > key.requests_per_minute:
        raise Open311Error(
            429, f"Rate limit of {key.requests_per_minute} requests per minute reached."
        )
    return key
