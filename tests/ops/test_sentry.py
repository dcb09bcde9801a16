"""Sentry: an error in a view is reported, with nothing the resident typed or carries."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import environ
import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from townhall.conf.observability import before_send, sentry_setup


class LocalTransport(Transport):
    """Keeps the envelopes instead of sending them anywhere."""

    envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        LocalTransport.envelopes.append(envelope)


@pytest.fixture
def sentry(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    LocalTransport.envelopes = []
    monkeypatch.setenv("SENTRY_DSN", "http://public@127.0.0.1:9/1")
    monkeypatch.setenv("SENTRY_TRACES_SAMPLE_RATE", "0")
    assert sentry_setup(environ.Env(), environment="test", transport=LocalTransport)
    events: list[dict[str, Any]] = []
    yield events
    # sentry_sdk.init() without a DSN reads SENTRY_DSN from the environment: drop it first,
    # or the client left behind sends to 127.0.0.1:9 (and logs its retries at exit).
    monkeypatch.delenv("SENTRY_DSN")
    sentry_sdk.init()  # no DSN: reporting off again
    assert sentry_sdk.get_client().dsn is None


def reported() -> list[dict[str, Any]]:
    sentry_sdk.flush()
    return [
        item.payload.json
        for envelope in LocalTransport.envelopes
        for item in envelope.items
        if item.type == "event" and item.payload.json is not None
    ]


def test_nothing_is_started_without_a_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    assert sentry_setup(environ.Env(), environment="test") is False


def serve(environ: dict[str, Any]) -> str:
    """Through Django's own WSGI handler, as gunicorn calls it (Sentry hooks in there)."""
    statuses: list[str] = []
    # keep the test's transaction, as Django's test client does
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = WSGIHandler()(environ, lambda status, headers: statuses.append(status))
        b"".join(body)
        body.close()  # type: ignore[attr-defined]
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return statuses[0]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.ops.sentry_urls")
def test_an_error_in_a_view_is_reported_without_personal_data(
    sentry: list[dict[str, Any]],
) -> None:
    form = urlencode(
        {"email": "rosa@example.org", "phone": "617-555-0199", "description": "my address"}
    ).encode()
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ |= {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/failing/",
        "QUERY_STRING": "email=rosa%40example.org&ref=TH-26-000001",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(form)),
        "wsgi.input": io.BytesIO(form),
        "HTTP_COOKIE": "sessionid=cookie-secret-7a1",
        "HTTP_AUTHORIZATION": "Bearer header-secret-9c2",
        "HTTP_USER_AGENT": "probe/1.0",
        "REMOTE_ADDR": "203.0.113.7",
        "SERVER_NAME": "testserver",
        "HTTP_HOST": "testserver",
    }
    assert serve(environ).startswith("500")
    [event] = reported()
    # it is the error, from this environment and release
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "could not reach [Filtered] or [Filtered]"
    assert event["environment"] == "test"
    assert event["release"].startswith("townhall@")
    assert event["request"]["method"] == "POST"
    assert event["request"]["url"] == "http://testserver/failing/"
    assert event["request"]["headers"] == {
        "User-Agent": "probe/1.0",
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": str(len(form)),
    }
    # and nothing of what the resident sent or carries went with it
    text = json.dumps(event)
    for secret in (
        "rosa@example.org",
        "rosa%40example.org",
        "617-555-0199",
        "my address",
        "TH-26-000001",
        "cookie-secret-7a1",
        "header-secret-9c2",
        "203.0.113.7",
    ):
        assert secret not in text, secret
    assert "data" not in event["request"] and "cookies" not in event["request"]
    assert all("vars" not in frame for frame in exception["stacktrace"]["frames"])


def test_before_send_strips_the_request_and_sql_breadcrumbs() -> None:
    event: dict[str, Any] = {
        "request": {
            "url": "https://town.example/requests/abc/?email=a@b.org",
            "data": {"email": "a@b.org"},
            "cookies": {"sessionid": "x"},
            "query_string": "email=a@b.org",
            "headers": {"Cookie": "sessionid=x", "User-Agent": "probe", "X-Phone": "1"},
        },
        "user": {"email": "a@b.org", "ip_address": "203.0.113.7"},
        "breadcrumbs": {
            "values": [
                {"category": "query", "message": "SELECT ... WHERE email = 'a@b.org'"},
                {"category": "django.request", "message": "call +1 617 555 0199 back"},
            ]
        },
        "logentry": {"message": "mail to %s", "params": ["a@b.org"]},
        "timestamp": "2026-12-02T20:47:02.123456Z",
    }
    scrubbed = before_send(event, {})
    assert scrubbed["request"] == {
        "url": "https://town.example/requests/abc/",
        "headers": {"User-Agent": "probe"},
    }
    assert "user" not in scrubbed
    assert scrubbed["breadcrumbs"]["values"] == [
        {"category": "django.request", "message": "call [Filtered] back"}
    ]
    assert scrubbed["logentry"]["params"] == ["[Filtered]"]
    assert scrubbed["timestamp"] == "2026-12-02T20:47:02.123456Z"
