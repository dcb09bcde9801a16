"""The console's live-chat socket: staff only, refresh signals only, no key to the page."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from townhall.assistant.consumers_staff import StaffLiveChatConsumer
from townhall.assistant.live import QUEUE_GROUP, conversation_group
from townhall.assistant.models import Conversation
from townhall.people.roles import StaffRole
from townhall.people.services import staff_user_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def memory_layer(settings: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def _communicator(user: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(StaffLiveChatConsumer.as_asgi(), "/ws/console/live-chat/")
    communicator.scope["user"] = user
    return communicator


async def _session(user: Any, watch: int | None, group: str) -> tuple[bool, Any]:
    communicator = _communicator(user)
    connected, _code = await communicator.connect()
    if not connected:
        return False, None
    if watch is not None:
        await communicator.send_json_to({"watch": watch})
        await communicator.send_json_to({"watch": "not a number"})
        await communicator.receive_nothing(timeout=0.2)
    layer = get_channel_layer()
    await layer.group_send(group, {"type": "assistant.event", "event": {"type": "message"}})
    got = (
        None
        if await communicator.receive_nothing(timeout=0.3)
        else await communicator.receive_json_from()
    )
    await communicator.disconnect()
    return True, got


def test_staff_get_refresh_signals_for_the_queue(db: None) -> None:
    agent = staff_user_create(username="ana", role=StaffRole.AGENT, password="pw-for-tests-1")
    connected, got = async_to_sync(_session)(agent, None, QUEUE_GROUP)
    assert connected and got == {"refresh": True}


def test_a_watched_conversation_signals_only_if_the_agent_may_see_it(db: None) -> None:
    agent = staff_user_create(username="ana", role=StaffRole.AGENT, password="pw-for-tests-1")
    other = staff_user_create(username="bo", role=StaffRole.AGENT, password="pw-for-tests-1")
    conversation = Conversation.objects.create(
        key="secret-key-abc", status=Conversation.Status.AGENT, agent=agent
    )
    group = conversation_group(conversation.key)
    assert async_to_sync(_session)(agent, conversation.pk, group) == (True, {"refresh": True})
    # Bo did not take it: watching it joins nothing.
    assert async_to_sync(_session)(other, conversation.pk, group) == (True, None)


def test_residents_and_anonymous_visitors_are_refused(db: None) -> None:
    from django.contrib.auth.models import AnonymousUser

    resident = get_user_model().objects.create_user(username="res", password="pw-for-tests-1")
    for user in (resident, AnonymousUser(), None):
        connected, _got = async_to_sync(_session)(user, None, QUEUE_GROUP)
        assert not connected
