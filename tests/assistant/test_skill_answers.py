"""Skills that answer: help questions with their source, bin days, case status, permits,
eligibility; and the hand-off to a person."""

from __future__ import annotations

from typing import Any

import pytest

from tests.assistant.conftest import Chat
from townhall.assistant import services_live
from townhall.assistant.models import Conversation
from townhall.cases.services import case_open
from townhall.knowledge.models import SearchLog


def test_a_help_question_is_answered_from_the_article_with_its_link(
    chat: Chat, help_articles: Any
) -> None:
    answer = chat.say("How do I pay my council tax?")
    assert "direct debit" in answer
    assert chat.sources == [
        (
            "How do I pay my council tax?",
            "https://council.example.org/help/how-do-i-pay-my-council-tax/",
        )
    ]
    log = SearchLog.objects.get()
    assert log.source == "assistant" and log.answered
    assert Conversation.objects.get(key=chat.key).outcome == "contained"


def test_bin_days_at_an_address_with_the_calendar_and_reminder_links(chat: Chat, home: Any) -> None:
    answer = chat.say("when are my bins collected?")
    assert "What is your address?" in answer
    answer = chat.say("100 Queen Street West")
    assert "Next collections at 100 Queen Street West:" in answer
    assert answer.count("•") == 4
    urls = [url for _title, url in chat.sources]
    assert f"https://council.example.org/bins/{home.pk}/calendar.ics" in urls
    assert f"https://council.example.org/bins/{home.pk}/reminders/" in urls
    assert Conversation.objects.get(key=chat.key).outcome == "contained"


def test_bin_days_say_when_a_holiday_moves_a_collection(chat: Chat, home: Any) -> None:
    import time_machine

    # Christmas Day 2024 is a Wednesday: that collection moved to Boxing Day.
    with time_machine.travel("2024-12-20 10:00 -05:00", tick=False):
        answer = chat.say("bin day at 100 Queen Street West")
    assert "Thursday 26 December 2024" in answer
    assert "(moved from Wednesday 25 December 2024: Christmas" in answer


def test_an_unknown_address_for_bin_days_is_asked_again(chat: Chat, home: Any) -> None:
    chat.say("bin days please")
    answer = chat.say("Atlantis Boulevard")
    assert "couldn't find “Atlantis Boulevard”" in answer
    assert Conversation.objects.get(key=chat.key).state["frame"]["skill"] == "waste_schedule"


def test_bin_days_in_spanish(home: Any) -> None:
    chat = Chat(language="es")
    answer = chat.say("¿qué día es la recogida de basura?")
    assert "¿Cuál es su dirección?" in answer
    answer = chat.say("100 Queen Street West")
    assert "Próximas recogidas en 100 Queen Street West:" in answer
    assert " de " in answer  # dates written in Spanish


def test_case_status_by_reference_shows_what_the_tracking_page_shows(
    chat: Chat, pothole: Any
) -> None:
    case = case_open(
        service_type=pothole, channel="web", answers={"size": "small"}, description="Hole"
    )
    answer = chat.say(f"what is the status of {case.reference}")
    assert f"{case.reference} (Pothole): New." in answer
    assert "Hole" not in answer  # no description, no contact: only the public facts
    assert any(case.reference in url for _t, url in chat.sources)


def test_a_bad_reference_is_explained_and_asked_again(chat: Chat, pothole: Any) -> None:
    answer = chat.say("check my request status")
    assert "What is the reference?" in answer
    answer = chat.say("my number is 12")
    assert "doesn't look like a reference" in answer
    answer = chat.say("TH-26-999999")
    assert "couldn't find a request with the reference TH-26-999999" in answer


def test_a_personal_service_case_is_not_shown_by_reference(chat: Chat, no_heat: Any) -> None:
    type(no_heat).objects.filter(pk=no_heat.pk).update(personal=True)
    case = case_open(service_type=no_heat, channel="web", answers={}, description="Cold flat")
    answer = chat.say(f"status {case.reference}")
    assert "couldn't find a request" in answer


