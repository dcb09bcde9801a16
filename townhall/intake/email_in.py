"""Inbound e-mail: raw MIME in, a clean and classified :class:`ParsedEmail` out.

Pure Python, no database: the webhook and the IMAP poller hand the raw bytes to
:func:`email_parse`; what to do with the result (thread it onto a case, open one, drop it)
is the caller's business.

* The body: the text/plain part when there is one, else the HTML converted to readable text
  (BeautifulSoup with the stdlib ``html.parser``). ``new_text`` is that text without the
  quoted history and the signature, so a reply adds only what is new.
* Attachments and inline images are kept; the body parts themselves are not attachments.
* :func:`email_automatic_reason` says why a message was sent by a machine (RFC 3834
  auto-replies, bounces, read receipts, list mail, no-reply senders, our own mail coming
  back), or ``""`` for a person's mail. Such mail must never open a case.
* Case references (``TH-26-004211``) are found with :func:`reference_find`; per-case reply
  addresses (``case+TH-26-004211.k3j9x2abcd@reply.example.gov``) are signed with an HMAC by
  :func:`reply_address_make` and checked by :func:`reply_address_parse`.

:func:`email_parse` never raises on malformed input (only :class:`EmailTooLarge` above the
size limit): every header and part is read defensively, and a last-resort fallback returns
what can be salvaged, with an ``X-Townhall-Parse-Error`` entry in ``headers``.

This module is the entry point and keeps every public name; the work is done by
``email_decode`` (strings and headers), ``email_mime`` (the MIME walk), ``email_html``
(HTML to text), ``email_reply`` (new text of a reply) and ``email_automatic`` (machine
mail). bench/inbound_mail.py measures the last two against maintained libraries
(docs/benchmarks.md).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import MappingProxyType

from townhall.intake.email_automatic import email_automatic_reason
from townhall.intake.email_decode import (
    _addresses,
    _audit_headers,
    _date,
    _decode_bytes,
    _header_text,
    _header_texts,
    _language,
    _message_ids,
    _tidy,
)
from townhall.intake.email_html import html_to_text
from townhall.intake.email_mime import EmailAttachment, _segments_text, _Walk, _walk
from townhall.intake.email_reply import _FORWARD_SUBJECT_RE, email_new_text

# Reply addresses are made by notify (on the mail it sends) and read here.
from townhall.notify.reply_address import reply_address_make, reply_address_parse

__all__ = [
    "DEFAULT_MAX_BYTES",
    "EmailAttachment",
    "EmailTooLarge",
    "ParsedEmail",
    "email_automatic_reason",
    "email_new_text",
    "email_parse",
    "html_to_text",
    "reference_find",
    "reply_address_make",
    "reply_address_parse",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 25 * 1024 * 1024


class EmailTooLarge(ValueError):
    """The raw message is larger than the limit given to :func:`email_parse`."""


@dataclass(frozen=True)
class ParsedEmail:
    from_address: str  # bare address as given ("" if none/unparseable)
    from_name: str
    to: tuple[str, ...]  # To + Cc + Delivered-To/X-Original-To addresses, lower-cased
    subject: str  # decoded (RFC 2047), whitespace collapsed
    message_id: str  # without <>
    in_reply_to: str
    references: tuple[str, ...]
    date: datetime | None  # aware
    text: str  # best plain-text body
    new_text: str  # `text` without quoted reply history and signature
    attachments: tuple[EmailAttachment, ...]
    automatic: str  # "" for a person's mail, otherwise a short machine reason
    language_hint: str  # Content-Language (first tag) if any, else ""
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


# --------------------------------------------------------------------------------------
# Parse


def email_parse(
    raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, own_domains: Sequence[str] = ()
) -> ParsedEmail:
    """Parse one raw RFC 5322 message (as received, any line endings).

    Never raises on malformed input; raises :class:`EmailTooLarge` when ``raw`` is longer than
    ``max_bytes``. ``own_domains`` are the domains we send from (see
    :func:`email_automatic_reason`).
    """
    if len(raw) > max_bytes:
        raise EmailTooLarge(f"message of {len(raw)} bytes is over the {max_bytes}-byte limit")
    try:
        return _parse(raw, own_domains)
    except Exception as exc:  # the safety net: every step above is meant not to get here
        logger.warning("e-mail parse fell back to raw text", exc_info=True)
        return _fallback(raw, exc)


def _parse(raw: bytes, own_domains: Sequence[str]) -> ParsedEmail:
    try:
        msg: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
    except RecursionError:  # absurdly deep MIME nesting
        msg = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)

    senders = _addresses(msg, "From")
    from_name, from_address = senders[0] if senders else ("", "")
    recipients: list[str] = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        for _, address in _addresses(msg, name):
            lowered = address.lower()
            if lowered not in recipients:
                recipients.append(lowered)
    subject = _header_text(msg, "Subject")
    message_ids = _message_ids(msg, "Message-ID")
    in_reply_to = _message_ids(msg, "In-Reply-To")

    acc = _Walk()
    segments = _walk(msg, 0, acc)
    text = _tidy(_segments_text(segments))
    language = _language(_header_texts(msg, "Content-Language")) or _language(acc.languages)

    return ParsedEmail(
        from_address=from_address,
        from_name=from_name,
        to=tuple(recipients),
        subject=subject,
        message_id=message_ids[0] if message_ids else "",
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=tuple(_message_ids(msg, "References")),
        date=_date(msg),
        text=text,
        new_text=email_new_text(text, forwarded=bool(_FORWARD_SUBJECT_RE.match(subject))),
        attachments=tuple(acc.attachments),
        automatic=email_automatic_reason(msg, own_domains=own_domains),
        language_hint=language,
        headers=MappingProxyType(_audit_headers(msg)),
    )


def _fallback(raw: bytes, exc: Exception) -> ParsedEmail:
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    text = _tidy(_decode_bytes(body or head, None))
    return ParsedEmail(
        from_address="",
        from_name="",
        to=(),
        subject="",
        message_id="",
        in_reply_to="",
        references=(),
        date=None,
        text=text,
        new_text=text,
        attachments=(),
        automatic="",
        language_hint="",
        headers=MappingProxyType({"X-Townhall-Parse-Error": type(exc).__name__}),
    )


# --------------------------------------------------------------------------------------
# Case references and reply addresses


@functools.lru_cache(maxsize=16)
def _reference_re(prefix: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?<![A-Za-z0-9]){re.escape(prefix)}[- ]([0-9]{{2}})[- ]([0-9]{{6,}})(?![A-Za-z0-9])",
        re.IGNORECASE,
    )


def reference_find(text: str, *, prefix: str) -> str | None:
    """The first case reference in ``text`` (a subject or a body), normalised to
    ``f"{prefix}-{yy}-{digits}"``, or None.

    A reference is ``prefix``, a dash or a space, 2 digits, a dash or a space, 6 or more
    digits (ASCII), not glued to other letters or digits; any case. So ``TH-26-004211``,
    ``[TH-26-004211]``, ``th-26-004211`` and ``TH 26 004211`` are found; ``XTH-26-004211``
    and ``TH-26-0042`` are not.
    """
    if not prefix:
        raise ValueError("reference prefix must not be empty")
    match = _reference_re(prefix).search(text)
    if match is None:
        return None
    return f"{prefix}-{match.group(1)}-{match.group(2)}"
