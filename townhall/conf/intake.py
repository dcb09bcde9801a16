"""Intake settings: every channel into one pipeline (docs/operations.md, "Intake")."""

from __future__ import annotations

from typing import Any, NamedTuple

import environ


class IntakeSettings(NamedTuple):
    # Triage routes a message by itself when the classifier is at least this sure;
    # otherwise the case waits in the triage queue with the top three suggestions.
    triage_threshold: float  # TOWNHALL_TRIAGE_THRESHOLD
    # Service for messages the classifier cannot place at all (no model yet); empty: the
    # first active service by name, flagged for triage.
    fallback_service: str  # TOWNHALL_INTAKE_FALLBACK_SERVICE
    # Messages one sender may send in an hour on e-mail, SMS or a webhook before the rest
    # are kept but ignored (mail loops, floods).
    rate_limit_per_hour: int  # TOWNHALL_INTAKE_RATE_LIMIT_PER_HOUR
    # A text within this many minutes of the sender's last one continues the same case.
    sms_thread_minutes: int  # TOWNHALL_SMS_THREAD_MINUTES
    # Duplicate score (0-1, from distance and wording): at or above AUTO a message joins
    # the open case as a follower; at or above SUGGEST staff see the pair on the new case.
    duplicate_auto_score: float  # TOWNHALL_DUPLICATE_AUTO_SCORE
    duplicate_suggest_score: float  # TOWNHALL_DUPLICATE_SUGGEST_SCORE
    # Inbound e-mail: the raw-MIME webhook's shared secret, the domain of per-case reply
    # addresses (case+TH-26-000123.sig@DOMAIN), the secret that signs them (default: the
    # SECRET_KEY) and the largest message taken.
    inbound_email_secret: str  # TOWNHALL_INBOUND_EMAIL_SECRET
    inbound_email_domain: str  # TOWNHALL_INBOUND_EMAIL_DOMAIN
    reply_address_secret: str  # TOWNHALL_REPLY_ADDRESS_SECRET
    inbound_email_max_bytes: int  # TOWNHALL_INBOUND_EMAIL_MAX_BYTES
    # The IMAP poller (`townhall intake imap`), for councils without an inbound webhook.
    imap: dict[str, Any]  # IMAP_HOST, IMAP_PORT, IMAP_USER, IMAP_PASSWORD, IMAP_FOLDER, IMAP_SSL


def intake_settings(env: environ.Env, *, secret_key: str) -> IntakeSettings:
    return IntakeSettings(
        triage_threshold=env.float("TOWNHALL_TRIAGE_THRESHOLD", default=0.6),
        fallback_service=env.str("TOWNHALL_INTAKE_FALLBACK_SERVICE", default="general_enquiry"),
        rate_limit_per_hour=env.int("TOWNHALL_INTAKE_RATE_LIMIT_PER_HOUR", default=20),
        sms_thread_minutes=env.int("TOWNHALL_SMS_THREAD_MINUTES", default=60),
        duplicate_auto_score=env.float("TOWNHALL_DUPLICATE_AUTO_SCORE", default=0.75),
        duplicate_suggest_score=env.float("TOWNHALL_DUPLICATE_SUGGEST_SCORE", default=0.35),
        inbound_email_secret=env.str("TOWNHALL_INBOUND_EMAIL_SECRET", default=""),
        inbound_email_domain=env.str("TOWNHALL_INBOUND_EMAIL_DOMAIN", default=""),
        reply_address_secret=env.str("TOWNHALL_REPLY_ADDRESS_SECRET", default="") or secret_key,
        inbound_email_max_bytes=env.int("TOWNHALL_INBOUND_EMAIL_MAX_BYTES", default=25_000_000),
        imap={
            "host": env.str("IMAP_HOST", default=""),
            "port": env.int("IMAP_PORT", default=993),
            "user": env.str("IMAP_USER", default=""),
            "password": env.str("IMAP_PASSWORD", default=""),
            "folder": env.str("IMAP_FOLDER", default="INBOX"),
            "ssl": env.bool("IMAP_SSL", default=True),
        },
    )
