"""API keys: issued once, stored hashed, revocable, rate-limited per minute."""

from __future__ import annotations

import hashlib
import secrets
import time

from django.core.cache import cache
from django.utils import timezone

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


def api_key_check(raw: str) -> ApiKey:
    """Return the active key for `raw`; raise Open311Error 403 if it is missing, unknown,
    revoked or over its rate for this minute."""
    if not raw:
        raise Open311Error(403, "api_key is required to submit requests.")
    key = ApiKey.objects.filter(key_hash=hashlib.sha256(raw.encode()).hexdigest()).first()
    if key is None or (key.revoked_at is not None and key.revoked_at <= timezone.now()):
        raise Open311Error(403, "api_key is not valid.")
    bucket = f"open311:rate:{key.key_hash[:16]}:{int(time.time() // 60)}"
    cache.add(bucket, 0, timeout=120)
    if cache.incr(bucket) > key.requests_per_minute:
        raise Open311Error(
            429, f"Rate limit of {key.requests_per_minute} requests per minute reached."
        )
    return key
