"""The HTTP API: the same answers as the engine, and bad input answered with a JSON 4xx."""

from __future__ import annotations

from typing import Any

import orjson
from django.test import Client

from townhall.assistant.models import Conversation, Turn
from townhall.people.services import citizen_resolve

URL = "/api/assistant/messages"


def post(client: Client, body: Any, url: str = URL, **extra: Any) -> Any:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.post(url, raw, content_type="application/json", **extra)


def test_a_first_message_starts_a_conversation_and_the_key_continues_it(
    client: Client, db: None
) -> None:
    first = post(client, {"conversation": None, "text": "hello"})
    assert first.status_code == 200
    body = first.json()
    key = body["conversation"]
    assert len(key) >= 22 and body["status"] == "bot"
    message = body["messages"][0]
    assert "assistant" in message["text"]
    assert {"label": "Bin days", "text": "Bin days"} in message["quick_replies"]
    assert isinstance(message["turn"], int)
    again = post(client, {"conversation": key, "text": "start again"})
    assert again.json()["conversation"] == key
    assert Conversation.objects.count() == 1
    assert Turn.objects.filter(conversation__key=key, role="resident").count() == 2
    assert first["Cache-Control"] == "no-store"


def test_spanish_is_answered_in_spanish(client: Client, db: None) -> None:
    body = post(client, {"text": "hola", "language": "es"}).json()
    assert "asistente del ayuntamiento" in body["messages"][0]["text"]


def test_bad_input_gets_a_json_4xx_never_a_500(client: Client, db: None) -> None:
    assert post(client, b"\x00\xff\xfe binary").status_code == 400
    assert post(client, b"{not json").status_code == 400
    assert post(client, [1, 2]).status_code == 400
    assert post(client, {"text": 12}).status_code == 400
    assert post(client, {"text": "hi", "photos": "x"}).status_code == 400
    assert post(client, {"text": "hi", "photos": ["x"] * 11}).status_code == 400
    assert post(client, {"text": "hi", "language": "x" * 40}).status_code == 400
    assert post(client, {"conversation": 5, "text": "hi"}).status_code == 400
    assert post(client, b"{" + b" " * 40_000 + b"}").status_code == 400
    response = post(client, {"text": "hi", "photos": 3})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "photos"
    assert client.get(URL).status_code == 405
    assert Conversation.objects.count() == 0


def test_an_unknown_or_malformed_key_is_a_404(client: Client, db: None) -> None:
    for key in ["A" * 22, "../../etc", "x", "' or 1=1 --"]:
        response = post(client, {"conversation": key, "text": "hello"})
        assert response.status_code == 404, key
        assert response.json()["errors"][0]["field"] == "conversation"


def test_a_huge_message_is_cut_and_the_resident_told(client: Client, db: None) -> None:
    body = post(client, {"text": "hello " * 2000}).json()
    assert "only its first 2000 characters" in body["messages"][0]["text"]
    turn = Turn.objects.get(role="resident")
    assert len(turn.text) == 2000 and turn.data["cut"] is True


def test_a_flood_is_refused_with_429(client: Client, db: None, settings: Any) -> None:
    settings.TOWNHALL_RATE_LIMITS = {**settings.TOWNHALL_RATE_LIMITS, "assistant": "3/minute"}
    codes = [post(client, {"text": "hello"}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    response = post(client, {"text": "hello"})
    assert response.json()["errors"][0]["message"].startswith("Too many")
    assert response["Retry-After"]


def test_thumbs_up_and_down_are_stored_on_the_answer(client: Client, db: None) -> None:
    body = post(client, {"text": "hello"}).json()
    key, turn = body["conversation"], body["messages"][0]["turn"]
    rate = "/api/assistant/ratings"
    assert (
        post(client, {"conversation": key, "turn": turn, "helpful": True}, rate).status_code == 204
    )
    assert Turn.objects.get(pk=turn).rating == 1
    assert (
        post(client, {"conversation": key, "turn": turn, "helpful": False}, rate).status_code == 204
    )
    assert Turn.objects.get(pk=turn).rating == -1
    resident = Turn.objects.get(role="resident").pk
    assert (
        post(client, {"conversation": key, "turn": resident, "helpful": True}, rate).status_code
        == 404
    )
    other = post(client, {"text": "hello"}).json()["conversation"]
    assert (
        post(client, {"conversation": other, "turn": turn, "helpful": True}, rate).status_code
        == 404
    )
    assert (
        post(client, {"conversation": key, "turn": "1", "helpful": True}, rate).status_code == 400
    )
    assert post(client, {"conversation": key, "turn": turn, "helpful": 1}, rate).status_code == 400


def test_a_signed_in_resident_needs_the_csrf_token_so_no_other_site_reads_their_requests(
    db: None,
) -> None:
    from django.contrib.auth import get_user_model

    citizen = citizen_resolve(name="Ana", email="ana@example.org")
    user = get_user_model().objects.create_user(username="ana", password="pw-for-tests-1")
    citizen.user = user
    citizen.save(update_fields=["user"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = post(client, {"text": "what is the status of my request"})
    assert response.status_code == 403
    # The widget on our own page sends the token: then the resident is known.
    client.get("/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = post(client, {"text": "status of my request"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert "You have no requests with us yet." in response.json()["messages"][0]["text"]
    assert Conversation.objects.get().citizen_id == citizen.pk
    # Anonymous callers act only on their key: no token needed.
    anonymous = Client(enforce_csrf_checks=True)
    assert post(anonymous, {"text": "hello"}).status_code == 200
