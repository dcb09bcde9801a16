"""Rate limits (issue 15): townhall/core/ratelimit.py, docs/security/ratelimit.md."""

from __future__ import annotations

from typing import NamedTuple

import environ
from django.core.exceptions import ImproperlyConfigured
from limits import parse_many

# Limits in the `limits` notation ("10/minute;100/hour"); NAME counts per client address,
# NAME.target per target (an e-mail address, an API key). "off" turns one off. Override
# some with TOWNHALL_RATE_LIMITS="report=5/minute;20/hour sign_in.target=3/hour".
DEFAULT_RATE_LIMITS = {
    "report": "10/minute;40/hour",  # the portal's report form (POST)
    "report.target": "10/hour",  # ... per e-mail address given on it
    "sign_in": "10/minute;30/hour",  # sign-in link requests
    "sign_in.target": "5/hour",  # ... per e-mail address asked for
    "follow": "20/minute;100/hour",  # follow and "me too"
    "follow.target": "10/hour",  # ... per e-mail address given
    "rules": "60/minute;600/hour",  # /check/ and /permits/
    "notice_check": "20/minute;200/hour",  # a recall's batch-code check (POST)
    "open311_read": "300/minute",  # Open311 GET
    "open311_write": "60/minute",  # Open311 POST (each API key also has its own rate)
    "hooks": "1200/minute",  # inbound hooks: SMS, e-mail, partner webhooks
    "phone_code": "5/hour;10/day",  # texting a code to prove a phone number
    "phone_code.target": "3/hour;5/day",  # ... per number
    "export": "10/hour",  # a signed-in resident's "download your data"
    "export.target": "5/hour",  # ... per resident
    "staff_sign_in": "20/minute;100/hour",  # staff sign-in posts (axes locks per account too)
    "resident_case": "10/minute;30/hour",  # a resident's update or withdrawal of their report
    "resident_case.target": "20/hour",  # ... per signed-in account
    "appointment": "10/minute;30/hour",  # booking, moving, cancelling appointments (POST)
    "appointment.target": "20/hour",  # ... per signed-in account
    "subscribe": "10/minute;30/hour",  # bin reminder and alert sign-ups
    "subscribe.target": "5/hour",  # ... per e-mail address given
    "assistant": "30/minute;600/hour",  # messages to the assistant (HTTP API)
    "assistant.target": "20/minute;300/hour",  # ... per conversation
    "assistant_rating": "60/minute",  # thumbs up/down on its answers
    "assistant_sms.target": "10/minute;60/hour",  # texts the assistant answers, per number
    "voice.target": "30/minute;200/hour",  # phone-assistant turns, per caller number
    "assistant_photo": "10/minute;60/hour",  # the chat widget's photo uploads
    "assistant_code_check.target": "10/minute;60/hour",  # batch codes checked in the chat
    "assistant_events": "120/minute",  # the chat widget polling when WebSockets are blocked
    "assistant_connect": "60/minute;600/hour",  # chat WebSockets opened (each has its own rate)
    "payment": "30/minute;200/hour",  # payment pages and checkouts (portal /pay/)
    "apply": "10/minute;30/hour",  # starting and sending applications after a check (POST)
    "apply.target": "20/hour",  # ... per signed-in account
}


class RateLimitSettings(NamedTuple):
    enabled: bool  # TOWNHALL_RATE_LIMITS_ENABLED
    limits: dict[str, str]  # TOWNHALL_RATE_LIMITS
    # Counted in Redis (shared by every process) when REDIS_URL is set; in process memory
    # otherwise, which production refuses: each process would count on its own.
    storage: str  # TOWNHALL_RATE_LIMIT_STORAGE
    prefix: str  # TOWNHALL_RATE_LIMIT_PREFIX
    # Seconds to wait for Redis before letting the request through (the limiter fails open).
    timeout: float  # TOWNHALL_RATE_LIMIT_TIMEOUT
    # Proxies in front of Townhall that append to X-Forwarded-For (0: use the peer address).
    trusted_proxies: int  # TOWNHALL_TRUSTED_PROXIES


def rate_limit_settings(env: environ.Env, *, production: bool, redis_url: str) -> RateLimitSettings:
    """The rate-limit settings from the environment; ImproperlyConfigured for a limit that
    does not parse, or production without Redis."""
    overrides = env.str("TOWNHALL_RATE_LIMITS", default="").split()
    limits = DEFAULT_RATE_LIMITS | dict(entry.partition("=")[::2] for entry in overrides)
    for name, spec in limits.items():
        try:
            if spec.strip().lower() not in {"", "off", "none"}:
                parse_many(spec)
        except ValueError:
            raise ImproperlyConfigured(
                f"TOWNHALL_RATE_LIMITS: {name}={spec!r} is not a limit like 10/minute;100/hour"
            ) from None
    if production and not redis_url:
        raise ImproperlyConfigured(
            "TOWNHALL_ENV=production needs REDIS_URL: rate limits must be shared by every "
            "process (and counted in one place)."
        )
    return RateLimitSettings(
        enabled=env.bool("TOWNHALL_RATE_LIMITS_ENABLED", default=True),
        limits=limits,
        storage=redis_url or "memory://",
        prefix=env.str("CACHE_KEY_PREFIX", default="townhall") + ":limits",
        timeout=env.float("TOWNHALL_RATE_LIMIT_TIMEOUT", default=0.25),
        trusted_proxies=env.int("TOWNHALL_TRUSTED_PROXIES", default=0),
    )
