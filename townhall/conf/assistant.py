"""Assistant settings: its dialogue, the live chat and its transport, the phone.

docs/operations.md ("Live chat") and docs/voice.md say what each one does for a council.
"""

from __future__ import annotations

from typing import Any

import environ

from townhall.conf.channels import assistant_transport_settings, channel_layer_settings
from townhall.conf.voice import voice_settings


def assistant_settings(env: environ.Env, *, redis_url: str, production: bool) -> dict[str, Any]:
    """The assistant's settings, by the name settings.py gives each, from the environment."""
    return {
        # --- the live chat (issue 17) ---
        # When a person answers chats, e.g. "Mon-Fri 09:00-17:00; Sat 10:00-13:00" in
        # TIME_ZONE; empty: the first council's business calendar (hours, working days,
        # holidays, closures). Out of hours a hand-off becomes a message on a case with the
        # transcript.
        "TOWNHALL_LIVE_CHAT_HOURS": env.str("TOWNHALL_LIVE_CHAT_HOURS", default=""),
        # Only members of this group (and superusers) work the live chat; empty: every
        # active member of staff with the contact-centre permission (cases.log_call).
        "TOWNHALL_LIVE_CHAT_GROUP": env.str("TOWNHALL_LIVE_CHAT_GROUP", default=""),
        # The service of the case an out-of-hours chat leaves; empty:
        # TOWNHALL_INTAKE_FALLBACK_SERVICE.
        "TOWNHALL_LIVE_CHAT_SERVICE": env.str("TOWNHALL_LIVE_CHAT_SERVICE", default=""),
        # --- the dialogue (issue 17) ---
        # Frustration score (0..1, experience/tone.py) above which the assistant hands the
        # conversation to a person on its own. Not the fitted 0.49 (best F1,
        # tone_weights.yaml): a hand-off stops the assistant answering, so a false one costs
        # more than a missed one; 0.6 keeps one mild word ("how long", "weeks") from doing
        # it. Held-out precision/recall at both cuts: docs/benchmarks.md, "Assistant:
        # frustration".
        "TOWNHALL_ASSISTANT_HANDOFF_THRESHOLD": env.float(
            "TOWNHALL_ASSISTANT_HANDOFF_THRESHOLD", default=0.6
        ),
        # Inbound texts that are not about a case go to the assistant (off: they open cases).
        "TOWNHALL_ASSISTANT_SMS": env.bool("TOWNHALL_ASSISTANT_SMS", default=True),
        # An SMS conversation idle this long is over: the next text starts a new one.
        "TOWNHALL_ASSISTANT_SMS_IDLE_HOURS": env.int(
            "TOWNHALL_ASSISTANT_SMS_IDLE_HOURS", default=24
        ),
        # A web conversation nobody wrote to for this long is closed (abandoned if unanswered).
        "TOWNHALL_ASSISTANT_IDLE_MINUTES": env.int("TOWNHALL_ASSISTANT_IDLE_MINUTES", default=30),
        # --- the live chat's transport (issue 17): conf/channels.py ---
        # HTTP and the widget's WebSocket from one ASGI application (townhall/asgi.py, uvicorn).
        "ASGI_APPLICATION": "townhall.asgi.application",
        # In process memory for the demo (one process); Redis (CHANNELS_REDIS_URL, else
        # REDIS_URL) when several ASGI processes must reach each other's sockets.
        "CHANNEL_LAYERS": channel_layer_settings(env, redis_url=redis_url),
        # Message size, per-socket rate and polling interval of the chat transport.
        "TOWNHALL_ASSISTANT_TRANSPORT": assistant_transport_settings(env),
        # Origins of council pages that embed the chat widget (e.g.
        # https://www.council.example), beside ALLOWED_HOSTS: they may open the WebSocket.
        "TOWNHALL_ASSISTANT_ORIGINS": env.list("TOWNHALL_ASSISTANT_ORIGINS", default=[]),
        # --- the phone (issue 20): conf/voice.py, docs/voice.md ---
        "TOWNHALL_VOICE": voice_settings(env, production=production),
    }
