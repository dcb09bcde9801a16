"""`townhall demo` serves pages and the chat's WebSocket from one ASGI server (uvicorn)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request

import pytest

from townhall.demo.serve import bind_for, server_config


@pytest.mark.parametrize(
    ("addr", "bound"),
    [
        ("8080", ("127.0.0.1", 8080)),
        ("0.0.0.0:8123", ("0.0.0.0", 8123)),  # noqa: S104 - parsed, never bound
        ("[::1]:9000", ("::1", 9000)),
        ("localhost", ("localhost", 8000)),
    ],
)
def test_the_demo_binds_where_runserver_would(addr: str, bound: tuple[str, int]) -> None:
    assert bind_for(addr) == bound


@pytest.mark.django_db(transaction=True)
def test_the_demo_server_answers_pages_and_the_chat_socket(town: object) -> None:
    import socket

    import uvicorn
    import websockets

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(server_config(f"127.0.0.1:{port}", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as page:
            html = page.read().decode()
        assert page.status == 200 and "assistant/widget.js" in html

        async def chat() -> dict[str, object]:
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/ws/assistant/", origin=f"http://127.0.0.1:{port}"
            ) as ws:
                await ws.send(json.dumps({"type": "message", "text": "hello", "id": 1}))
                return dict(json.loads(await ws.recv()))

        answer = asyncio.run(chat())
        assert answer["type"] == "reply" and answer["messages"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
