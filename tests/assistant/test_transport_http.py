"""The widget's HTTP side: settings and CSRF token, photo upload, and the events endpoint
it polls when WebSockets are blocked (the conversation key in a header, never the URL)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from tests.cases.test_photos import jpeg
from townhall.assistant.models import Conversation, Turn
from townhall.intake.staging import photo_unstage

KEY = "k" * 22


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path / "media"


@pytest.fixture
def chat(db: None) -> Conversation:
    conversation = Conversation.objects.create(key=KEY, status="agent")
    Turn.objects.create(conversation=conversation, role="resident", text="A person please")
    Turn.objects.create(conversation=conversation, role="bot", text="Finding someone")
    Turn.objects.create(
        conversation=conversation,
        role="agent",
        text="Hello, Sam here",
        data={"sources": [{"title": "Bins", "url": "/help/bins/"}, {"title": 3}]},
    )
    return conversation


def test_the_transport_endpoint_gives_a_csrf_token_and_the_limits(client: Client) -> None:
    response = client.get("/api/assistant/transport")
    body = response.json()
    assert response.status_code == 200 and body["csrf_token"]
    assert "csrftoken" in response.cookies
    assert body["poll_seconds"] > 0 and body["max_text"] == 2000
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_events_give_what_the_agent_said_after_a_turn(client: Client, chat: Any) -> None:
    response = client.get("/api/assistant/events?after=0", headers={"X-Conversation": KEY})
    body = response.json()
    assert response.status_code == 200 and body["status"] == "agent"
    assert [(m["role"], m["text"]) for m in body["messages"]] == [("agent", "Hello, Sam here")]
    assert body["messages"][0]["sources"] == [{"title": "Bins", "url": "/help/bins/"}]
    last = body["messages"][0]["turn"]
    later = client.get(f"/api/assistant/events?after={last}", headers={"X-Conversation": KEY})
    assert later.json()["messages"] == []


def test_history_redraws_the_whole_chat(client: Client, chat: Any) -> None:
    response = client.get("/api/assistant/events?history=1", headers={"X-Conversation": KEY})
    assert [m["role"] for m in response.json()["messages"]] == ["resident", "bot", "agent"]


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/assistant/events", {}, 400),  # no key
        ("/api/assistant/events", {"X-Conversation": "guess"}, 404),
        ("/api/assistant/events?after=x", {"X-Conversation": KEY}, 400),
        (f"/api/assistant/events?conversation={KEY}", {}, 400),  # never from the URL
    ],
)
def test_bad_event_requests_get_a_json_4xx(
    client: Client, chat: Any, path: str, headers: dict[str, str], status: int
) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["message"]


def test_polling_is_rate_limited(client: Client, chat: Any, settings: Any) -> None:
    settings.TOWNHALL_RATE_LIMITS = {
        **settings.TOWNHALL_RATE_LIMITS,
        "assistant_events": "3/minute",
    }
    codes = [
        client.get("/api/assistant/events", headers={"X-Conversation": KEY}).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_a_photo_is_checked_stripped_of_exif_and_staged(client: Client, media: Any) -> None:
    raw = jpeg(gps=(42.36, -71.09))
    upload = SimpleUploadedFile("pothole.jpg", raw, content_type="image/jpeg")
    response = client.post("/api/assistant/photos", {"photo": upload})
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "pothole.jpg" and body["width"] == 640
    photo = photo_unstage(body["photo"])  # the token the next message sends
    stored = Image.open(io.BytesIO(photo.content))
    assert dict(stored.getexif()) == {}  # no EXIF kept ...
    assert photo.lat == pytest.approx(42.36, abs=1e-3)  # ... but its location was read first
    assert len(list((media / "staging").iterdir())) == 1


@pytest.mark.parametrize(
    ("files", "status", "code"),
    [
        ({}, 400, "no_photo"),
        ({"photo": ("notes.jpg", b"%PDF-1.4 not a photo")}, 400, "invalid_photo"),
        ({"photo": ("empty.jpg", b"")}, 400, "invalid_photo"),
    ],
)
def test_bad_uploads_get_a_json_4xx(
    client: Client, media: Any, files: dict[str, Any], status: int, code: str
) -> None:
    data = {k: SimpleUploadedFile(name, raw) for k, (name, raw) in files.items()}
    response = client.post("/api/assistant/photos", data)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_an_oversized_upload_is_refused_before_it_is_decoded(
    client: Client, media: Any, settings: Any
) -> None:
    settings.TOWNHALL_PHOTO_MAX_BYTES = 1000
    upload = SimpleUploadedFile("big.jpg", jpeg(), content_type="image/jpeg")
    response = client.post("/api/assistant/photos", {"photo": upload})
    assert response.status_code == 413


def test_uploads_need_the_csrf_token(media: Any, db: None) -> None:
    strict = Client(enforce_csrf_checks=True)
    upload = SimpleUploadedFile("p.jpg", jpeg(), content_type="image/jpeg")
    assert strict.post("/api/assistant/photos", {"photo": upload}).status_code == 403
    token = strict.get("/api/assistant/transport").json()["csrf_token"]
    upload = SimpleUploadedFile("p.jpg", jpeg(), content_type="image/jpeg")
    response = strict.post(
        "/api/assistant/photos", {"photo": upload}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201


def test_uploads_are_rate_limited(client: Client, media: Any, settings: Any) -> None:
    settings.TOWNHALL_RATE_LIMITS = {**settings.TOWNHALL_RATE_LIMITS, "assistant_photo": "2/minute"}
    codes = [
        client.post(
            "/api/assistant/photos", {"photo": SimpleUploadedFile("p.jpg", jpeg())}
        ).status_code
        for _ in range(3)
    ]
    assert codes == [201, 201, 429]
