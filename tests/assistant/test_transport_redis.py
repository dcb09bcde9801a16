"""The channel layer at scale: Redis, so that a push from one process (an agent's reply in
the console) reaches a resident's socket held by another. Runs when REDIS_URL is set (CI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import environ
import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from townhall.assistant.models import Conversation
from townhall.conf.channels import channel_layer_settings

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "")


def test_the_layer_is_redis_when_a_url_is_set_and_memory_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = environ.Env()
    monkeypatch.delenv("CHANNELS_REDIS_URL", raising=False)
    memory = channel_layer_settings(env, redis_url="")
    assert memory["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    shared = channel_layer_settings(env, redis_url="redis://cache:6379/0")
    assert shared["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert shared["default"]["CONFIG"]["hosts"] == ["redis://cache:6379/0"]
    monkeypatch.setenv("CHANNELS_REDIS_URL", "redis://chat:6379/3")
    own = channel_layer_settings(env, redis_url="redis://cache:6379/0")
    assert own["default"]["CONFIG"]["hosts"] == ["redis://chat:6379/3"]


@pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (the layer shared by processes)")
@pytest.mark.django_db(transaction=True)
def test_an_agents_push_from_another_process_reaches_the_socket(settings: Any) -> None:
    settings.CHANNEL_LAYERS = channel_layer_settings(environ.Env(), redis_url=REDIS_URL)
    key = "redis-test-" + os.urandom(8).hex()
    Conversation.objects.create(key=key)
    from townhall.asgi import application

    async def test() -> None:
        socket = WebsocketCommunicator(
            application, "/ws/assistant/", headers=[(b"origin", b"http://testserver")]
        )
        assert (await socket.connect())[0]
        await socket.send_to(text_data=json.dumps({"type": "join", "conversation": key}))
        assert json.loads(await socket.receive_from(timeout=5))["type"] == "joined"
        pusher = (
            "import django; django.setup();"
            "from townhall.assistant.live import conversation_push;"
            f"conversation_push({key!r}, {{'type': 'status', 'status': 'agent'}})"
        )
        env = {**os.environ, "CHANNELS_REDIS_URL": REDIS_URL}
        env.pop("DATABASE_URL", None)
        done = subprocess.run(
            [sys.executable, "-c", pusher], cwd=ROOT, env=env, capture_output=True, timeout=60
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        pushed = json.loads(await socket.receive_from(timeout=30))  # a loaded CI machine
        assert pushed == {"type": "status", "status": "agent", "conversation": key}
        await socket.disconnect()

    async_to_sync(test)()
