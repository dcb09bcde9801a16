"""The security event log: what council admins read to see who tried what.

Every control that refuses, locks out, throttles or reveals personal data to staff records
one row here through :func:`security_event`. Rows hold no personal data beyond the acting
user and a short, non-identifying ``subject`` (a case reference, a hashed client key, a
citizen id): never a contact, a password, a code or a token.

Recording never raises: a failure to log is logged and the request goes on.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.db import models

log = logging.getLogger("townhall.security")


class SecurityEventKind(models.TextChoices):
    STAFF_SIGN_IN_FAILED = "staff_sign_in_failed", "Staff sign-in failed"
    STAFF_LOCKED_OUT = "staff_locked_out", "Staff locked out"
    SECOND_STEP_FAILED = "second_step_failed", "Second step failed"
    SECOND_STEP_SET_UP = "second_step_set_up", "Second step set up"
    SIGN_IN_LINK_SENT = "sign_in_link_sent", "Sign-in link requested"
    SIGN_IN_LINK_USED = "sign_in_link_used", "Sign-in link used"
    SIGN_IN_LINK_REFUSED = "sign_in_link_refused", "Sign-in link refused"
    CONTACT_VERIFIED = "contact_verified", "Contact verified"
    RATE_LIMITED = "rate_limited", "Rate limit hit"
    RESIDENT_VIEWED = "resident_viewed", "Staff viewed a resident's record"
    RESIDENT_EXPORTED = "resident_exported", "Resident's data exported"
    RESIDENT_ERASED = "resident_erased", "Resident's data erased"
    SIGNATURE_REFUSED = "signature_refused", "Signed request refused"
    PRIVATE_LINK_ROTATED = "private_link_rotated", "Private link rotated"
    OTHER = "other", "Other"


def client_key(request: Any) -> str:
    """A short, non-reversible key for the client's address (never the address itself):
    the address the trusted proxies saw, as the rate limits count it."""
    from townhall.core.ratelimit import client_address  # it records security events

    addr = client_address(request) if request is not None else ""
    digest = hashlib.blake2b(
        addr.encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=8
    ).hexdigest()
    return digest


def security_event(
    kind: str,
    *,
    request: Any = None,
    user: Any = None,
    subject: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Record one security event; never raises."""
    from townhall.core.models import SecurityEvent

    try:
        actor = user
        if actor is None and request is not None:
            candidate = getattr(request, "user", None)
            if candidate is not None and candidate.is_authenticated:
                actor = candidate
        SecurityEvent.objects.create(
            kind=kind,
            user=actor if actor is not None and getattr(actor, "pk", None) else None,
            client=client_key(request) if request is not None else "",
            subject=subject[:200],
            detail=detail or {},
        )
    except Exception:  # the log must never break the request it describes
        log.exception("could not record security event %s", kind)
