"""Per-case reply addresses: `case+TH-26-004211.<signature>@<domain>`.

Made here for the Reply-To of the e-mail Townhall sends about a case, and read by intake
when the resident answers, so the answer joins the case whatever its subject says. The
signature stops anyone from writing into a case by guessing its address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from email.utils import parseaddr

_WS_RE = re.compile(r"\s")

_REPLY_REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,40}$")
_REPLY_SIGNATURE_CHARS = 10
_REPLY_DOMAIN_TAG = b"townhall reply address v1\x00"


def _reply_signature(reference: str, secret: str) -> str:
    if not secret:
        raise ValueError("reply address secret must not be empty")
    digest = hmac.new(
        secret.encode("utf-8"), _REPLY_DOMAIN_TAG + reference.lower().encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:_REPLY_SIGNATURE_CHARS]


def reply_address_make(
    reference: str, *, domain: str, secret: str, local_prefix: str = "case+"
) -> str:
    """The reply address of a case: ``f"{local_prefix}{reference}.{signature}@{domain}"``.

    The signature is the first 10 characters of base32(HMAC-SHA256(secret, reference)),
    lower-case; references are compared case-insensitively (some mail systems lower-case
    addresses), so anyone guessing an address has to guess 50 bits.
    """
    if not _REPLY_REFERENCE_RE.match(reference):
        raise ValueError(f"not a reference usable in an address: {reference!r}")
    if not domain or "@" in domain or _WS_RE.search(domain):
        raise ValueError(f"not a domain: {domain!r}")
    return f"{local_prefix}{reference}.{_reply_signature(reference, secret)}@{domain}"


def reply_address_parse(
    address: str, *, secret: str, local_prefix: str = "case+", domain: str | None = None
) -> str | None:
    """The case reference of a reply address made by :func:`reply_address_make`, upper-cased,
    when its signature verifies (constant-time compare); else None.

    ``address`` may be bare or ``"Name <address>"``; with ``domain``, an address at another
    domain is refused too. With an empty ``secret`` (not configured) nothing verifies.
    """
    if not secret:
        return None
    _, bare = parseaddr(address)
    bare = (bare or address).strip()
    local, at, address_domain = bare.rpartition("@")
    if not at or not local.lower().startswith(local_prefix.lower()):
        return None
    if domain is not None and address_domain.lower().rstrip(".") != domain.lower().rstrip("."):
        return None
    reference, dot, signature = local[len(local_prefix) :].rpartition(".")
    if not dot or not _REPLY_REFERENCE_RE.match(reference) or not signature.isascii():
        return None
    expected = _reply_signature(reference, secret)
    if not hmac.compare_digest(signature.lower().encode(), expected.encode()):
        return None
    return reference.upper()
