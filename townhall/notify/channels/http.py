"""The real HTTP transport: one pooled keep-alive ``httpx.Client`` per process.

SMS gateways and webhooks used to open a new TCP (and TLS) connection per message; a busy
outbox now reuses connections to the same provider. The client is created lazily (on the
first send), once per process (a forked worker makes its own: sockets are not shared across
a fork), and is thread-safe. It never follows redirects, speaks http and https only, ignores
proxies from the environment for webhooks, and reads at most :data:`MAX_RESPONSE_BYTES` of an
answer. Pool sizes come from ``TOWNHALL_OUTBOUND_HTTP`` (docs/operations.md).

Webhooks keep their guard (addresses.py): requests sent with an ``address_allowed`` policy go
through a pool whose network backend resolves the host, checks *every* address and connects
to one of the checked addresses, at each new connection (a DNS answer that changes between
two connections is checked again; rebinding cannot slip a private address in). TLS still
verifies the certificate against the host name (SNI and the Host header are the URL's).
Connections are pooled per policy, so a connection opened without the guard (an SMS
gateway) is never reused for a guarded request.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import httpcore
import httpx

from townhall.notify.channels.addresses import AddressAllowed, AddressRefused, addresses_checked
from townhall.notify.channels.base import (
    MAX_RESPONSE_BYTES,
    ChannelError,
    HttpResponse,
    Transport,
)

__all__ = ["DEFAULTS", "http_client", "http_client_reset", "http_transport"]

#: ``TOWNHALL_OUTBOUND_HTTP`` keys and their defaults.
DEFAULTS: dict[str, float] = {
    "MAX_CONNECTIONS": 50,  # per pool (one pool per address policy), across all hosts
    "MAX_KEEPALIVE_CONNECTIONS": 20,
    "KEEPALIVE_EXPIRY": 30.0,  # seconds an idle connection is kept
    "POOL_TIMEOUT": 5.0,  # seconds a send waits for a free connection
}

# httpx logs every request's full URL at INFO: a webhook URL can hold a subscriber's token and
# a gateway URL its account id, and personal data stays out of logs. Failures reach the
# outbox as ChannelError (with the host only).
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

_POLICY = "townhall.address_allowed"  # the request extension naming the address policy


def _settings() -> dict[str, float]:
    try:
        from django.conf import settings

        configured = dict(getattr(settings, "TOWNHALL_OUTBOUND_HTTP", {}) or {})
    except Exception:
        configured = {}
    unknown = set(configured) - set(DEFAULTS)
    if unknown:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"TOWNHALL_OUTBOUND_HTTP: unknown keys {sorted(unknown)}")
    return {**DEFAULTS, **{k: float(v) for k, v in configured.items()}}


class _GuardedBackend(httpcore.SyncBackend):
    """Connects only to checked addresses: the host is resolved here, every address is
    checked, and the socket connects to an address literal from that very answer."""

    def __init__(self, allowed: AddressAllowed) -> None:
        self.allowed = allowed

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        error: Exception | None = None
        for *_, sockaddr in addresses_checked(host, port, self.allowed):
            literal = str(sockaddr[0])  # an address: create_connection does no DNS for it
            try:
                return super().connect_tcp(literal, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"cannot connect to {host}")


class _PolicyTransport(httpx.BaseTransport):
    """Sends each request through the connection pool of its address policy (none, or one
    per policy), so guarded and unguarded connections are never mixed."""

    def __init__(self, limits: httpx.Limits) -> None:
        self.limits = limits
        # The system's certificate authorities (and SSL_CERT_FILE), as urllib used: a council
        # that trusts its own CA trusts it here too.
        self.ssl_context = ssl.create_default_context()
        self._pools: dict[object, httpx.HTTPTransport] = {}
        self._lock = threading.Lock()

    def _pool(self, key: object, make: Callable[[], httpx.HTTPTransport]) -> httpx.HTTPTransport:
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = make()
            return pool

    def _guarded(self, allowed: AddressAllowed) -> httpx.HTTPTransport:
        transport = httpx.HTTPTransport(
            verify=self.ssl_context, limits=self.limits, trust_env=False
        )
        # httpx has no public hook for the network backend; the pool is rebuilt with the same
        # settings and ours (tests/notify/test_http_transport.py proves the guard holds).
        old = transport._pool
        transport._pool = httpcore.ConnectionPool(
            ssl_context=old._ssl_context,
            max_connections=old._max_connections,
            max_keepalive_connections=old._max_keepalive_connections,
            keepalive_expiry=old._keepalive_expiry,
            network_backend=_GuardedBackend(allowed),
        )
        return transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        allowed = request.extensions.pop(_POLICY, None)
        if allowed is not None:
            pool = self._pool(("guarded", allowed), lambda: self._guarded(allowed))
        else:
            # Provider traffic honours the environment's proxy, as urllib did (webhooks never).
            proxy = None
            if not urllib.request.proxy_bypass(request.url.host):
                proxy = urllib.request.getproxies().get(request.url.scheme)
            pool = self._pool(
                ("direct", proxy),
                lambda: httpx.HTTPTransport(
                    verify=self.ssl_context, limits=self.limits, proxy=proxy, trust_env=False
                ),
            )
        return pool.handle_request(request)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


_client: httpx.Client | None = None
_client_pid = 0
_client_lock = threading.Lock()


def http_client() -> httpx.Client:
    """This process's client (created on first use, again after a fork)."""
    global _client, _client_pid
    with _client_lock:
        if _client is None or _client_pid != os.getpid():
            conf = _settings()
            limits = httpx.Limits(
                max_connections=int(conf["MAX_CONNECTIONS"]),
                max_keepalive_connections=int(conf["MAX_KEEPALIVE_CONNECTIONS"]),
                keepalive_expiry=conf["KEEPALIVE_EXPIRY"],
            )
            _client = httpx.Client(
                transport=_PolicyTransport(limits),
                follow_redirects=False,
                trust_env=False,  # proxies are chosen per request above
                timeout=httpx.Timeout(10.0, pool=conf["POOL_TIMEOUT"]),
            )
            _client_pid = os.getpid()
        return _client


