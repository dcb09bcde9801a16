"""Replay protection for signed callbacks (docs/security/input.md).

A provider's or partner's signature proves who sent a request, not that it is the first
time we see it. Each callback taken is remembered in the database (shared by every web
process, unlike a per-process cache, and never evicted early) by a digest of its kind and
its signature or delivery id, for the window in which its signature is accepted; a second
request with the same one is a replay and is refused.
"""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta

from django.db import IntegrityError, transaction

from townhall.core import clock
from townhall.hooks.models import CallbackSeen

PURGE_EVERY = 200  # one claim in this many also deletes the expired rows


def callback_claim(kind: str, value: str | bytes, *, window_seconds: int) -> bool:
    """Remember callback `value` of `kind`; False if it was already taken within the window."""
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    digest = hashlib.sha256(kind.encode() + b"\0" + data).hexdigest()
    now = clock.now()
    window = timedelta(seconds=window_seconds)
    if random.randrange(PURGE_EVERY) == 0:
        CallbackSeen.objects.filter(seen_at__lt=now - window).delete()
    try:
        with transaction.atomic():
            CallbackSeen.objects.create(digest=digest, kind=kind[:20], seen_at=now)
    except IntegrityError:
        # Taken before: a replay, unless the row is older than the window (then the
        # signature is no longer accepted anyway, and the row is refreshed).
        updated = CallbackSeen.objects.filter(digest=digest, seen_at__lt=now - window).update(
            seen_at=now
        )
        return updated == 1
    return True


def callback_release(kind: str, value: str | bytes) -> None:
    """Forget a claim whose processing failed, so the provider's retry is taken."""
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    digest = hashlib.sha256(kind.encode() + b"\0" + data).hexdigest()
    CallbackSeen.objects.filter(digest=digest).delete()
