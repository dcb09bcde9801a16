"""Live chat: the ASGI application and the channel layer (Django Channels)."""

from __future__ import annotations

from typing import Any

import environ


def channel_layer_settings(env: environ.Env, *, redis_url: str) -> dict[str, Any]:
    """CHANNEL_LAYERS: Redis when CHANNELS_REDIS_URL (or else REDIS_URL) is set, process
    memory otherwise.

    The in-memory layer only reaches sockets served by the same process, which is what the
    demo runs; several ASGI processes need Redis, so that an agent's reply from one process
    reaches the resident's socket held by another.
    """
    url = env.str("CHANNELS_REDIS_URL", default="") or redis_url
    if url:
        return {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [url],
                    "prefix": env.str("CHANNELS_PREFIX", default="townhall"),
                    # A message waiting longer than this for a socket is dropped: the widget
                    # reads missed turns from the events endpoint when it reconnects.
                    "expiry": 60,
                    "capacity": 200,
                },
            }
        }
    return {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"expiry": 60, "capacity": 200},
        }
    }


def assistant_transport_settings(env: environ.Env) -> dict[str, Any]:
    """Limits of the chat transport (docs/security/input.md): the largest message a socket
    takes, how many messages a socket (or an address over HTTP) may send per minute, and
    how often the widget polls when WebSockets are blocked."""
    return {
        "MAX_TEXT": env.int("TOWNHALL_ASSISTANT_MAX_TEXT", default=2000),
        "MAX_FRAME_BYTES": env.int("TOWNHALL_ASSISTANT_MAX_FRAME_BYTES", default=16384),
        "MESSAGES_PER_MINUTE": env.int("TOWNHALL_ASSISTANT_MESSAGES_PER_MINUTE", default=30),
        "MAX_PHOTOS": env.int("TOWNHALL_ASSISTANT_MAX_PHOTOS", default=5),
        "POLL_SECONDS": env.int("TOWNHALL_ASSISTANT_POLL_SECONDS", default=3),
    }
