"""What every channel adapter shares: the message, the result, the error and the HTTP transport.

An adapter turns one :class:`OutgoingMessage` into one hand-over to a provider and answers a
:class:`SendResult`, or raises :class:`ChannelError` saying whether trying again can help.
Adapters keep no state about deliveries; the outbox owns retries, backoff and dead letters.

HTTP adapters talk through a :data:`Transport`, a plain function, so tests pass an in-memory
fake and need no network. The real one is ``http_transport`` (http.py: one pooled keep-alive
httpx client per process); :func:`urllib_transport` is the earlier one (a new connection per
message, standard library only), kept to compare the two (``bench/notify.py --transports``).
"""

from __future__ import annotations

import functools
import http.client
import math
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple, Protocol, runtime_checkable
from urllib.parse import urlsplit

__all__ = [
    "ChannelAdapter",
    "ChannelError",
    "HttpResponse",
    "OutgoingMessage",
    "SendResult",
    "Transport",
    "error_for_status",
    "header_value",
    "retry_after_seconds",
    "urllib_transport",
]

#: Most of a provider's answer we read; error bodies are small and success bodies are JSON.
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one recipient on one channel, as the outbox hands it to an adapter."""

    key: str  # idempotency key, unique per (event, recipient, channel)
    channel: str  # "email" | "sms" | "webhook" | "inapp"
    to: str  # e-mail address, E.164 phone, webhook URL, or citizen id for in-app
    subject: str
    body: str  # plain text (SMS text, e-mail text part, or JSON text for webhooks)
    html_body: str | None = None
    unsubscribe_url: str | None = None
    status_callback_url: str | None = None  # where the provider should report delivery status
    reply_to: str | None = None  # e-mail: where the resident's answer should go
    # e-mail: files sent with it, (filename, content, MIME type) (notify/attachments.py)
    attachments: tuple[tuple[str, bytes, str], ...] = ()


@dataclass(frozen=True)
class SendResult:
    """What the provider said: its id for the message and how far the message got."""

    provider_message_id: str
    status: str  # "sent" (handed to provider), "queued" (provider queued it) or "delivered"


class ChannelError(Exception):
    """Raised by an adapter when a send fails.

    ``retryable`` is False for permanent failures (invalid number, HTTP 4xx other than 408
    and 429): sending the same message again would fail the same way. ``retry_after`` is the
    number of seconds the provider asked us to wait (HTTP 429 ``Retry-After``), else None.
    ``code`` is a short machine-readable reason (``"rate_limited"``, ``"21211"``, ...).
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        code: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]" if self.code else self.message

    def __repr__(self) -> str:
        return (
            f"ChannelError({self.message!r}, retryable={self.retryable!r}, "
            f"code={self.code!r}, retry_after={self.retry_after!r})"
        )

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Keyword-only arguments are not in self.args; keep the error picklable for workers.
        rebuild = functools.partial(
            type(self), retryable=self.retryable, code=self.code, retry_after=self.retry_after
        )
        return (rebuild, (self.message,))


@runtime_checkable
class ChannelAdapter(Protocol):
    """Sends one message on one channel. ``name`` is the channel's name ("email", ...)."""

    name: str

    def send(self, message: OutgoingMessage) -> SendResult: ...


class HttpResponse(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes


#: ``(method, url, headers, body) -> HttpResponse``. Raises ChannelError on network failure.
Transport = Callable[[str, str, Mapping[str, str], bytes], HttpResponse]


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` in ``headers``, whatever the case of its key."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP-date), else None."""
    raw = header_value(headers, "Retry-After")
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000" parses naive; HTTP dates are always GMT
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def error_for_status(
    response: HttpResponse,
    *,
    what: str,
    code: str = "",
    now: float | None = None,
) -> ChannelError:
    """The ChannelError for a non-2xx answer, by the rules every HTTP adapter shares.

    429 is retryable with the provider's delay; 408 and 5xx are retryable; 3xx (redirects are
    never followed) and other 4xx are permanent. ``code`` overrides the default code of a
    permanent failure (e.g. the provider's own error code from the body).
    """
    status = response.status
    retry_after = retry_after_seconds(response.headers, now=now)
    if status == 429:
        return ChannelError(
            f"{what}: rate limited (HTTP 429)",
            retryable=True,
            code="rate_limited",
            retry_after=retry_after,
        )
    if status == 408 or status >= 500:
        return ChannelError(
            f"{what}: HTTP {status}",
            retryable=True,
            code=f"http_{status}",
            retry_after=retry_after,
        )
    if 300 <= status < 400:
        return ChannelError(
            f"{what}: HTTP {status} redirect (redirects are not followed)",
            retryable=False,
            code=code or "redirect",
        )
    return ChannelError(f"{what}: HTTP {status}", retryable=False, code=code or f"http_{status}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects come back as answers: following one would turn a signed POST into a GET
    and let an endpoint point us at another host."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


def _headers_dict(message: Message | None) -> dict[str, str]:
    if message is None:
        return {}
    return {key: str(value) for key, value in message.items()}


def urllib_transport(
    timeout: float = 10.0, *, address_allowed: Callable[[Any], bool] | None = None
) -> Transport:
    """The earlier transport: ``urllib.request`` with a timeout, no redirects, http(s) only
    (a new connection per message; the adapters use ``http.http_transport``).

    An HTTP error status is an answer (HttpResponse with that status), not an exception.
    A network failure (DNS, refused connection, TLS, timeout) raises
    ``ChannelError(retryable=True, code="network")``. With ``address_allowed`` (see
    addresses.py) it connects only to addresses that pass, checked at connection time;
    any other raises ``ChannelError(retryable=False, code="private_address")``.
    """
    from townhall.notify.channels.addresses import AddressRefused, guarded_handlers

    handlers: list[urllib.request.BaseHandler] = [_NoRedirects()]
    if address_allowed is not None:
        handlers += guarded_handlers(address_allowed)
    opener = urllib.request.build_opener(*handlers)

    def transport(method: str, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            # urllib would also open file:// and ftp:// URLs; a message never should.
            raise ChannelError(
                f"refusing to send to a non-HTTP URL: {url!r}", retryable=False, code="bad_url"
            )
        # The URL comes from council configuration (provider base URL) or a registered
        # webhook endpoint, and its scheme was checked just above.
        request = urllib.request.Request(  # noqa: S310
            url, data=body, headers=dict(headers), method=method
        )
        try:
            with opener.open(request, timeout=timeout) as response:
                return HttpResponse(
                    status=response.status,
                    headers=_headers_dict(response.headers),
                    body=response.read(MAX_RESPONSE_BYTES),
                )
        except urllib.error.HTTPError as exc:
            try:
                error_body = exc.read(MAX_RESPONSE_BYTES)
            except (OSError, http.client.HTTPException):
                error_body = b""
            finally:
                exc.close()
            return HttpResponse(
                status=exc.code, headers=_headers_dict(exc.headers), body=error_body
            )
        except (OSError, http.client.HTTPException) as exc:
            # URLError (DNS, refused, TLS) and TimeoutError are OSErrors; a connection dropped
            # mid-answer raises http.client errors (IncompleteRead) that are not.
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            if isinstance(reason, AddressRefused):
                raise ChannelError(
                    f"{method} {parts.scheme}://{parts.hostname}: {reason}",
                    retryable=False,
                    code="private_address",
                ) from exc
            raise ChannelError(
                f"{method} {parts.scheme}://{parts.hostname}: {reason}",
                retryable=True,
                code="network",
            ) from exc

    return transport
