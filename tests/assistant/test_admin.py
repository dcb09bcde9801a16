"""The admin shows conversations read-only with their turns, never their key."""

from __future__ import annotations

from typing import Any

from tests.assistant.conftest import Chat
from townhall.assistant.models import Conversation, SkillExample


def test_conversations_are_read_only_and_keep_their_key_secret(admin_client: Any) -> None:
    chat = Chat()
    chat.say("hello")
    conversation = Conversation.objects.get()
    listing = admin_client.get("/admin/assistant/conversation/")
    assert listing.status_code == 200
    page = admin_client.get(f"/admin/assistant/conversation/{conversation.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "hello" in text  # the turns, inline
    assert conversation.key not in text
    assert admin_client.get("/admin/assistant/conversation/add/").status_code == 403


def test_staff_teach_a_skill_an_example(admin_client: Any) -> None:
    response = admin_client.post(
        "/admin/assistant/skillexample/add/",
        {
            "skill": "waste_schedule",
            "language": "en",
            "text": "when do the bins go",
            "active": "on",
        },
    )
    assert response.status_code == 302
    example = SkillExample.objects.get()
    assert example.added_by is not None
