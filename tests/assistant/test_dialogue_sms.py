"""Inbound texts: questions reach the assistant (same engine, plain text), reports and
texts about a case keep going to intake as before."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.notify.conftest import sms_provider
from townhall.assistant.models import Conversation
from townhall.assistant.services_sms import sender_hash_of
from townhall.cases.models import Case
from townhall.intake.models import InboundMessage
from townhall.notify.channels.sms import sms_request_signature

__all__ = ["sms_provider"]
PUBLIC = "http://127.0.0.1:8000"
NUMBER = "+16175550142"


def sms(client: Client, text: str, sid: str, number: str = NUMBER) -> str:
    params = {"From": number, "Body": text, "MessageSid": sid}
    path = "/hooks/sms/inbound/"
    signature = sms_request_signature(auth_token="secret", url=PUBLIC + path, params=params)
    response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def texting(settings: Any, sms_provider: Any, town: Any) -> Any:
    settings.TOWNHALL_PUBLIC_URL = PUBLIC
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    settings.TOWNHALL_ASSISTANT_SMS = True
    return settings


def test_a_question_by_text_is_answered_by_the_assistant(
    client: Client, texting: Any, home: Any
) -> None:
    first = sms(client, "when are my bins collected", "SM1")
    assert "What is your address?" in first
    second = sms(client, "100 Queen Street West", "SM2")
    assert "Next collections at 100 Queen Street West" in second
    assert f"{PUBLIC}/bins/{home.pk}/calendar.ics" in second
    conversation = Conversation.objects.get()
    assert conversation.channel == "sms"
    assert conversation.sender_hash == sender_hash_of(NUMBER)
    assert NUMBER not in conversation.sender_hash and "555" not in conversation.sender_hash
    assert not InboundMessage.objects.exists() and not Case.objects.exists()


def test_a_report_by_text_still_opens_a_case_and_a_reference_gets_the_status(
    client: Client, texting: Any
) -> None:
    first = sms(client, "Pothole on Main St by the school, very deep", "SM1")
    case = Case.objects.get()
    assert f"Your reference is {case.reference}" in first
    status = sms(client, f"bins? {case.reference}", "SM2")
    assert case.reference in status
    assert not Conversation.objects.exists()


def test_with_the_assistant_off_texts_go_to_intake(client: Client, texting: Any, home: Any) -> None:
    texting.TOWNHALL_ASSISTANT_SMS = False
    sms(client, "when are my bins collected", "SM1")
    assert not Conversation.objects.exists()
    assert InboundMessage.objects.count() == 1


def test_a_flood_of_questions_from_one_number_is_not_answered_by_text(
    client: Client, texting: Any, home: Any
) -> None:
    texting.TOWNHALL_RATE_LIMITS = {
        **texting.TOWNHALL_RATE_LIMITS,
        "assistant_sms.target": "2/minute",
    }
    sms(client, "when are my bins collected", "SM1")
    sms(client, "100 Queen Street West", "SM2")
    third = sms(client, "when are my bins collected", "SM3")
    assert "<Message>" not in third  # no answer texted back
    assert Conversation.objects.get().turns.filter(role="resident").count() == 2
    assert not InboundMessage.objects.exists() and not Case.objects.exists()
