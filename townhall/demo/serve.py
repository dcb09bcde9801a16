"""The demo's web server: uvicorn serving townhall.asgi, pages and the chat's WebSocket on
one address (runserver speaks HTTP only). uvicorn was measured against daphne on the
chat's sockets (docs/benchmarks.md, "Assistant: live chat transport")."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def bind_for(addr: str) -> tuple[str, int]:
    """(host, port) for `addr` in runserver's forms: "8080", "127.0.0.1:8080",
    "0.0.0.0:8080", "[::1]:8080", "localhost" (port 8000)."""
    addr = addr.strip()
    if addr.isdigit():
        return "127.0.0.1", int(addr)
    host, _, port = addr.rpartition(":")
    if not port.isdigit():
        host, port = addr, "8000"
    return host.strip("[]") or "127.0.0.1", int(port)


def server_config(addr: str, **overrides: Any) -> Any:
    """uvicorn's configuration for the demo: one process, the in-memory channel layer
    (so the console's agent and the resident's widget must share it), frames capped."""
    import uvicorn

    host, port = bind_for(addr)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "lifespan": "off",
        "log_level": "info",
        "ws_max_size": int(settings.TOWNHALL_ASSISTANT_TRANSPORT["MAX_FRAME_BYTES"]) * 4,
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
    } | overrides
    return uvicorn.Config("townhall.asgi:application", **options)


def asgi_serve(addr: str) -> None:
    """Serve until Ctrl-C (uvicorn shuts down cleanly, then re-raises the signal: a
    traceback would only alarm whoever pressed it)."""
    import uvicorn

    try:
        uvicorn.Server(server_config(addr)).run()
    except KeyboardInterrupt:
        return
