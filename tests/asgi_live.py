"""An ASGI live server for browser tests of pages that use WebSockets (the chat widget).

pytest-django's `live_server` speaks WSGI only. This starts uvicorn (the server `townhall
demo` runs) on a free port in a thread of the test process, serving townhall.asgi: HTTP and
WebSocket from one origin, the in-memory channel layer, and the test database (SQLite's
shared in-memory test database is reachable from the server's threads; use it with
``django_db(transaction=True)`` so the server sees the test's rows). Being in-process, a test
can monkeypatch what the server calls.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


@dataclass
class AsgiLiveServer:
    url: str  # http://127.0.0.1:PORT

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")


@pytest.fixture
def asgi_live_server(transactional_db: None) -> Iterator[AsgiLiveServer]:
    import uvicorn

    from townhall.asgi import application

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        application, log_level="warning", lifespan="off", ws_max_size=65536, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the ASGI test server did not start")
        time.sleep(0.02)
    try:
        yield AsgiLiveServer(url=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        # The server ran views and consumers in asgiref's one thread for sync code; its
        # database connections (kept CONN_MAX_AGE on PostgreSQL) would stop the test
        # database from being dropped at the end.
        from asgiref.sync import SyncToAsync
        from django.db import connections

        SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)
