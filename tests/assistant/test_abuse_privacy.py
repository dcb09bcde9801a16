"""Personal details a resident types into a question never reach the knowledge gap log
(shown to staff on the gap report and the teach page, kept past the conversation's
retention and erasure)."""

from __future__ import annotations

from typing import Any

from tests.assistant.conftest import Chat
from townhall.knowledge.models import SearchLog


def test_an_email_address_or_phone_number_in_a_question_is_masked_in_the_gap_log(
    chat: Chat, help_articles: Any
) -> None:
    chat.say("How do I pay my council tax? I am ana.lopez@example.org, call 617-555-0123")
    logged = SearchLog.objects.get()
    assert logged.source == "assistant"
    assert "ana.lopez@example.org" not in logged.query
    assert "555-0123" not in logged.query
    assert "council tax" in logged.query
