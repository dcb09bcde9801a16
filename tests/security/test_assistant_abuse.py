"""The assistant attacked: guessed keys, other people's turns, malformed frames on both
sockets, huge numbers, and staff without the live-chat right (issue 17's security review).

Each test states what an attacker or a careless client tries and what they must get: a
polite 4xx or error frame, nothing of anyone else's, and no traceback in the error log.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from townhall.assistant.consumers import AssistantConsumer
from townhall.assistant.consumers_staff import StaffLiveChatConsumer
from townhall.assistant.live import QUEUE_GROUP
from townhall.assistant.models import Conversation, Turn

MINE, THEIRS = "m" * 22, "t" * 22
HUGE = 10**30  # past any database integer


@pytest.fixture(autouse=True)
def memory_layer(settings: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def _chat(key: str) -> Turn:
    conversation = Conversation.objects.create(key=key, status="bot")
    Turn.objects.create(conversation=conversation, role="resident", text="12 Elm Street")
    return Turn.objects.create(conversation=conversation, role="bot", text="Your bins: Monday")


async def _frames(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    communicator = WebsocketCommunicator(AssistantConsumer.as_asgi(), "/ws/assistant/")
    connected, _code = await communicator.connect()
    assert connected
    answers = []
    for frame in frames:
        await communicator.send_json_to(frame)
        answers.append(await communicator.receive_json_from(timeout=5))
    await communicator.disconnect()
    return answers


def _errors(caplog: Any) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.django_db(transaction=True)
def test_a_guessed_key_over_the_socket_is_refused_politely_not_logged_as_a_failure(
    caplog: Any,
) -> None:
    _chat(MINE)
    with caplog.at_level(logging.INFO):
        (answer,) = async_to_sync(_frames)(
            [{"type": "message", "conversation": "g" * 22, "text": "hello", "id": 1}]
        )
    assert answer["type"] == "error" and answer["code"] == "unknown_conversation"
    assert answer["id"] == 1
    assert _errors(caplog) == []  # a guess per frame must not fill the error log
    assert not Turn.objects.filter(text="hello").exists()


@pytest.mark.django_db(transaction=True)
def test_a_socket_cannot_rate_another_conversations_answer_or_send_huge_numbers(
    caplog: Any,
) -> None:
    _chat(MINE)
    theirs = _chat(THEIRS)
    with caplog.at_level(logging.INFO):
        answers = async_to_sync(_frames)(
            [
                {"type": "join", "conversation": MINE, "after": HUGE},
                # Their answer's id with my key, which this socket holds.
                {"type": "rating", "conversation": MINE, "turn": theirs.pk, "helpful": False},
                {"type": "rating", "conversation": MINE, "turn": HUGE, "helpful": True},
                {"type": "rating", "conversation": MINE, "turn": True, "helpful": True},
                # Their key, never sent in a message or a join by this socket.
                {"type": "rating", "conversation": THEIRS, "turn": theirs.pk, "helpful": False},
            ]
        )
    assert answers[0]["type"] == "joined" and answers[0]["messages"] == []
    assert [a["code"] for a in answers[1:]] == ["unknown_conversation"] * 4
    assert _errors(caplog) == []
    theirs.refresh_from_db()
    assert theirs.rating is None


def test_huge_numbers_over_http_are_a_4xx(client: Client, db: None) -> None:
    bot = _chat(MINE)
    events = client.get(f"/api/assistant/events?after={HUGE}", headers={"X-Conversation": MINE})
    assert events.status_code == 200 and events.json()["messages"] == []
    rating = client.post(
        "/api/assistant/ratings",
        {"conversation": MINE, "turn": HUGE, "helpful": True},
        content_type="application/json",
    )
    assert rating.status_code in {400, 404}
    nested = client.post(
        "/api/assistant/messages", "[" * 10000 + "]" * 10000, content_type="application/json"
    )
    assert nested.status_code == 400
    bot.refresh_from_db()
    assert bot.rating is None


async def _staff_socket(user: Any) -> tuple[bool, Any]:
    communicator = WebsocketCommunicator(StaffLiveChatConsumer.as_asgi(), "/ws/console/live-chat/")
    communicator.scope["user"] = user
    connected, _code = await communicator.connect()
    if not connected:
        return False, None
    await communicator.send_to(text_data="{not json")
    await communicator.send_to(bytes_data=b"\x00\xff")
    await communicator.send_to(text_data='{"watch": ' + "9" * 5000 + "}")
    await communicator.send_json_to(["watch", 1])
    assert await communicator.receive_nothing(timeout=0.2)
    # Still open and listening after the garbage.
    await get_channel_layer().group_send(QUEUE_GROUP, {"type": "assistant.event", "event": {}})
    got = await communicator.receive_json_from(timeout=2)
    await communicator.disconnect()
    return True, got


@pytest.mark.django_db(transaction=True)
def test_the_staff_socket_ignores_malformed_frames_instead_of_crashing() -> None:
    from townhall.people.roles import StaffRole
    from townhall.people.services import staff_user_create

    agent = staff_user_create(username="ana", role=StaffRole.AGENT, password="pw-for-tests-1")
    assert async_to_sync(_staff_socket)(agent) == (True, {"refresh": True})


def test_staff_without_the_live_chat_right_reach_no_live_chat_page(db: None) -> None:
    conversation = Conversation.objects.create(key=MINE, status="queued")
    Turn.objects.create(conversation=conversation, role="resident", text="my phone 07700 900123")
    clerk = get_user_model().objects.create_user(
        username="clerk", password="pw-for-tests-1", is_staff=True
    )
    resident = get_user_model().objects.create_user(username="res", password="pw-for-tests-1")
    base = f"/console/live-chat/{conversation.pk}"
    for user in (clerk, resident):
        client = Client()
        client.force_login(user)
        for url in ("/console/live-chat/", "/console/live-chat/teach/", f"{base}/"):
            response = client.get(url)
            assert response.status_code in {302, 403}, (user, url, response.status_code)
            assert b"07700" not in response.content
        for action in ("take", "reply", "release", "close"):
            response = client.post(f"{base}/{action}/", {"text": "I am the council"})
            assert response.status_code in {302, 403}, (user, action, response.status_code)
    conversation.refresh_from_db()
    assert conversation.status == "queued" and conversation.agent_id is None
    assert not conversation.turns.filter(role="agent").exists()


@pytest.mark.django_db(transaction=True)
def test_staff_without_the_live_chat_right_cannot_open_the_staff_socket() -> None:
    clerk = get_user_model().objects.create_user(
        username="clerk", password="pw-for-tests-1", is_staff=True
    )
    resident = get_user_model().objects.create_user(username="res", password="pw-for-tests-1")
    for user in (clerk, resident):
        assert async_to_sync(_staff_socket)(user) == (False, None)


@pytest.mark.parametrize("url", ["/api/assistant/messages", "/api/assistant/ratings"])
def test_a_body_past_djangos_upload_limit_is_a_json_4xx_not_an_html_page(
    client: Client, db: None, url: str
) -> None:
    response = client.post(url, b"x" * (3 * 2**20), content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "too large" in response.json()["errors"][0]["message"]


def test_a_resident_cannot_speak_as_an_agent_or_the_system(client: Client, db: None) -> None:
    response = client.post(
        "/api/assistant/messages",
        {"text": "Agent Sam here: send me your card number", "role": "agent", "author": 1},
        content_type="application/json",
    )
    assert response.status_code == 200
    key = response.json()["conversation"]
    said = Turn.objects.get(text__startswith="Agent Sam")
    assert said.role == "resident" and said.author_id is None
    # What the widget shows as a person's words (events) holds none of the resident's.
    events = client.get("/api/assistant/events", headers={"X-Conversation": key})
    assert all("Agent Sam" not in m["text"] for m in events.json()["messages"])


def test_the_events_endpoint_takes_the_key_only_from_its_header(client: Client, db: None) -> None:
    _chat(MINE)
    response = client.get(f"/api/assistant/events?conversation={MINE}&key={MINE}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "no_key"


@pytest.mark.django_db(transaction=True)
def test_the_staff_socket_opens_only_from_this_sites_pages(settings: Any) -> None:
    from townhall.people.roles import StaffRole
    from townhall.people.services import staff_user_create

    settings.ALLOWED_HOSTS = ["townhall.example"]
    settings.TOWNHALL_ASSISTANT_ORIGINS = ["https://www.council.example"]
    agent = staff_user_create(username="ana", role=StaffRole.AGENT, password="pw-for-tests-1")

    async def opens(origin: bytes) -> bool:
        communicator = WebsocketCommunicator(
            StaffLiveChatConsumer.as_asgi(), "/ws/console/live-chat/", headers=[(b"origin", origin)]
        )
        communicator.scope["user"] = agent
        connected, _code = await communicator.connect()
        if connected:
            await communicator.disconnect()
        return bool(connected)

    # The council's public site may embed the residents' widget, not reach the console's
    # socket with a member of staff's cookies.
    assert not async_to_sync(opens)(b"https://www.council.example")
    assert async_to_sync(opens)(b"https://townhall.example")
