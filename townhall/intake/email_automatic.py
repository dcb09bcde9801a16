"""Inbound e-mail: mail sent by a machine (auto-replies, bounces, receipts, lists, no-reply
senders, our own mail coming back), which must never open a case."""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.message import Message

from townhall.intake.email_decode import (
    LOOP_HEADER,
    _addresses,
    _content_type,
    _has_header,
    _header_text,
    _param,
    _raw_headers,
)

# --------------------------------------------------------------------------------------
# Machine mail


_NO_REPLY_LOCALS = frozenset(
    {
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "do_not_reply",
        "dontreply",
    }
)
_DAEMON_LOCALS = frozenset({"mailer-daemon", "postmaster"})
_PRECEDENCE_AUTOMATIC = frozenset({"bulk", "junk", "list", "auto_reply"})
_SUPPRESS_TOKENS = frozenset({"oof", "all", "autoreply"})
_AUTOMATIC_SUBJECT_RE = re.compile(
    r"^\s*(?:"
    r"automatic reply|auto(?:matic)?[- ]?(?:reply|response)|autoreply|out of (?:the )?office"
    r"|undeliverable|undelivered mail|undelivered|delivery status notification"
    r"|delivery (?:has )?failed|mail delivery (?:failed|failure|system)|returned mail"
    r"|failure notice|respuesta autom[aá]tica|fuera de la oficina|r[ée]ponse automatique"
    r"|absence du bureau|automatische antwort|abwesenheitsnotiz|resposta autom[aá]tica"
    r"|risposta automatica|automatisch antwoord"
    r")\b",
    re.IGNORECASE,
)
_DAEMON_NAME_RE = re.compile(
    r"\b(?:mail delivery (?:subsystem|system)|mail administrator|postmaster)\b", re.IGNORECASE
)


def _local_part(address: str) -> str:
    return address.rpartition("@")[0].lower() if "@" in address else address.lower()


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower().rstrip(".") if "@" in address else ""


def _first_token(value: str) -> str:
    """``"auto-replied"`` of ``"Auto-Replied; owner=x (comment)"``."""
    return re.split(r"[;(\s]", value.strip(), maxsplit=1)[0].lower()[:40]


def email_automatic_reason(msg: Message, *, own_domains: Sequence[str] = ()) -> str:
    """Why ``msg`` was sent by a machine, or ``""`` when it looks like a person's mail.

    Checked in this order (the first that applies is the reason): our own loop header
    (``X-Townhall-Loop``) or a From address in ``own_domains`` (exact domain, any case);
    ``multipart/report`` (bounces, read receipts); ``X-Failed-Recipients``;
    ``Auto-Submitted`` other than ``no`` (RFC 3834); ``X-Autoreply`` / ``X-Autorespond``;
    ``X-Auto-Response-Suppress`` naming OOF, All or AutoReply; ``List-Id`` /
    ``List-Unsubscribe``; ``Precedence: bulk|junk|list|auto_reply``; a MAILER-DAEMON /
    postmaster or no-reply sender; ``Return-Path: <>``. An auto-reply-like subject ("Automatic
    reply:", "Out of Office", "Undeliverable:", "Respuesta automática:", ...) only counts with
    another weak signal: another ``X-Auto-Response-Suppress`` value, an
    ``X-MS-Exchange-Inbox-Rules-Loop`` header, or a "Mail Delivery System"-like sender name.
    """
    own = {d.strip().lstrip("@").lower().rstrip(".") for d in own_domains if d.strip()}
    senders = _addresses(msg, "From")
    from_name, from_address = senders[0] if senders else ("", "")

    if _has_header(msg, LOOP_HEADER):
        return "loop: our own mail"
    if from_address and _domain(from_address) in own:
        return "loop: sent from our own domain"

    content_type = _content_type(msg)
    if content_type == "multipart/report":
        report_type = _param(msg, "report-type").lower()
        if report_type == "delivery-status":
            return "bounce: delivery-status report"
        if report_type == "disposition-notification":
            return "receipt: disposition-notification report"
        return f"report: {report_type[:40] or 'unknown'}"
    if _has_header(msg, "X-Failed-Recipients"):
        return "bounce: x-failed-recipients"

    auto_submitted = _first_token(_header_text(msg, "Auto-Submitted"))
    if auto_submitted and auto_submitted != "no":
        return f"auto-submitted: {auto_submitted}"
    if _has_header(msg, "X-Autoreply"):
        return "x-autoreply header"
    if _has_header(msg, "X-Autorespond"):
        return "x-autorespond header"
    suppress = _header_text(msg, "X-Auto-Response-Suppress")
    tokens = {t.strip().lower() for t in re.split(r"[,;\s]+", suppress) if t.strip()}
    if tokens & _SUPPRESS_TOKENS:
        return "x-auto-response-suppress: " + ", ".join(sorted(tokens & _SUPPRESS_TOKENS))

    if _has_header(msg, "List-Id") or _has_header(msg, "List-Unsubscribe"):
        return "list mail"
    precedence = _first_token(_header_text(msg, "Precedence"))
    if precedence in _PRECEDENCE_AUTOMATIC:
        return f"precedence: {precedence}"

    sender_locals = {_local_part(address) for _, address in senders + _addresses(msg, "Sender")}
    if sender_locals & _DAEMON_LOCALS:
        return "mailer-daemon sender"
    if sender_locals & _NO_REPLY_LOCALS:
        return "no-reply sender"
    return_paths = _raw_headers(msg, "Return-Path")
    if return_paths and all(re.fullmatch(r"<\s*>", p.strip()) for p in return_paths):
        return "null return-path"

    if _AUTOMATIC_SUBJECT_RE.match(_header_text(msg, "Subject")):
        if tokens:
            return "auto-reply subject + x-auto-response-suppress"
        if _has_header(msg, "X-MS-Exchange-Inbox-Rules-Loop"):
            return "auto-reply subject + exchange inbox rule"
        if _DAEMON_NAME_RE.search(from_name):
            return "auto-reply subject + mail-system sender"
    return ""
