"""The resident's link to a payment: an HMAC of its reference under the site's secret, so it
can be shown again (on the request's private page, in e-mails) yet cannot be guessed from
the reference or a case number. Only its SHA-256 is stored (Payment.token_hash)."""

from __future__ import annotations

import hashlib

from django.utils.crypto import salted_hmac


def payment_token(reference: str) -> str:
    return salted_hmac("townhall.payments.link", reference, algorithm="sha256").hexdigest()[:40]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def payment_path(reference: str) -> str:
    return f"/pay/{payment_token(reference)}/"
