"""Tone and hand-off: a frustrated resident is passed to a person once; while a person owns
the conversation the assistant is silent and relays; outcomes give the rates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.assistant.conftest import Chat
from townhall.assistant import services_live
from townhall.assistant.models import Conversation, Turn
from townhall.assistant.selectors import assistant_metrics
from townhall.assistant.services import conversations_abandon_idle, turn_rate
from townhall.core import clock
from townhall.experience import tone


@pytest.fixture
def handoffs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    calls: list[tuple[int, str]] = []

    def handoff(*, conversation: Any, reason: str) -> None:
        calls.append((conversation.pk, reason))
        conversation.status = Conversation.Status.QUEUED

    monkeypatch.setattr(services_live, "conversation_handoff", handoff)
    return calls


def test_every_resident_turn_is_scored_and_a_frustrated_one_goes_to_a_person(
    chat: Chat, handoffs: list[tuple[int, str]], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    seen: list[tuple[str, tuple[str, ...], int]] = []

    def score(text: str, *, previous: Any = (), fallbacks: int = 0) -> float:
        seen.append((text, tuple(previous), fallbacks))
        return 0.9 if text.isupper() else 0.1

    monkeypatch.setattr(tone, "frustration_score", score)
    settings.TOWNHALL_ASSISTANT_HANDOFF_THRESHOLD = 0.6
    chat.say("zzz qqq")
    assert Turn.objects.get(role="resident").frustration == 0.1
    answer = chat.say("THIS IS USELESS")
    assert seen[-1] == ("THIS IS USELESS", ("zzz qqq",), 1)
    assert "sorry this has been frustrating" in answer
    conversation = Conversation.objects.get(key=chat.key)
    assert handoffs == [(conversation.pk, "frustrated")]
    assert conversation.frustration == 0.9 and conversation.outcome == "handed_off"
    assert conversation.handoff_reason == "frustrated"


def test_while_a_person_owns_the_conversation_the_assistant_is_silent_and_relays(
    chat: Chat, handoffs: list[tuple[int, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    relayed: list[str] = []
    monkeypatch.setattr(
        services_live,
        "resident_message_relay",
        lambda *, conversation, turn: relayed.append(turn.text),
    )
    chat.say("can I talk to a person")
    bot_turns = Turn.objects.filter(role="bot").count()
    reply = chat.say("hello? is anyone there")
    assert reply == "" and chat.last is not None and chat.last.messages == ()
    assert chat.last.status == "queued"
    assert relayed == ["hello? is anyone there"]
    assert Turn.objects.filter(role="bot").count() == bot_turns
    assert Turn.objects.filter(role="resident").count() == 2


def test_the_metrics_give_containment_hand_off_fallback_and_abandonment_rates(
    db: None, handoffs: list[tuple[int, str]], help_articles: Any
) -> None:
    answered = Chat()
    answered.say("How do I pay my council tax?")
    assert answered.last is not None
    turn_rate(
        conversation=answered.key or "", turn_id=answered.last.messages[0].turn or 0, helpful=True
    )
    handed = Chat()
    handed.say("a person please")
    lost = Chat()
    lost.say("blorp zzz")
    later = clock.now() + dt.timedelta(hours=2)
    assert conversations_abandon_idle(idle=dt.timedelta(minutes=30), now=later) == 2
    assert Conversation.objects.get(key=lost.key).outcome == "abandoned"
    assert Conversation.objects.get(key=answered.key).outcome == "contained"
    since = clock.now() - dt.timedelta(days=1)
    metrics = assistant_metrics(since=since, until=later)
    assert metrics["conversations"] == 3
    assert metrics["containment_rate"] == round(1 / 3, 4)
    assert metrics["handoff_rate"] == round(1 / 3, 4)
    assert metrics["abandonment_rate"] == round(1 / 3, 4)
    assert metrics["fallback_rate"] == round(1 / 3, 4)
    assert (metrics["thumbs_up"], metrics["thumbs_down"]) == (1, 0)


def test_idle_conversations_are_closed_by_the_scheduler(chat: Chat, settings: Any) -> None:
    from townhall.assistant.tasks import conversations_abandon_idle_task

    paths = [path for path, _every in settings.TOWNHALL_PERIODIC_TASKS]
    assert "townhall.assistant.tasks.conversations_abandon_idle_task" in paths
    chat.say("am I eligible for council tax reduction")
    chat.say("yes")  # a circumstance, kept only while the check is under way
    Conversation.objects.update(updated_at=clock.now() - dt.timedelta(hours=1))
    assert conversations_abandon_idle_task.call() == 1
    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.outcome) == ("closed", "abandoned")
    assert conversation.state == {}
    # Writing again reopens it with the assistant.
    chat.say("hello")
    assert Conversation.objects.get().status == "bot"


def test_a_signed_in_resident_sees_their_own_requests(resident: Any, pothole: Any) -> None:
    from townhall.cases.services import case_open

    case = case_open(
        service_type=pothole,
        channel="web",
        answers={"size": "small"},
        description="Hole",
        reporter=resident,
    )
    chat = Chat(citizen_id=resident.pk)
    answer = chat.say("what is the status of my request")
    assert "Your requests:" in answer and f"{case.reference} (Pothole): New." in answer
    # The same words without a sign-in ask for a reference.
    assert "What is the reference?" in Chat().say("what is the status of my request")


def test_the_person_taking_over_sees_what_the_assistant_understood(
    elm: Any, pothole: Any, handoffs: list[tuple[int, str]]
) -> None:
    from townhall.assistant.selectors import conversation_understood

    chat = Chat()
    chat.say("report a pothole at 12 Elm Street")
    chat.say("large")
    chat.say("talk to a person")
    understood = conversation_understood(conversation=Conversation.objects.get(key=chat.key))
    assert understood["tasks"] == [
        {
            "skill": "report_issue",
            "slots": {"service": "pothole", "answers": {"size": "large"}, "place": "P1"},
        }
    ]
    assert understood["skills"] == ["report_issue", "report_issue", "human_handoff"]


def test_asking_for_a_person_in_the_middle_of_a_question_is_not_taken_as_its_answer(
    chat: Chat, pothole: Any, handoffs: list[tuple[int, str]]
) -> None:
    assert "What do you want to do?" in chat.say("Do I need a permit to put a skip on the road?")
    chat.say("I want to talk to a person")
    conversation = Conversation.objects.get(key=chat.key)
    assert handoffs == [(conversation.pk, "asked")]
    other = Chat()
    assert "How big is it?" in other.say("I want to report a pothole")
    other.say("can I speak to someone")
    assert handoffs[-1] == (Conversation.objects.get(key=other.key).pk, "asked")
    # (An answer that merely mentions people, "3 people", still answers its question:
    # test_eligibility_with_numbers_gives_the_amount_and_next_steps.)
