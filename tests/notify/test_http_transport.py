"""The pooled httpx transport (townhall/notify/channels/http.py), against real loopback servers:
connections are reused, timeouts and refusals are retryable network errors, redirects come
back as answers, answers are capped, and the webhook address guard still holds."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from townhall.notify.channels import HttpSmsGateway, OutgoingMessage
from townhall.notify.channels.addresses import address_policy
from townhall.notify.channels.base import MAX_RESPONSE_BYTES, ChannelError
from townhall.notify.channels.http import http_client, http_client_reset, http_transport


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.requests: list[tuple[str, str]] = []  # (path, Host header)
        self.encodings: list[str] = []

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1
        super().process_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server: _Server

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append((self.path, self.headers.get("Host", "")))
        if self.path == "/slow":
            time.sleep(1.0)
        status, headers, answer = {
            "/ok": (
                201,
                {"Content-Type": "application/json"},
                b'{"sid": "SM7", "status": "queued"}',
            ),
            "/slow": (200, {}, b"late"),
            "/moved": (302, {"Location": "/ok"}, b""),
            "/huge": (200, {}, b"x" * (3 * MAX_RESPONSE_BYTES)),
            "/gzip": (200, {"Content-Encoding": "gzip"}, gzip.compress(b"y" * 10_000_000)),
        }.get(self.path, (404, {}, b""))
        self.server.encodings.append(self.headers.get("Accept-Encoding", ""))
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except OSError:  # the client gave up (timeout, capped answer)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    http_client_reset()
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    http_client_reset()
    srv.shutdown()
    srv.server_close()


def url(srv: _Server, path: str, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{srv.server_address[1]}{path}"


def test_many_sends_share_one_keep_alive_connection(server: _Server) -> None:
    transport = http_transport(timeout=5)
    answers = [transport("POST", url(server, "/ok"), {}, b"x") for _ in range(20)]
    assert {a.status for a in answers} == {201}
    assert server.connections == 1 and len(server.requests) == 20


def test_adapters_made_separately_share_the_process_client(server: _Server) -> None:
    first, second = http_transport(timeout=5), http_transport(timeout=2)
    first("POST", url(server, "/ok"), {}, b"")
    second("POST", url(server, "/ok"), {}, b"")
    assert http_client() is http_client() and server.connections == 1


def test_threads_sending_at_once_reuse_connections(server: _Server) -> None:
    transport = http_transport(timeout=5)

    def send() -> None:
        for _ in range(10):
            assert transport("POST", url(server, "/ok"), {}, b"").status == 201

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(server.requests) == 40 and server.connections <= 4


def test_a_timeout_is_a_retryable_network_error_through_the_sms_adapter(server: _Server) -> None:
    gateway = HttpSmsGateway(
        account_sid="AC1",
        auth_token="t",
        from_number="+15550000000",
        base_url=url(server, "/slow#"),
        transport=http_transport(timeout=0.2),
    )
    message = OutgoingMessage(key="k", channel="sms", to="+15551234567", subject="", body="hi")
    with pytest.raises(ChannelError) as caught:
        gateway.send(message)
    assert (caught.value.retryable, caught.value.code) == (True, "network")


def test_a_refused_connection_is_a_retryable_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ChannelError) as caught:
        http_transport(timeout=2)("POST", f"http://127.0.0.1:{port}/", {}, b"")
    assert (caught.value.retryable, caught.value.code) == (True, "network")


def test_a_redirect_is_an_answer_not_followed(server: _Server) -> None:
    answer = http_transport(timeout=5)("POST", url(server, "/moved"), {}, b"x")
    assert answer.status == 302 and [p for p, _ in server.requests] == ["/moved"]


def test_an_answer_is_read_up_to_the_cap(server: _Server) -> None:
    transport = http_transport(timeout=5)
    answer = transport("POST", url(server, "/huge"), {}, b"")
    assert (answer.status, len(answer.body)) == (200, MAX_RESPONSE_BYTES)
    assert transport("POST", url(server, "/ok"), {}, b"").status == 201  # still usable


def test_an_answer_is_not_decompressed_past_the_cap(server: _Server) -> None:
    answer = http_transport(timeout=5)("POST", url(server, "/gzip"), {}, b"")
    assert server.encodings == ["identity"]  # what we ask for, as urllib did
    assert answer.body[:2] == b"\x1f\x8b" and len(answer.body) <= MAX_RESPONSE_BYTES


@pytest.mark.parametrize(
    "bad", ["file:///etc/passwd", "ftp://example.org/x", "/relative", "http://", "http://[::1"]
)
def test_only_http_urls_are_sent_to(bad: str) -> None:
    with pytest.raises(ChannelError) as caught:
        http_transport()("POST", bad, {}, b"")
    assert (caught.value.retryable, caught.value.code) == (False, "bad_url")


@pytest.fixture
def hook_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """`hook.example` resolves to 127.0.0.1 (the rest of DNS as usual)."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "hook.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "hook.example"])
def test_a_guarded_send_to_a_loopback_address_or_name_is_refused(
    server: _Server, hook_example: None, host: str
) -> None:
    transport = http_transport(timeout=5, address_allowed=address_policy())
    with pytest.raises(ChannelError) as caught:
        transport("POST", url(server, "/ok", host), {}, b"")
    assert (caught.value.retryable, caught.value.code) == (False, "private_address")
    assert server.connections == 0


def test_an_allowed_network_is_reached_by_name_with_the_host_header_kept(
    server: _Server, hook_example: None
) -> None:
    transport = http_transport(timeout=5, address_allowed=address_policy(["127.0.0.1/32"]))
    for _ in range(3):
        assert transport("POST", url(server, "/ok", "hook.example"), {}, b"").status == 201
    port = server.server_address[1]
    assert server.requests == [("/ok", f"hook.example:{port}")] * 3
    assert server.connections == 1


def test_an_unguarded_connection_is_never_reused_for_a_guarded_send(server: _Server) -> None:
    assert http_transport(timeout=5)("POST", url(server, "/ok"), {}, b"").status == 201
    guarded = http_transport(timeout=5, address_allowed=address_policy())
    with pytest.raises(ChannelError) as caught:
        guarded("POST", url(server, "/ok"), {}, b"")
    assert caught.value.code == "private_address" and len(server.requests) == 1


def test_a_forked_process_makes_its_own_client(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    parent = http_client()
    monkeypatch.setattr(os, "getpid", lambda: -1)
    assert http_client() is not parent


def test_pool_limits_come_from_settings(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    http_client_reset()
    settings.TOWNHALL_OUTBOUND_HTTP = {"MAX_CONNECTIONS": 3, "KEEPALIVE_EXPIRY": 5}
    pools = http_client()._transport
    assert pools.limits.max_connections == 3 and pools.limits.keepalive_expiry == 5  # type: ignore[attr-defined]
    http_client_reset()
    settings.TOWNHALL_OUTBOUND_HTTP = {"MAX_CONECTIONS": 3}
    with pytest.raises(ImproperlyConfigured, match="MAX_CONECTIONS"):
        http_client()
    http_client_reset()
