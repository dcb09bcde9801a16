"""The survey on every channel: the e-mail link (portal tests), an SMS reply digit, the
chat's buttons, and the signed-in account page."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.experience.conftest import resolved_for
from tests.notify.test_hooks import PUBLIC, signed_post
from townhall.assistant.models import Conversation, Turn
from townhall.experience.models import SupervisorFlag, Survey
from townhall.experience.services import survey_answer_by_sms
from townhall.notify.links import survey_token
from townhall.people.citizens import consent_record
from townhall.people.models import ConsentPurpose
from townhall.people.services import citizen_resolve

pytestmark = pytest.mark.django_db
TEXTER = "+16175550142"


# --- SMS: a reply digit -----------------------------------------------------------------


@pytest.fixture
def gateway(sms_provider: Any, settings: Any) -> Any:
    settings.TOWNHALL_PUBLIC_URL = PUBLIC
    return sms_provider


def test_a_reply_digit_answers_the_survey_with_its_comment(
    client: Client, gateway: Any, pothole: Any, texter: Any, caseworker: Any
) -> None:
    case = resolved_for(pothole, texter, caseworker)
    response = signed_post(
        client, "/hooks/sms/inbound/", {"From": TEXTER, "Body": " 2 still a dip in the road"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Gracias" in body and "supervisor" in body  # Spanish, and a follow-up is coming
    survey = Survey.objects.get(case=case)
    assert (survey.csat, survey.answered_via, survey.comment) == (
        2,
        "sms",
        "still a dip in the road",
    )
    assert SupervisorFlag.objects.filter(case=case, kind="low_score").exists()
    # The same digit again is not a second answer.
    again = signed_post(client, "/hooks/sms/inbound/", {"From": TEXTER, "Body": "5"})
    assert Survey.objects.get(case=case).csat == 2
    assert "<Response>" in again.content.decode()


@pytest.mark.parametrize("text", ["5", "5.", "4 thanks!", "3, ok", "1 - nobody came"])
def test_the_reply_forms_residents_use(
    pothole: Any, texter: Any, caseworker: Any, text: str
) -> None:
    case = resolved_for(pothole, texter, caseworker)
    assert survey_answer_by_sms(phone=TEXTER, text=text) is not None
    assert Survey.objects.get(case=case).csat == int(text[0])


@pytest.mark.parametrize("text", ["6", "0", "25", "five", "Is my bin day Tuesday?", "", "STOP"])
def test_anything_else_is_not_a_survey_answer(
    pothole: Any, texter: Any, caseworker: Any, text: str
) -> None:
    case = resolved_for(pothole, texter, caseworker)
    assert survey_answer_by_sms(phone=TEXTER, text=text) is None
    assert Survey.objects.get(case=case).answered_at is None


def test_a_digit_from_another_number_answers_nothing(
    pothole: Any, texter: Any, caseworker: Any
) -> None:
    case = resolved_for(pothole, texter, caseworker)
    citizen_resolve(name="Someone else", phone="617-555-0177")
    assert survey_answer_by_sms(phone="+16175550177", text="1") is None
    assert survey_answer_by_sms(phone="+16175550999", text="1") is None  # unknown number
    assert Survey.objects.get(case=case).answered_at is None


def test_a_digit_to_a_survey_sent_by_email_answers_nothing(
    pothole: Any, resident: Any, caseworker: Any
) -> None:
    # Rosa has a phone too, but the resolution went by e-mail: no "Reply 1-5" was sent.
    case = resolved_for(pothole, resident, caseworker)
    assert survey_answer_by_sms(phone="+16175550199", text="1") is None
    assert Survey.objects.get(case=case).answered_at is None


def test_a_digit_after_the_window_answers_nothing(
    pothole: Any, texter: Any, caseworker: Any, settings: Any
) -> None:
    case = resolved_for(pothole, texter, caseworker)
    days = settings.TOWNHALL_EXPERIENCE.sms_reply_days
    Survey.objects.filter(case=case).update(sent_at=timezone.now() - timedelta(days=days, hours=1))
    assert survey_answer_by_sms(phone=TEXTER, text="5") is None
    assert Survey.objects.get(case=case).answered_at is None


def test_a_digit_after_opting_out_answers_nothing(
    pothole: Any, texter: Any, caseworker: Any
) -> None:
    case = resolved_for(pothole, texter, caseworker)
    consent_record(
        citizen=texter,
        purpose=ConsentPurpose.SURVEYS,
        granted=False,
        at=timezone.now(),
        channel="sms",
    )
    assert survey_answer_by_sms(phone=TEXTER, text="5") is None
    assert Survey.objects.get(case=case).answered_at is None


def test_other_texts_still_reach_the_assistant_or_intake(
    client: Client, gateway: Any, pothole: Any, texter: Any, caseworker: Any, settings: Any
) -> None:
    case = resolved_for(pothole, texter, caseworker)
    settings.TOWNHALL_ASSISTANT_SMS = True
    response = signed_post(client, "/hooks/sms/inbound/", {"From": TEXTER, "Body": "hello"})
    assert response.status_code == 200
    assert "Gracias por su respuesta" not in response.content.decode()
    assert Survey.objects.get(case=case).answered_at is None
    from townhall.intake.models import InboundMessage

    # Taken as before: by the assistant, or by intake as a message about the case.
    assert Conversation.objects.filter(channel="sms").exists() or InboundMessage.objects.exists()


# --- the chat: buttons ------------------------------------------------------------------


def _post(client: Client, payload: dict[str, Any]) -> Any:
    return client.post(
        "/api/assistant/messages", json.dumps(payload), content_type="application/json"
    )


@pytest.fixture
def chat_case(pothole: Any, caseworker: Any) -> tuple[Any, Conversation]:
    reporter = citizen_resolve(name="Chatty", email="chatty@example.org")
    case = resolved_for(pothole, reporter, caseworker, channel="assistant")
    conv = Conversation.objects.create(
        key="k" * 22, language="en", case=case, citizen=reporter, outcome="filed"
    )
    return case, conv


def test_returning_to_the_chat_offers_the_question_with_five_buttons(
    client: Client, chat_case: tuple[Any, Conversation]
) -> None:
    case, conv = chat_case
    assert Survey.objects.get(case=case).channel == "assistant"
    reply = _post(client, {"conversation": conv.key, "text": "hello again"}).json()
    offer = reply["messages"][-1]
    assert case.reference in offer["text"] and offer["role"] == "system"
    assert [q["text"] for q in offer["quick_replies"]] == ["1", "2", "3", "4", "5"]
    # Pressing "4" answers the survey, not the dialogue engine.
    thanks = _post(client, {"conversation": conv.key, "text": "4"}).json()
    assert "Thank you" in thanks["messages"][0]["text"]
    survey = Survey.objects.get(case=case)
    assert (survey.csat, survey.answered_via) == (4, "assistant")
    # Asked once per conversation; a later digit is an ordinary message.
    later = _post(client, {"conversation": conv.key, "text": "1"}).json()
    assert all(
        not m.get("quick_replies") or m["quick_replies"][0]["text"] != "1"
        for m in later["messages"]
    )
    assert Survey.objects.get(case=case).csat == 4


def test_a_widget_that_polls_an_open_chat_is_offered_the_question(
    client: Client, chat_case: tuple[Any, Conversation]
) -> None:
    case, conv = chat_case
    events = client.get("/api/assistant/events?after=0", HTTP_X_CONVERSATION=conv.key).json()
    [offer] = [m for m in events["messages"] if m["quick_replies"]]
    assert len(offer["quick_replies"]) == 5
    # Polling again does not ask twice.
    client.get("/api/assistant/events?after=0", HTTP_X_CONVERSATION=conv.key)
    assert Turn.objects.filter(conversation=conv, skill="survey").count() == 1
    thanks = _post(client, {"conversation": conv.key, "text": "1"}).json()
    assert "supervisor" in thanks["messages"][0]["text"]
    assert SupervisorFlag.objects.filter(case=case).exists()


def test_words_instead_of_a_button_go_to_the_assistant_and_leave_the_survey(
    client: Client, chat_case: tuple[Any, Conversation]
) -> None:
    case, conv = chat_case
    _post(client, {"conversation": conv.key, "text": "hi"})
    _post(client, {"conversation": conv.key, "text": "when is my bin day"})
    assert Survey.objects.get(case=case).answered_at is None


def test_a_survey_answered_by_its_link_is_not_asked_again_in_the_chat(
    client: Client, chat_case: tuple[Any, Conversation]
) -> None:
    from townhall.experience.services import survey_answer

    case, conv = chat_case
    survey_answer(token=survey_token(case_id=case.pk), csat=5, via="web")
    reply = _post(client, {"conversation": conv.key, "text": "hello again"}).json()
    assert not any(m["role"] == "system" and m["quick_replies"] for m in reply["messages"])
    assert not Turn.objects.filter(conversation=conv, skill="survey").exists()


def test_a_chat_without_a_resolved_case_is_never_asked(
    client: Client, pothole: Any, caseworker: Any
) -> None:
    conv = Conversation.objects.create(key="z" * 22, language="en")
    reply = _post(client, {"conversation": conv.key, "text": "3"}).json()
    assert not any(m["role"] == "system" and m["quick_replies"] for m in reply["messages"])
    assert not Survey.objects.exists()


def test_a_spanish_chat_is_asked_in_spanish(client: Client, pothole: Any, caseworker: Any) -> None:
    reporter = citizen_resolve(name="Ana", email="ana@example.org", language="es")
    case = resolved_for(pothole, reporter, caseworker, channel="assistant")
    conv = Conversation.objects.create(key="e" * 22, language="es", case=case)
    reply = _post(client, {"conversation": conv.key, "text": "hola", "language": "es"}).json()
    assert "¿Qué tal lo hicimos?" in reply["messages"][-1]["text"]


# --- the account page --------------------------------------------------------------------


def test_the_account_lists_open_surveys_of_proven_reports_only(
    client: Client, pothole: Any, caseworker: Any
) -> None:
    from django.contrib.auth import get_user_model

    from townhall.people.models import ContactPoint

    user = get_user_model().objects.create_user(username="rosa-account")
    rosa = citizen_resolve(name="Rosa", email="rosa2@example.org")
    rosa.user = user
    rosa.save()
    ContactPoint.objects.filter(citizen=rosa).update(verified=True)
    case = resolved_for(pothole, rosa, caseworker)
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert case.reference in page and f"/survey/{survey_token(case_id=case.pk)}/" in page
    Survey.objects.filter(case=case).update(answered_at=timezone.now(), csat=5)
    assert (
        f"/survey/{survey_token(case_id=case.pk)}/" not in client.get("/account/").content.decode()
    )
