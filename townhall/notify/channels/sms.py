"""SMS: an HTTP gateway in the account-SID / auth-token REST form, a console stand-in for
development, an in-memory fake provider for tests, and a segment counter."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import parse_qsl, quote, urlencode

from townhall.notify.channels.base import (
    ChannelError,
    HttpResponse,
    OutgoingMessage,
    SendResult,
    Transport,
    error_for_status,
    header_value,
)
from townhall.notify.channels.http import http_transport
from townhall.notify.rendering import sms_segments  # re-exported: one GSM-7 counter

__all__ = [
    "E164",
    "ConsoleSms",
    "FakeSmsProvider",
    "HttpSmsGateway",
    "RecordedRequest",
    "sms_segments",
]

E164 = re.compile(r"^\+[1-9]\d{6,14}$", re.ASCII)  # ASCII: \d would match any script's digits

# Provider message states at hand-over, mapped to SendResult.status.
_STATUS = {
    "queued": "queued",
    "accepted": "queued",
    "scheduled": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
}
_FAILED = frozenset({"failed", "undelivered", "canceled"})


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class HttpSmsGateway:
    """Sends SMS through a REST API of the account-SID / auth-token form (Twilio's, and the
    many gateways that copy it).

    ``POST {base_url}/Accounts/{account_sid}/Messages.json`` with HTTP Basic auth
    (sid:token) and form fields ``To``, ``From``, ``Body`` and ``StatusCallback`` (when the
    message has a status callback URL). The ``Idempotency-Key`` header carries the message key
    for gateways that deduplicate on it; others ignore it, so a send that timed out after the
    provider accepted it may still be delivered twice.
    """

    def __init__(
        self,
        name: str = "sms",
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        base_url: str = "https://api.twilio.com/2010-04-01",
        transport: Transport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.from_number = from_number
        self.base_url = base_url.rstrip("/")
        self.transport: Transport = transport if transport is not None else http_transport()
        self.clock = clock

    def __repr__(self) -> str:  # never shows the token
        return (
            f"HttpSmsGateway(name={self.name!r}, account_sid={self.account_sid!r}, "
            f"from_number={self.from_number!r}, base_url={self.base_url!r})"
        )

    def request_is_authentic(self, *, url: str, params: Mapping[str, str], signature: str) -> bool:
        """Return whether a callback the provider sent us carries its valid signature."""
        expected = sms_request_signature(auth_token=self._auth_token, url=url, params=params)
        # Bytes: compare_digest raises TypeError on a str with non-ASCII characters.
        return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/Accounts/{quote(self.account_sid, safe='')}/Messages.json"

    def send(self, message: OutgoingMessage) -> SendResult:
        if not E164.fullmatch(message.to):
            raise ChannelError(
                f"not an E.164 phone number: {message.to!r}",
                retryable=False,
                code="invalid_number",
            )
        fields = {"To": message.to, "From": self.from_number, "Body": message.body}
        if message.status_callback_url:
            fields["StatusCallback"] = message.status_callback_url
        credentials = f"{self.account_sid}:{self._auth_token}".encode()
        headers = {
            "Authorization": "Basic " + base64.b64encode(credentials).decode("ascii"),
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Accept": "application/json",
            "Idempotency-Key": message.key,
        }
        response = self.transport(
            "POST", self.messages_url, headers, urlencode(fields).encode("utf-8")
        )
        data = _json_object(response.body)
        if not 200 <= response.status < 300:
            code = data.get("code")
            raise error_for_status(
                response,
                what="SMS gateway",
                code="" if code is None else str(code),
                now=self.clock(),
            )
        sid = data.get("sid")
        provider_status = str(data.get("status", "")).lower()
        if not isinstance(sid, str) or not sid:
            # The gateway took the request but its answer is unreadable: sending again could
            # text the resident twice, so this is not retried; the outbox flags it.
            raise ChannelError(
                f"SMS gateway answered HTTP {response.status} without a message sid",
                retryable=False,
                code="bad_response",
            )
        if provider_status in _FAILED:
            error_code = data.get("error_code")
            raise ChannelError(
                f"SMS gateway reported {provider_status} for {sid}",
                retryable=False,
                code=str(error_code) if error_code else provider_status,
            )
        return SendResult(provider_message_id=sid, status=_STATUS.get(provider_status, "queued"))


class ConsoleSms:
    """Development stand-in: writes ``SMS to <to>: <body>`` to a stream (stdout by default)."""

    def __init__(self, name: str = "sms", stream: TextIO | None = None) -> None:
        self.name = name
        self.stream = stream

    def send(self, message: OutgoingMessage) -> SendResult:
        stream = self.stream if self.stream is not None else sys.stdout
        stream.write(f"SMS to {message.to}: {message.body}\n")
        stream.flush()
        return SendResult(provider_message_id=f"console-{uuid.uuid4().hex}", status="sent")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake provider received, whatever it answered."""

    method: str
    url: str
    headers: Mapping[str, str]
    form: Mapping[str, str]
    status: int


@dataclass(frozen=True)
class _ScriptedFailure:
    status: int
    retry_after: float | None
    code: str


class FakeSmsProvider:
    """An in-memory SMS provider with the Transport signature, for ``HttpSmsGateway(transport=)``.

    Accepted messages are recorded in ``sent`` (their decoded form fields: To, From, Body, ...)
    and answered ``201 {"sid": "SM<n>", "status": "queued"}``; every request, accepted or not,
    is in ``requests`` with its headers. ``fail_next(status, times, retry_after, code)`` makes the
    next ``times`` requests fail. Thread-safe: several workers may share one fake.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = 0
        self._failures: list[_ScriptedFailure] = []
        self.sent: list[dict[str, str]] = []
        self.requests: list[RecordedRequest] = []

    def fail_next(
        self, status: int, times: int = 1, retry_after: float | None = None, code: str = ""
    ) -> None:
        with self._lock:
            self._failures.extend([_ScriptedFailure(status, retry_after, code)] * times)

    def messages_to(self, number: str) -> list[str]:
        """Bodies of the accepted messages to ``number``, oldest first."""
        with self._lock:
            return [fields.get("Body", "") for fields in self.sent if fields.get("To") == number]

    def __call__(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> HttpResponse:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        with self._lock:
            if self._failures:
                failure = self._failures.pop(0)
                response = self._failure_response(failure)
            else:
                self._counter += 1
                self.sent.append(form)
                payload = {"sid": f"SM{self._counter}", "status": "queued", "to": form.get("To")}
                response = HttpResponse(
                    201, {"Content-Type": "application/json"}, json.dumps(payload).encode()
                )
            self.requests.append(
                RecordedRequest(method, url, dict(headers), form, status=response.status)
            )
        return response

    @staticmethod
    def _failure_response(failure: _ScriptedFailure) -> HttpResponse:
        headers = {"Content-Type": "application/json"}
        if failure.retry_after is not None:
            headers["Retry-After"] = f"{failure.retry_after:g}"
        payload: dict[str, Any] = {"status": failure.status, "message": "scripted failure"}
        if failure.code:
            payload["code"] = int(failure.code) if failure.code.isdigit() else failure.code
        return HttpResponse(failure.status, headers, json.dumps(payload).encode())

    def authorization(self, index: int = -1) -> str | None:
        """The Authorization header of a recorded request (the last one by default)."""
        with self._lock:
            return header_value(self.requests[index].headers, "Authorization")


def sms_request_signature(*, auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Return the provider's callback signature: base64 HMAC-SHA1 over the full URL
    followed by each POST parameter name and value, sorted by name (the scheme used by
    the account-SID/auth-token gateways for their X-…-Signature header)."""
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
