"""The chat transport: the WebSocket consumer (in-process, through the real ASGI stack with
the in-memory channel layer) and the live pushes to a conversation's sockets.

The dialogue engine is another module: where a test needs a conversation key it replaces
`message_receive` with a stand-in that answers for a real Conversation row, so the tests
hold whatever the engine says.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from townhall.asgi import application, websocket_application
from townhall.assistant import services
from townhall.assistant.live import conversation_group, conversation_push
from townhall.assistant.models import Conversation, Turn
from townhall.assistant.replies import BotMessage, QuickReply, Reply, Source

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = [(b"origin", b"http://testserver")]


def run(test: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(test)()


async def connected(headers: list[tuple[bytes, bytes]] | None = None) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, "/ws/assistant/", headers=headers or ORIGIN)
    ok, _ = await socket.connect()
    assert ok
    return socket


async def ask(socket: WebsocketCommunicator, payload: dict[str, Any]) -> dict[str, Any]:
    await socket.send_to(text_data=json.dumps(payload))
    return dict(json.loads(await socket.receive_from(timeout=5)))


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A stand-in engine: starts or continues a real conversation, answers with quick
    replies and a source, and records what it was given."""
    calls: list[dict[str, Any]] = []

    def message_receive(**kwargs: Any) -> Reply:
        calls.append(kwargs)
        key = kwargs["conversation"] or secrets.token_urlsafe(16)
        conversation, _ = Conversation.objects.get_or_create(key=key)
        Turn.objects.create(conversation=conversation, role="resident", text=kwargs["text"])
        turn = Turn.objects.create(conversation=conversation, role="bot", text="An answer")
        return Reply(
            conversation=key,
            messages=(
                BotMessage(
                    text="An answer",
                    quick_replies=(QuickReply(label="Bins", text="When are my bins?"),),
                    sources=(Source(title="Bins", url="/help/bins/"),),
                    turn=turn.pk,
                ),
            ),
        )

    monkeypatch.setattr(services, "message_receive", message_receive)
    return calls


def test_a_message_gets_the_engines_reply_as_json(db: None) -> None:
    # (the engine as it is: the skeleton echoes; the real one answers; either way a reply)
    async def test() -> None:
        socket = await connected()
        answer = await ask(socket, {"type": "message", "conversation": None, "text": "Hi", "id": 7})
        assert answer["type"] == "reply" and answer["id"] == 7
        assert answer["messages"] and answer["messages"][0]["text"]
        assert {"conversation", "status"} <= answer.keys()
        await socket.disconnect()

    run(test)


def test_the_reply_carries_quick_replies_sources_and_turn_ids(engine: list[Any]) -> None:
    async def test() -> None:
        socket = await connected()
        answer = await ask(
            socket,
            {"type": "message", "text": "bins", "language": "es", "photos": ["tok", 3]},
        )
        message = answer["messages"][0]
        assert message["quick_replies"] == [{"label": "Bins", "text": "When are my bins?"}]
        assert message["sources"] == [{"title": "Bins", "url": "/help/bins/"}]
        assert isinstance(message["turn"], int)
        await socket.disconnect()

    run(test)
    # the engine heard the resident's language and only the photo tokens that are text
    assert engine[0]["language"] == "es" and engine[0]["photos"] == ["tok"]
    assert engine[0]["channel"] == "web" and engine[0]["citizen_id"] is None


def test_an_agents_message_reaches_the_residents_socket_in_real_time(engine: list[Any]) -> None:
    async def test() -> None:
        socket = await connected()
        answer = await ask(socket, {"type": "message", "text": "I want a person"})
        key = answer["conversation"]
        # an agent answers from the console (a sync service calling live.conversation_push)
        await sync_to_async(conversation_push)(
            key,
            {"type": "message", "messages": [{"text": "Hello, I am Sam", "role": "agent"}]},
        )
        pushed = json.loads(await socket.receive_from(timeout=5))
        assert pushed["type"] == "message" and pushed["conversation"] == key
        assert pushed["messages"][0]["role"] == "agent"
        await sync_to_async(conversation_push)(key, {"type": "status", "status": "agent"})
        assert json.loads(await socket.receive_from(timeout=5))["status"] == "agent"
        await socket.disconnect()

    run(test)


def test_a_socket_hears_only_conversations_whose_key_it_holds(engine: list[Any]) -> None:
    async def test() -> None:
        resident = await connected()
        key = (await ask(resident, {"type": "message", "text": "hello"}))["conversation"]
        stranger = await connected()
        guessed = await ask(stranger, {"type": "join", "conversation": key[:-1] + "x"})
        assert guessed["type"] == "error" and guessed["code"] == "unknown_conversation"
        await sync_to_async(conversation_push)(key, {"type": "status", "status": "agent"})
        assert json.loads(await resident.receive_from(timeout=5))["status"] == "agent"
        assert await stranger.receive_nothing(timeout=0.3)
        await resident.disconnect()
        await stranger.disconnect()

    run(test)


