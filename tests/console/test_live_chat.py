"""The console's live-chat pages: who sees the queue, take, reply, release, close, teach;
URLs carry the row id, never the resident's key."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import signed_in
from townhall.assistant import live
from townhall.assistant.models import Conversation, SkillExample, Turn
from townhall.knowledge.services import search_record

KEY = "resident-secret-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def no_channel_layer(monkeypatch: Any) -> None:
    monkeypatch.setattr(live, "conversation_push", lambda key, event: None)
    monkeypatch.setattr(live, "queue_push", lambda event: None)


@pytest.fixture
def queued(db: None) -> Conversation:
    conversation = Conversation.objects.create(
        key=KEY,
        status=Conversation.Status.QUEUED,
        handoff_reason="frustrated",
        frustration=0.83,
        state={
            "skill": "report_issue",
            "slots": {"service": "pothole", "address": {"label": "1 Main St"}},
        },
    )
    Turn.objects.create(
        conversation=conversation, role="resident", text="the pothole is STILL there"
    )
    return conversation


def test_the_queue_shows_what_the_bot_understood(staff: Any, queued: Conversation) -> None:
    response = signed_in(staff["agent"]).get("/console/live-chat/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "the pothole is STILL there" in body
    assert "report_issue" in body and "1 Main St" in body and "0.83" in body
    assert "Sounded frustrated" in body
    assert f"/console/live-chat/{queued.pk}/take/" in body
    assert KEY not in body
    # The htmx poll gets the table alone.
    fragment = signed_in(staff["agent"]).get("/console/live-chat/", HTTP_HX_REQUEST="true")
    assert fragment.content.decode().startswith('<div id="live-queue"')


def test_residents_and_strangers_are_refused(
    staff: Any, queued: Conversation, settings: Any
) -> None:
    assert signed_in(staff["resident"]).get("/console/live-chat/").status_code == 403
    anonymous = signed_in(staff["resident"])
    anonymous.logout()
    assert anonymous.get("/console/live-chat/").status_code == 302
    settings.TOWNHALL_LIVE_CHAT_GROUP = "Live chat"
    assert signed_in(staff["agent"]).get("/console/live-chat/").status_code == 403
    assert (
        signed_in(staff["agent"]).post(f"/console/live-chat/{queued.pk}/take/").status_code == 403
    )


def test_take_reply_and_close(staff: Any, queued: Conversation) -> None:
    agent = signed_in(staff["agent"])
    response = agent.post(f"/console/live-chat/{queued.pk}/take/")
    assert response.status_code == 302
    assert response["Location"] == f"/console/live-chat/{queued.pk}/"
    page = agent.get(response["Location"]).content.decode()
    assert "Agent has joined the chat." in page and 'id="reply-text"' in page
    response = agent.post(f"/console/live-chat/{queued.pk}/reply/", {"text": "Hello, I'm on it"})
    assert response.status_code == 302
    turn = Turn.objects.get(conversation=queued, role="agent")
    assert turn.text == "Hello, I'm on it" and turn.author == staff["agent"]
    turns = agent.get(f"/console/live-chat/{queued.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert turns.startswith('<div id="live-turns"') and "Hello, I&#x27;m on it" in turns
    agent.post(f"/console/live-chat/{queued.pk}/close/")
    queued.refresh_from_db()
    assert queued.status == "closed" and queued.outcome == "handed_off"


def test_a_colleague_cannot_answer_or_see_a_chat_someone_took(
    staff: Any, queued: Conversation
) -> None:
    signed_in(staff["agent"]).post(f"/console/live-chat/{queued.pk}/take/")
    other = signed_in(staff["caseworker"])
    assert other.get(f"/console/live-chat/{queued.pk}/").status_code == 404
    response = other.post(f"/console/live-chat/{queued.pk}/reply/", {"text": "I'm Keisha"})
    assert response.status_code == 302 and response["Location"] == "/console/live-chat/"
    assert not Turn.objects.filter(role="agent").exists()
    response = other.post(f"/console/live-chat/{queued.pk}/take/", follow=True)
    assert "Someone else has taken this conversation." in response.content.decode()


def test_teach_the_assistant_from_unanswered_questions(staff: Any, db: None) -> None:
    search_record(
        query="when do the bin men come",
        top_score=0.1,
        top_article_id=None,
        answered=False,
        language="en",
        source="assistant",
    )
    agent = signed_in(staff["agent"])
    page = agent.get("/console/live-chat/teach/").content.decode()
    assert "when do the bin men come" in page and "waste_schedule" in page
    response = agent.post(
        "/console/live-chat/teach/",
        {"text": "when do the bin men come", "skill": "waste_schedule", "language": "en"},
        follow=True,
    )
    assert "will now recognise" in response.content.decode()
    example = SkillExample.objects.get()
    assert (example.skill, example.text, example.added_by) == (
        "waste_schedule",
        "when do the bin men come",
        staff["agent"],
    )
    response = agent.post("/console/live-chat/teach/", {"text": "x", "skill": "nope"}, follow=True)
    assert "Choose a skill." in response.content.decode()


def test_a_supervisor_sees_a_colleagues_chat_and_gives_it_back(
    staff: Any, queued: Conversation
) -> None:
    signed_in(staff["agent"]).post(f"/console/live-chat/{queued.pk}/take/")
    supervisor = signed_in(staff["supervisor"])
    queue = supervisor.get("/console/live-chat/").content.decode()
    assert "With Agent" in queue
    page = supervisor.get(f"/console/live-chat/{queued.pk}/").content.decode()
    assert 'id="reply-text"' not in page and "Give back to the queue" in page
    response = supervisor.post(f"/console/live-chat/{queued.pk}/reply/", {"text": "hi"})
    assert not Turn.objects.filter(role="agent").exists()
    response = supervisor.post(f"/console/live-chat/{queued.pk}/release/")
    assert response.status_code == 302
    queued.refresh_from_db()
    assert queued.status == "queued" and queued.agent is None


def test_reading_a_signed_in_residents_chat_is_logged(staff: Any, queued: Conversation) -> None:
    from townhall.core.models import SecurityEvent
    from townhall.people.services import citizen_resolve

    citizen = citizen_resolve(email="rosa@example.org")
    Conversation.objects.filter(pk=queued.pk).update(citizen=citizen)
    signed_in(staff["agent"]).get(f"/console/live-chat/{queued.pk}/")
    event = SecurityEvent.objects.filter(subject=f"citizen:{citizen.pk}").get()
    assert event.detail["via"] == "live chat"
    assert KEY not in str(event.detail)
