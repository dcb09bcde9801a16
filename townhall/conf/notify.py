"""Notification settings: e-mail, SMS and webhook channels, the outbox's retries and pace."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import environ


class NotifySettings(NamedTuple):
    # Base address of the public site, used in links sent to residents. Empty: this
    # machine's port 8000 (`townhall demo` sets it to the address it serves on, `--addr`).
    public_url: str  # TOWNHALL_PUBLIC_URL
    default_from_email: str  # DEFAULT_FROM_EMAIL
    # E-mail: Django's backends; django-anymail's for providers. In development messages
    # are written to files under var/mail instead of being sent.
    email_backend: str  # EMAIL_BACKEND
    email_file_path: Path
    email_host: str
    email_port: int
    email_host_user: str
    email_host_password: str
    email_use_tls: bool
    # Channel adapters by name (notify/channels/registry.py merges these over its
    # defaults). Webhooks are signed with each subscriber's own secret. SMS goes through a
    # gateway in the account-SID/auth-token form; without SMS_ACCOUNT_SID texts go to the
    # worker's console.
    channels: dict[str, dict[str, object]]  # TOWNHALL_CHANNELS
    # django-anymail: provider credentials and the secret its tracking webhooks must carry.
    anymail: dict[str, Any]  # ANYMAIL (ANYMAIL_WEBHOOK_SECRET)
    # No texts between these local times (HH:MM, HH:MM); empty to send at any hour.
    sms_quiet_hours: list[str]  # SMS_QUIET_HOURS
    max_attempts: int  # NOTIFY_MAX_ATTEMPTS
    retry_base_seconds: int  # NOTIFY_RETRY_BASE_SECONDS
    retry_cap_seconds: int  # NOTIFY_RETRY_CAP_SECONDS
    lease_seconds: int  # NOTIFY_LEASE_SECONDS
    # Messages per second each sender process may hand to a channel's provider (0: none).
    channel_rate_limits: dict[str, float]  # SMS_RATE_LIMIT, EMAIL_RATE_LIMIT


def notify_settings(env: environ.Env, *, production: bool, var_dir: Path) -> NotifySettings:
    channels: dict[str, dict[str, object]] = {
        "webhook": {"BACKEND": "townhall.notify.webhooks.SubscriberWebhookChannel"},
    }
    if env.str("SMS_ACCOUNT_SID", default=""):
        channels["sms"] = {
            "BACKEND": "townhall.notify.channels.sms.HttpSmsGateway",
            "OPTIONS": {
                "account_sid": env.str("SMS_ACCOUNT_SID"),
                "auth_token": env.str("SMS_AUTH_TOKEN"),
                "from_number": env.str("SMS_FROM_NUMBER"),
                "base_url": env.str("SMS_BASE_URL", default="https://api.twilio.com/2010-04-01"),
            },
        }
    return NotifySettings(
        public_url=env.str("TOWNHALL_PUBLIC_URL", default="") or "http://127.0.0.1:8000",
        default_from_email=env.str(
            "DEFAULT_FROM_EMAIL", default="Townhall <noreply@townhall.local>"
        ),
        email_backend=env.str(
            "EMAIL_BACKEND",
            default="django.core.mail.backends.smtp.EmailBackend"
            if production
            else "django.core.mail.backends.filebased.EmailBackend",
        ),
        email_file_path=var_dir / "mail",
        email_host=env.str("EMAIL_HOST", default="localhost"),
        email_port=env.int("EMAIL_PORT", default=25),
        email_host_user=env.str("EMAIL_HOST_USER", default=""),
        email_host_password=env.str("EMAIL_HOST_PASSWORD", default=""),
        email_use_tls=env.bool("EMAIL_USE_TLS", default=False),
        channels=channels,
        anymail={"WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="")},
        sms_quiet_hours=env.list("SMS_QUIET_HOURS", default=["21:00", "08:00"]),
        max_attempts=env.int("NOTIFY_MAX_ATTEMPTS", default=8),
        retry_base_seconds=env.int("NOTIFY_RETRY_BASE_SECONDS", default=30),
        retry_cap_seconds=env.int("NOTIFY_RETRY_CAP_SECONDS", default=6 * 3600),
        lease_seconds=env.int("NOTIFY_LEASE_SECONDS", default=300),
        channel_rate_limits={
            "sms": env.float("SMS_RATE_LIMIT", default=0),
            "email": env.float("EMAIL_RATE_LIMIT", default=0),
        },
    )
