"""A fake Open311 server (a real HTTP server on 127.0.0.1 in a thread) and bodies to send to."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from townhall.forwarding.models import Body, BodyKind, RoutingRule
from townhall.forwarding.routing import routing_cache_clear

# Polygon around Testville's centre (42.36, -71.09), [long, lat].
INSIDE = {"lat": 42.36, "long": -71.09}
OUTSIDE = {"lat": 42.50, "long": -71.30}
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-71.2, 42.3], [-71.0, 42.3], [-71.0, 42.4], [-71.2, 42.4], [-71.2, 42.3]]],
}
API_KEY = "k3y-s3cret-forwarding-0001"


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: dict[str, str]


class FakeOpen311:
    """Answers each request with the next scripted reply (then `default`); records them."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.default = Reply(200, [{"service_request_id": "R-1"}])
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                parts = urlsplit(self.path)
                with outer.lock:
                    outer.seen.append(
                        Seen(
                            self.command,
                            parts.path,
                            parse_qs(parts.query),
                            parse_qs(raw),
                            dict(self.headers.items()),
                        )
                    )
                    reply = outer.replies.pop(0) if outer.replies else outer.default
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body
                if not isinstance(body, (bytes, str)):
                    body = json.dumps(body)
                data = body.encode() if isinstance(body, str) else body
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = _answer  # noqa: N815
            do_POST = _answer  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/open311/v2/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def posts(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "POST"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _routing_fresh() -> Iterator[None]:
    routing_cache_clear()
    yield
    routing_cache_clear()


@pytest.fixture
def remote() -> Iterator[FakeOpen311]:
    server = FakeOpen311()
    yield server
    server.close()


@pytest.fixture
def county(remote: FakeOpen311, town: Any) -> Body:
    return Body.objects.create(
        name="Kent County Council",
        slug="county",
        kind=BodyKind.OPEN311,
        public_name="the County",
        boundary=SQUARE,
        endpoint=remote.url,
        jurisdiction_id="county.example.org",
        api_key=API_KEY,
        timeout_seconds=2.0,
    )


@pytest.fixture
def county_rule(county: Body, pothole: Any) -> RoutingRule:
    rule = RoutingRule.objects.create(body=county, order=10)
    rule.service_types.add(pothole)
    return rule
