"""Health, metrics and error reporting settings (docs/operations.md, "Health, metrics, logs
and errors").

`observability_settings` reads the readiness and /metrics settings; `sentry_setup` starts
error reporting to Sentry when SENTRY_DSN is set, and does nothing otherwise. Events are
scrubbed before they leave: no request body, cookies, query string or headers that carry
credentials, no local variables of the frames, and any e-mail address or phone number left
in a message is replaced.
"""

from __future__ import annotations

import re
from importlib import metadata
from typing import Any

import environ

# What may pass for an e-mail address or a phone number in free text (messages, breadcrumbs).
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_RE = re.compile(r"\+?\d[\d ().-]{6,}\d")
FILTERED = "[Filtered]"
# Request headers kept on an event; every other one is dropped.
SAFE_HEADERS = {"accept", "accept-language", "content-type", "content-length", "user-agent"}


def observability_settings(env: environ.Env) -> tuple[str, int]:
    """(TOWNHALL_METRICS_TOKEN, TOWNHALL_READY_MAX_TASK_AGE) from the environment."""
    return (
        env.str("TOWNHALL_METRICS_TOKEN", default=""),
        env.int("TOWNHALL_READY_MAX_TASK_AGE", default=300),
    )


def scrub_text(text: str) -> str:
    """`text` with e-mail addresses and phone numbers replaced."""
    return PHONE_RE.sub(FILTERED, EMAIL_RE.sub(FILTERED, text))


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Strip what a resident typed or carries from an event before it is sent."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value for name, value in headers.items() if name.lower() in SAFE_HEADERS
            }
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    event.pop("user", None)
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict) and isinstance(breadcrumbs.get("values"), list):
        # SQL breadcrumbs hold the statements' parameters: names, addresses, messages.
        breadcrumbs["values"] = [
            crumb for crumb in breadcrumbs["values"] if crumb.get("category") != "query"
        ]
        for crumb in breadcrumbs["values"]:
            for key in ("message", "data"):
                if key in crumb:
                    crumb[key] = _scrub(crumb[key])
    # Free text that may quote what a resident typed: exception messages, log messages.
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception, dict) and "value" in exception:
            exception["value"] = _scrub(exception["value"])
    for key in ("message", "logentry", "extra"):
        if key in event:
            event[key] = _scrub(event[key])
    return event


def release() -> str:
    try:
        return f"townhall@{metadata.version('townhall')}"
    except metadata.PackageNotFoundError:
        return "townhall@unknown"


def sentry_setup(env: environ.Env, *, environment: str, **options: Any) -> bool:
    """Start Sentry when SENTRY_DSN is set; return whether it was started.

    `options` go to sentry_sdk.init as they are (tests pass a local `transport`).
    """
    dsn = env.str("SENTRY_DSN", default="")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        environment=environment,
        release=release(),
        # What integrations collect: nothing that identifies anyone (this supersedes
        # send_default_pii, deprecated in sentry-sdk 2.7x, whose default False it keeps).
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "allowlist", "terms": sorted(SAFE_HEADERS)}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "stack_frame_variables": False,
        },
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        before_send=before_send,  # type: ignore[arg-type]
        **options,
    )
    return True
