"""The assistant's `notices` skill (issue 21): notices near an address, recalls, and the
batch-code check, rate-limited so a chat cannot enumerate codes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.assistant.conftest import Chat
from tests.notices.conftest import FAR, recall, recalls, road_works_draft, roadworks
from townhall.notices.services import notice_create, notice_publish, notice_withdraw
from townhall.places.models import Place

__all__ = ["recall", "recalls", "roadworks"]


@pytest.fixture
def works(roadworks: Any, elm: list[Place]) -> Any:
    """Road works around 12 Elm Street (the notices tests' HOME is beside it)."""
    return notice_publish(road_works_draft(roadworks).pk)


def test_road_works_near_an_address_are_listed_with_links(chat: Chat, works: Any) -> None:
    answer = chat.say("any road works near me?")
    assert "Which address" in answer
    answer = chat.say("12 Elm Street")
    assert "Current notices near 12 Elm Street" in answer
    assert "Main Street closed" in answer and "Road works" in answer
    urls = [url for _, url in chat.sources]
    assert f"https://council.example.org/notices/{works.pk}/" in urls


def test_a_street_without_a_number(chat: Chat, works: Any) -> None:
    answer = chat.say("roadworks on Elm Street")
    assert "Main Street closed" in answer, answer
    assert "near Elm Street" in answer


def test_none_near_an_address_far_away(chat: Chat, roadworks: Any, elm: list[Place]) -> None:
    notice_publish(road_works_draft(roadworks, lat=FAR[0], long=FAR[1], radius_m=100).pk)
    answer = chat.say("any road works near 9 Maple Avenue?")
    assert "no current notices near 9 Maple Avenue" in answer, answer
    assert "Main Street closed" not in answer


def test_a_withdrawn_notice_is_not_shown(chat: Chat, works: Any) -> None:
    notice_withdraw(works.pk, reason="done early")
    answer = chat.say("any road works near 12 Elm Street")
    assert "no current notices" in answer and "Main Street closed" not in answer


def test_the_address_a_report_gave_is_remembered(chat: Chat, works: Any) -> None:
    chat.say("when is my bin day")
    chat.say("12 Elm Street")
    answer = chat.say("any road works near me?")
    assert "Main Street closed" in answer, answer


def test_a_recall_by_product_then_an_affected_code(chat: Chat, recall: Any) -> None:
    answer = chat.say("is there a recall on peanut butter?")
    assert "Peanut butter recall" in answer and "batch or lot code" in answer
    answer = chat.say("AB-123 45")
    assert "Code AB12345 is in the recall of Smooth Peanut Butter 340 g" in answer, answer
    assert "Return it to the shop" in answer


def test_a_code_not_in_the_recall(chat: Chat, recall: Any) -> None:
    answer = chat.say("check batch code L2345")
    assert "Code L2345 is not in any current recall of Smooth Peanut Butter" in answer, answer


def test_no_recall_for_a_product(chat: Chat, recall: Any) -> None:
    answer = chat.say("is there a recall on eggs?")
    assert "no current recall for “eggs”" in answer, answer
    assert "Peanut" not in answer


def test_a_code_asked_for_then_given(chat: Chat, recall: Any) -> None:
    answer = chat.say("is my batch code affected?")
    assert "Peanut butter recall" in answer and "batch or lot code" in answer
    assert "is in the recall" in chat.say("it's ab12346")


def test_text_that_is_no_code_is_refused_clearly(chat: Chat, recall: Any) -> None:
    chat.say("is my batch code affected?")
    answer = chat.say("lot " + "9" * 70)
    assert "too long for a batch code" in answer
    answer = chat.say("no idea")
    assert "doesn't look like a batch code" in answer


def test_code_checks_are_rate_limited_per_conversation(
    chat: Chat, recall: Any, settings: Any
) -> None:
    settings.TOWNHALL_RATE_LIMITS = {
        **settings.TOWNHALL_RATE_LIMITS,
        "assistant_code_check.target": "3/hour",
    }
    settings.TOWNHALL_RATE_LIMITS_ENABLED = True
    for n in range(3):
        assert "not in any current recall" in chat.say(f"check batch code ZZ{n}000")
    answer = chat.say("check batch code AB12345")
    assert "wait a few minutes" in answer
    assert "is in the recall" not in answer  # the answer is not given once over the limit


def test_a_signed_in_resident_is_limited_across_conversations(recall: Any, settings: Any) -> None:
    from townhall.people.services import citizen_email_prove

    settings.TOWNHALL_RATE_LIMITS = {
        **settings.TOWNHALL_RATE_LIMITS,
        "assistant_code_check.target": "2/hour",
    }
    settings.TOWNHALL_RATE_LIMITS_ENABLED = True
    citizen = citizen_email_prove(email="ana@example.org")
    for n in range(2):
        Chat(citizen_id=citizen.pk).say(f"check batch code ZZ{n}000")
    assert "wait a few minutes" in Chat(citizen_id=citizen.pk).say("check batch code ZZ9000")


def test_a_withdrawn_recall_answers_nothing(chat: Chat, recall: Any) -> None:
    notice_withdraw(recall.pk, reason="mistake")
    answer = chat.say("check batch code AB12345")
    assert "no current product recalls" in answer
    assert "affected" not in answer


def test_two_recalls_a_code_is_checked_against_both(chat: Chat, recall: Any, recalls: Any) -> None:
    from townhall.notices.imports import recall_codes_import

    eggs = notice_create(
        kind="recall",
        topic=recalls,
        title="Egg recall",
        body="Some eggs may carry salmonella.",
        advice="Throw them away.",
        product="Free range eggs, 6 pack",
    )
    recall_codes_import(eggs.pk, enumerate(["EGG777"], start=1))
    notice_publish(eggs.pk)
    assert "Egg recall" in chat.say("is there a recall on eggs?")
    assert "is in the recall of Free range eggs" in chat.say("EGG 777")
    other = Chat()
    answer = other.say("check batch code EGG777")
    assert "Throw them away" in answer and "Peanut" not in answer


def test_spanish(recall: Any) -> None:
    chat = Chat(language="es")
    answer = chat.say("comprobar el código de lote AB12345")
    if "¿Se refería" in answer:  # "AB12345" also reads as a request's reference
        answer = chat.say("Avisos y retiradas")
    assert "su producto está afectado" in answer, answer
    assert "Devuélvalo a la tienda" in answer
