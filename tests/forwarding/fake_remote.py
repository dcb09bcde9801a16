"""A fake Open311 GeoReport v2 server over real HTTP (a thread on 127.0.0.1), for the
status-sync and catalogue-import tests: it answers GET requests.json from `requests`,
servicerequestupdates.json from `updates`, services.json and services/<code>.json from
`services` and `definitions`, and misbehaves on demand (`mode`)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class FakeRemote:
    """What the fake server knows and how it behaves; tests change it between calls."""

    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    services: list[Any] = field(default_factory=list)
    definitions: dict[str, Any] = field(default_factory=dict)
    # "ok", "500", "404", "garbage" (not JSON), "object" (JSON, not a list), "slow"
    mode: str = "ok"
    slow_seconds: float = 2.0
    calls: list[str] = field(default_factory=list)
    url: str = ""

    def status(self, remote_id: str, status: str, notes: str = "", at: str = "") -> None:
        record = self.requests.setdefault(remote_id, {"service_request_id": remote_id})
        record["status"] = status
        record["status_notes"] = notes or None
        if at:
            record["updated_datetime"] = at

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        if self.mode == "slow":
            time.sleep(self.slow_seconds)
        if self.mode == "500":
            return 500, b'[{"code": 500, "description": "database down"}]'
        if self.mode == "404":
            return 404, b'[{"code": 404, "description": "no such thing"}]'
        if self.mode == "garbage":
            return 200, b"<html>Service Unavailable</html>"
        if self.mode == "object":
            return 200, b'{"error": "nope"}'
        if path.endswith("/requests.json"):
            ids = ",".join(query.get("service_request_id", [""])).split(",")
            body: Any = [self.requests[i] for i in ids if i in self.requests]
        elif path.endswith("/servicerequestupdates.json"):
            body = self.updates
        elif path.endswith("/services.json"):
            body = self.services
        elif "/services/" in path:
            code = unquote(path.rsplit("/", 1)[1].removesuffix(".json"))
            if code not in self.definitions:
                return 404, b'[{"code": 404, "description": "unknown service"}]'
            body = self.definitions[code]
        else:
            return 404, b"[]"
        return 200, json.dumps(body).encode()


def serve(remote: FakeRemote, port: int = 0) -> Iterator[FakeRemote]:
    """Run `remote` on 127.0.0.1 (on `port` if it is free) until the generator is closed
    (use as a fixture); its address is `remote.url`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            remote.calls.append(self.path)
            status, body = remote.answer(parts.path, parse_qs(parts.query))
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    except OSError:  # the port is taken (another run of these tests): any free one
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    remote.url = f"http://127.0.0.1:{server.server_address[1]}/open311/v2/"
    try:
        yield remote
    finally:
        server.shutdown()
        server.server_close()