def test_the_permit_finder_asks_its_questions_then_lists_the_permits(chat: Chat, db: None) -> None:
    answer = chat.say("do I need a permit for an extension")
    assert "What do you want to do?" in answer
    assert "Build an extension" in chat.quick
    answer = chat.say("Build an extension")
    assert "How big is the extension?" in answer
    answer = chat.say("More than 15 square metres")
    assert "listed or in a conservation area" in answer
    answer = chat.say("No")
    while "You need:" not in answer and chat.quick:
        answer = chat.say(chat.quick[-1])
    assert "You need:" in answer and "Total fee" in answer
    assert any("/permits/" in url for _t, url in chat.sources)


def test_eligibility_asks_only_what_the_decision_needs_and_explains_it(
    chat: Chat, db: None
) -> None:
    answer = chat.say("am I eligible for council tax reduction")
    assert "council tax reduction" in answer.lower()
    assert "Do you live in the town" in answer
    answer = chat.say("no")
    assert "not likely to be eligible" in answer
    assert "only for people who pay council tax in the town" in answer
    assert any("/check/council_tax_reduction/" in url for _t, url in chat.sources)
    # The circumstances typed are not kept once answered.
    assert Conversation.objects.get(key=chat.key).state["frame"] is None


def test_eligibility_re_asks_an_answer_it_cannot_read(chat: Chat, db: None) -> None:
    chat.say("do I qualify for council tax reduction")
    chat.say("yes")
    answer = chat.say("banana")
    assert "didn't understand that answer" in answer


def test_asking_for_a_person_hands_the_conversation_off(
    chat: Chat, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, str]] = []

    def handoff(*, conversation: Any, reason: str) -> None:
        calls.append((conversation.pk, reason))
        conversation.status = Conversation.Status.QUEUED

    monkeypatch.setattr(services_live, "conversation_handoff", handoff)
    answer = chat.say("I want to speak to a person")
    assert "passing you to a member of staff" in answer
    conversation = Conversation.objects.get(key=chat.key)
    assert calls == [(conversation.pk, "asked")]
    assert conversation.status == "queued" and conversation.outcome == "handed_off"
    assert chat.last is not None and chat.last.status == "queued"


def test_the_buttons_start_their_skill_and_ask_what_it_needs(
    chat: Chat, help_articles: Any
) -> None:
    chat.say("hello")
    answer = chat.say("Check what I can get")
    assert "Which support would you like to check?" in answer
    assert "Council tax reduction" in chat.quick
    answer = chat.say("Council tax reduction")
    assert "Do you live in the town" in answer
    answer = chat.say("Ask a question")  # another button: a digression
    assert answer == "What would you like to know?"
    answer = chat.say("How do I pay my council tax?")
    assert "direct debit" in answer
    assert "Back to your eligibility check: Do you live in the town" in answer


def test_thumbs_on_a_help_answer_count_for_the_article(chat: Chat, help_articles: Any) -> None:
    from townhall.assistant.services import turn_rate
    from townhall.knowledge.selectors import article_feedback_counts

    chat.say("How do I pay my council tax?")
    assert chat.last is not None
    answer = chat.last.messages[0]
    article = answer.extra["article"]
    turn_rate(conversation=chat.key or "", turn_id=answer.turn or 0, helpful=True)
    turn_rate(conversation=chat.key or "", turn_id=answer.turn or 0, helpful=False)
    counts = article_feedback_counts(article_id=article)
    assert counts == {"yes": 1, "no": 0}


def test_eligibility_with_numbers_gives_the_amount_and_next_steps(chat: Chat, db: None) -> None:
    chat.say("am I eligible for council tax reduction")
    replies = {
        "Do you live in the town": "yes",
        "receive income support": "no",
        "How many people": "3 people",
        "total yearly income": "$30,000",
        "in savings": "about 5000",
        "yearly council tax bill": "1,200",
    }
    answer = chat.say("yes")
    for _ in range(8):
        key = next((k for k in replies if k in answer), None)
        if key is None:
            break
        answer = chat.say(replies[key])
    assert "You are likely to be eligible for Council tax reduction." in answer
    assert "Amount: $360." in answer  # 30 % of the bill in the version in force
    assert "Apply online" in answer