def http_client_reset() -> None:
    """Close this process's client and its connections (tests; a settings change)."""
    global _client
    with _client_lock:
        client, _client = _client, None
    if client is not None and _client_pid == os.getpid():
        client.close()


def http_transport(
    timeout: float = 10.0, *, address_allowed: AddressAllowed | None = None
) -> Transport:
    """The real transport, over the process's pooled client; same contract as
    :func:`~townhall.notify.channels.base.urllib_transport`.

    An HTTP error status is an answer (HttpResponse with that status), not an exception.
    A network failure (DNS, refused connection, TLS, timeout, a dropped answer) raises
    ``ChannelError(retryable=True, code="network")``; a non-HTTP URL raises
    ``ChannelError(retryable=False, code="bad_url")``. With ``address_allowed`` (see
    addresses.py) it connects only to addresses that pass, checked at each new connection;
    any other raises ``ChannelError(retryable=False, code="private_address")``.
    """

    def transport(method: str, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise ChannelError(
                f"refusing to send to a bad URL: {url!r}", retryable=False, code="bad_url"
            ) from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ChannelError(
                f"refusing to send to a non-HTTP URL: {url!r}", retryable=False, code="bad_url"
            )
        where = f"{method} {parsed.scheme}://{parsed.host}"
        client = http_client()
        extensions: dict[str, Any] = {}
        if address_allowed is not None:
            extensions[_POLICY] = address_allowed
        try:
            request = client.build_request(
                method,
                parsed,
                headers={"Accept-Encoding": "identity", **headers},
                content=body,
                timeout=httpx.Timeout(timeout, pool=client.timeout.pool),
                extensions=extensions,
            )
            response = client.send(request, stream=True)
            try:
                chunks: list[bytes] = []
                size = 0
                # Raw bytes, as urllib read them: no decompression (a small gzip answer
                # could inflate far past the cap), and identity is what we ask for.
                for chunk in response.iter_raw():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= MAX_RESPONSE_BYTES:
                        break  # the rest is not read; the connection is closed, not reused
                return HttpResponse(
                    status=response.status_code,
                    headers=dict(response.headers.items()),
                    body=b"".join(chunks)[:MAX_RESPONSE_BYTES],
                )
            finally:
                response.close()
        except AddressRefused as exc:
            raise ChannelError(f"{where}: {exc}", retryable=False, code="private_address") from exc
        except httpx.UnsupportedProtocol as exc:
            raise ChannelError(
                f"refusing to send to a non-HTTP URL: {url!r}", retryable=False, code="bad_url"
            ) from exc
        except (httpx.TransportError, httpx.DecodingError, OSError) as exc:
            # Timeouts, refused connections, DNS and TLS failures, answers cut short.
            raise ChannelError(f"{where}: {exc}", retryable=True, code="network") from exc

    return transport
