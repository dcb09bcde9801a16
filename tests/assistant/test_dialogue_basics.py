"""The engine's own moves: greeting, the two-step fallback, clarifying, start again, cancel,
and every turn stored."""

from __future__ import annotations

from typing import Any

from tests.assistant.conftest import Chat
from townhall.assistant.models import Conversation, Turn
from townhall.knowledge.models import SearchLog


def test_a_greeting_says_what_the_assistant_can_do(chat: Chat) -> None:
    answer = chat.say("Hello")
    assert "council's assistant" in answer
    assert "Bin days" in chat.quick and "Report a problem" in chat.quick
    conversation = Conversation.objects.get(key=chat.key)
    turns = list(conversation.turns.values_list("role", "skill"))
    assert turns == [("resident", "greeting"), ("bot", "greeting")]


def test_the_fallback_first_asks_to_rephrase_then_offers_help_pages_and_a_person(
    chat: Chat, help_articles: Any
) -> None:
    first = chat.say("zxqv blorp")
    assert "say it another way" in first
    assert "Talk to a person" not in chat.quick
    second = chat.say("the flibber is wonky")
    assert "couldn't find an answer" in second
    assert chat.quick == ["Talk to a person"]
    assert chat.sources  # the help pages, or the help search itself
    conversation = Conversation.objects.get(key=chat.key)
    assert conversation.state["fallbacks"] == 2
    resident = conversation.turns.filter(role=Turn.Role.RESIDENT)
    assert all(t.data.get("fallback") for t in resident)
    # Both questions are in the knowledge gap report, as the assistant's.
    assert SearchLog.objects.filter(source="assistant", answered=False).count() == 2
    # Something understood resets the count.
    chat.say("hello")
    assert Conversation.objects.get(key=chat.key).state["fallbacks"] == 0


def test_two_close_skills_get_a_clarifying_question(
    chat: Chat, help_articles: Any, monkeypatch: Any
) -> None:
    from townhall.assistant import nlu
    from townhall.assistant.nlu import Candidate, Understanding

    understand = nlu.understand

    def close_call(text: str, *, language: str = "en") -> Understanding:
        if text != "parking":
            return understand(text, language=language)
        candidates = (Candidate("faq", 0.5), Candidate("permit_finder", 0.49))
        return Understanding("faq", 0.5, candidates=candidates, ambiguous=True)

    monkeypatch.setattr(nlu, "understand", close_call)
    answer = chat.say("parking")
    assert "Did you mean" in answer
    assert chat.quick == ["Ask a question", "Do I need a permit?"]
    answer = chat.say("Do I need a permit?")
    assert "What do you want to do?" in answer
    assert Conversation.objects.get(key=chat.key).state["clarify"] is None


def test_start_again_and_cancel_drop_what_was_under_way(chat: Chat, elm: Any) -> None:
    chat.say("I want to report a pothole")
    assert Conversation.objects.get(key=chat.key).state["frame"]["skill"] == "report_issue"
    answer = chat.say("start again")
    assert "start again" in answer.lower()
    assert Conversation.objects.get(key=chat.key).state["frame"] is None
    chat.say("report a pothole")
    answer = chat.say("cancel")
    assert "cancelled" in answer
    assert Conversation.objects.get(key=chat.key).state["frame"] is None


def test_every_answer_has_its_turn_id_for_thumbs(chat: Chat) -> None:
    chat.say("hello")
    assert chat.last is not None
    ids = [m.turn for m in chat.last.messages]
    assert all(ids)
    assert set(Turn.objects.filter(pk__in=ids).values_list("role", flat=True)) == {"bot"}


def test_a_skill_that_fails_gets_an_apology_not_a_500(
    chat: Chat, monkeypatch: Any, caplog: Any
) -> None:
    from townhall.assistant import dialogue

    def broken(ctx: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setitem(dialogue.HANDLERS, "greeting", broken)
    answer = chat.say("hello, my secret is 1234")
    assert "something went wrong" in answer
    assert chat.quick == ["Talk to a person"]
    assert "1234" not in caplog.text  # the words are never logged
    assert Turn.objects.filter(role="resident", skill="error").count() == 1