def test_rejoining_replays_what_an_agent_said_since_and_the_whole_chat_on_request(
    engine: list[Any],
) -> None:
    async def test() -> None:
        first = await connected()
        key = (await ask(first, {"type": "message", "text": "hello"}))["conversation"]
        await first.disconnect()
        conversation = await Conversation.objects.aget(key=key)
        await Turn.objects.acreate(conversation=conversation, role="agent", text="Still there?")
        again = await connected()
        joined = await ask(again, {"type": "join", "conversation": key, "after": 0})
        assert joined["type"] == "joined" and joined["status"] == "bot"
        assert [m["text"] for m in joined["messages"]] == ["Still there?"]
        assert joined["messages"][0]["role"] == "agent"
        everything = await ask(again, {"type": "join", "conversation": key, "history": True})
        assert [m["role"] for m in everything["messages"]] == ["resident", "bot", "agent"]
        await again.disconnect()

    run(test)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"type": "launch_missiles"}', "unknown_type"),
        ('{"type": "message", "text": "   "}', "empty"),
        ('{"type": "message", "text": "' + "a" * 2500 + '"}', "too_big"),
        ('{"type": "message", "text": "' + "a" * 20000 + '"}', "too_big"),
        (
            '{"type": "rating", "conversation": "nope", "turn": 1, "helpful": true}',
            "unknown_conversation",
        ),
    ],
)
def test_bad_input_gets_a_polite_error_and_the_socket_stays_open(
    db: None, frame: str, code: str
) -> None:
    async def test() -> None:
        socket = await connected()
        await socket.send_to(text_data=frame)
        error = json.loads(await socket.receive_from(timeout=5))
        assert error["type"] == "error" and error["code"] == code and error["message"]
        assert (await ask(socket, {"type": "ping"})) == {"type": "pong"}
        await socket.disconnect()

    run(test)


def test_binary_frames_are_refused_politely(db: None) -> None:
    async def test() -> None:
        socket = await connected()
        await socket.send_to(bytes_data=b"\x00\xff\x10" * 100)
        assert json.loads(await socket.receive_from(timeout=5))["code"] == "binary"
        await socket.disconnect()

    run(test)


def test_a_flood_is_slowed_then_cut_off(db: None, settings: Any) -> None:
    settings.TOWNHALL_ASSISTANT_TRANSPORT = {
        **settings.TOWNHALL_ASSISTANT_TRANSPORT,
        "MESSAGES_PER_MINUTE": 5,
    }

    async def test() -> None:
        socket = await connected()
        codes = []
        for n in range(40):
            await socket.send_to(text_data=json.dumps({"type": "message", "text": f"m{n}"}))
            output = await socket.receive_output(timeout=5)
            if output["type"] == "websocket.close":
                codes.append(f"closed {output['code']}")
                break
            codes.append(json.loads(output["text"]).get("code", "reply"))
        assert codes[:5] == ["reply"] * 5  # the burst goes through
        assert codes[5] == "rate_limited"
        assert codes[-1] == "closed 4029"  # a client that ignores the errors is cut off
        await socket.disconnect()

    run(test)


def test_an_engine_failure_is_an_apology_not_a_dead_socket(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> Reply:
        raise RuntimeError("engine down")

    monkeypatch.setattr(services, "message_receive", broken)

    async def test() -> None:
        socket = await connected()
        error = await ask(socket, {"type": "message", "text": "hello"})
        assert error["code"] == "unavailable"
        assert (await ask(socket, {"type": "ping"})) == {"type": "pong"}
        await socket.disconnect()

    run(test)


def test_another_sites_page_cannot_open_the_chat(db: None, settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["townhall.example"]
    settings.TOWNHALL_ASSISTANT_ORIGINS = ["https://www.council.example"]

    async def test() -> None:
        app = websocket_application()  # the origins are read when the server starts
        evil = WebsocketCommunicator(
            app, "/ws/assistant/", headers=[(b"origin", b"https://evil.example")]
        )
        assert not (await evil.connect())[0]
        good = WebsocketCommunicator(
            app, "/ws/assistant/", headers=[(b"origin", b"https://townhall.example")]
        )
        assert (await good.connect())[0]
        await good.disconnect()
        council = WebsocketCommunicator(
            app, "/ws/assistant/", headers=[(b"origin", b"https://www.council.example")]
        )
        assert (await council.connect())[0]  # a council page that embeds the widget
        await council.disconnect()

    run(test)


def test_group_names_are_valid_for_any_key() -> None:
    assert conversation_group("abcDEF123_-xyz") == "assistant.abcDEF123_-xyz"
    odd = conversation_group("ключ with spaces" * 10)
    assert odd.startswith("assistant.h") and len(odd) < 100


def test_a_signed_in_resident_is_known_to_the_engine(engine: list[Any], client: Any) -> None:
    from townhall.people.services import citizen_account_for_email

    citizen = citizen_account_for_email(email="rosa@example.org")
    client.force_login(citizen.user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def test() -> None:
        socket = await connected([*ORIGIN, (b"cookie", cookie)])
        await ask(socket, {"type": "message", "text": "my requests"})
        await socket.disconnect()

    run(test)
    assert engine[0]["citizen_id"] == citizen.pk


def test_one_address_cannot_open_sockets_without_end(db: None, settings: Any) -> None:
    settings.TOWNHALL_RATE_LIMITS = {
        **settings.TOWNHALL_RATE_LIMITS,
        "assistant_connect": "3/minute",
    }

    async def test() -> None:
        opened = []
        for _ in range(4):
            socket = WebsocketCommunicator(application, "/ws/assistant/", headers=ORIGIN)
            opened.append((await socket.connect())[0])
            await socket.disconnect()
        assert opened == [True, True, True, False]

    run(test)
