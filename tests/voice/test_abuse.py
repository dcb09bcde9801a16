"""What a forger, a replayer, a flood or garbage gets from the voice hooks: 403 and nothing
done for a bad signature, the same answer once for a replayed step, a goodbye for a flood,
a spoken answer (never a 500, never a trace) for anything malformed."""

from __future__ import annotations

import logging
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from tests.voice.conftest import NUMBER, PUBLIC, TOKEN, Caller, payload, signed
from townhall.assistant.models import Conversation, Turn
from townhall.cases.models import Case
from townhall.core.models import SecurityEvent
from townhall.hooks.models import CallbackSeen
from townhall.intake.messages import IncomingMessage, Sender
from townhall.intake.services import intake_submit

INCOMING = "/hooks/voice/incoming/"


def case_by_web() -> Case:
    result = intake_submit(
        IncomingMessage(
            channel="web",
            sender=Sender(email="ann@example.org", name="Ann"),
            text="Pothole by 12 Elm Street",
            service_code="pothole",
            answers={"size": "large"},
        )
    )
    assert result.case is not None
    return result.case


def _post(client: Client, path: str, params: dict[str, str], **headers: str) -> Any:
    return client.post(path, params, **headers)


def test_unsigned_and_badly_signed_calls_get_403_and_nothing_is_done(
    client: Client, voice: Any
) -> None:
    params = payload("incoming")
    assert _post(client, INCOMING, params).status_code == 403
    wrong = signed(INCOMING, params, token="not-the-token")
    assert _post(client, INCOMING, params, HTTP_X_TWILIO_SIGNATURE=wrong).status_code == 403
    # A field changed after signing.
    good = signed(INCOMING, params)
    changed = {**params, "From": "+16175550999"}
    assert _post(client, INCOMING, changed, HTTP_X_TWILIO_SIGNATURE=good).status_code == 403
    assert not Conversation.objects.exists() and not CallbackSeen.objects.exists()
    assert SecurityEvent.objects.filter(kind="signature_refused").count() == 3


def test_the_signature_is_checked_against_the_public_url_not_the_host_header(
    client: Client, voice: Any
) -> None:
    params = payload("incoming")
    # Signed for the address an attacker controls and sends as Host: refused.
    forged = signed(INCOMING, params, base="https://evil.example.net")
    response = client.post(
        INCOMING,
        params,
        HTTP_X_TWILIO_SIGNATURE=forged,
        HTTP_HOST="evil.example.net",
        HTTP_X_FORWARDED_HOST="evil.example.net",
    )
    assert response.status_code in {400, 403}
    assert not Conversation.objects.exists()
    # Signed for the public URL, whatever Host the proxy passes: taken.
    response = client.post(
        INCOMING, params, HTTP_X_TWILIO_SIGNATURE=signed(INCOMING, params), HTTP_HOST="10.0.0.5"
    )
    assert response.status_code == 200


def test_a_replayed_step_is_answered_the_same_and_not_processed_twice(
    caller: Caller, home: Any
) -> None:
    caller.call()
    path = "/hooks/voice/turn/?step=1"
    params = payload("gather_speech", CallSid=caller.sid, SpeechResult="When is my bin collected?")
    first = caller.client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params))
    again = caller.client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params))
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    conversation = Conversation.objects.get()
    assert conversation.turns.filter(role=Turn.Role.RESIDENT).count() == 1
    # The incoming call replayed: the greeting again, no second conversation.
    start = payload("incoming", CallSid=caller.sid)
    replay = caller.client.post(INCOMING, start, HTTP_X_TWILIO_SIGNATURE=signed(INCOMING, start))
    assert replay.status_code == 200 and Conversation.objects.count() == 1


def test_a_flood_from_one_number_gets_a_goodbye(client: Client, voice: Any) -> None:
    voice.TOWNHALL_RATE_LIMITS = {**voice.TOWNHALL_RATE_LIMITS, "voice.target": "3/minute"}
    for _ in range(3):
        assert "Hello" in Caller(client).call()
    flooding = Caller(client)
    heard = flooding.call()
    assert "too many calls" in heard and flooding.verb("Hangup") is not None
    assert Conversation.objects.count() == 3
    # Another number is not affected.
    assert "Hello" in Caller(client, number="+16175550143").call()


def test_a_flood_from_one_address_gets_429(client: Client, voice: Any) -> None:
    voice.TOWNHALL_RATE_LIMITS = {**voice.TOWNHALL_RATE_LIMITS, "hooks": "2/minute"}
    params = payload("incoming")
    codes = [
        client.post(INCOMING, params, HTTP_X_TWILIO_SIGNATURE="x").status_code for _ in range(3)
    ]
    assert codes == [403, 403, 429]


def test_a_huge_speech_result_is_cut_and_answered(caller: Caller) -> None:
    caller.call()
    caller.say("bins " * 20_000)
    assert caller.status == 200 and caller.verb("Gather") is not None
    said = Turn.objects.filter(role=Turn.Role.RESIDENT).get().text
    assert len(said) <= 500


def test_xml_in_what_was_said_stays_text(caller: Caller) -> None:
    caller.call()
    caller.say('<Dial>+15550000000</Dial>]]> & "quotes" \x00\x1b')
    assert caller.status == 200 and caller.verb("Dial") is None


def test_non_utf8_and_garbage_fields_never_give_a_500(client: Client, voice: Any) -> None:
    body = b"CallSid=CA" + b"a" * 32 + b"&From=%FF%FE%FA&SpeechResult=%C3%28%A0%A1&Digits=%FF"
    response = client.post(
        "/hooks/voice/turn/?step=1", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 403  # unsigned
    # Signed over what the form decodes to (replacement characters): taken, answered.
    params = {
        "CallSid": "CA" + "a" * 32,
        "From": "\ufffd\ufffd\ufffd",
        "SpeechResult": "\ufffd(\ufffd\ufffd",
        "Digits": "\ufffd",
    }
    path = "/hooks/voice/turn/?step=1"
    response = client.post(
        path,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signed(path, params),
    )
    assert response.status_code == 200
    ET.fromstring(response.content)


@pytest.mark.parametrize(
    "fields",
    [
        {},  # nothing at all
        {"CallSid": "not-a-call"},
        {"CallSid": "CA" + "g" * 32, "From": NUMBER},
    ],
)
def test_missing_or_bad_call_fields_get_400_with_a_spoken_goodbye(
    client: Client, voice: Any, fields: dict[str, str]
) -> None:
    response = client.post(INCOMING, fields, HTTP_X_TWILIO_SIGNATURE=signed(INCOMING, fields))
    assert response.status_code == 400
    root = ET.fromstring(response.content)
    assert root.find("Hangup") is not None and "Traceback" not in response.content.decode()
    assert not Conversation.objects.exists()


def test_a_withheld_number_is_answered_as_anyone(client: Client, voice: Any) -> None:
    caller = Caller(client, number="anonymous")
    assert "Hello" in caller.call()
    assert Conversation.objects.get().citizen_id is None


def test_a_recording_url_that_is_not_https_is_not_stored(caller: Caller, voice: Any) -> None:
    voice.TOWNHALL_LIVE_CHAT_HOURS = "Mon-Sun 00:00-00:00"
    caller.call()
    caller.press("0")
    heard = caller.recorded(RecordingUrl="javascript:alert(1)")
    assert "did not get a message" in heard
    assert not Turn.objects.filter(data__voice="recording").exists()


def test_a_recording_posted_for_a_call_that_left_no_message_is_ignored(
    caller: Caller,
) -> None:
    caller.call()
    path = "/hooks/voice/recording/?step=1"
    params = payload("recording", CallSid=caller.sid)
    response = caller.client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params))
    assert response.status_code == 200 and b"did not get a message" in response.content


def test_voice_off_is_404(client: Client, voice: Any) -> None:
    voice.TOWNHALL_VOICE = voice.TOWNHALL_VOICE._replace(provider="")
    params = payload("incoming")
    response = client.post(INCOMING, params, HTTP_X_TWILIO_SIGNATURE=signed(INCOMING, params))
    assert response.status_code == 404


def test_a_failing_step_is_an_apology_not_a_500_and_can_be_retried(
    caller: Caller, monkeypatch: Any
) -> None:
    caller.call()
    from townhall.hooks import voice as hooks_voice

    def broken(call: Any, *, step: int) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(hooks_voice, "voice_turn", broken)
    heard = caller.say("bins")
    assert caller.status == 200 and "something went wrong" in heard
    assert "boom" not in caller.body
    assert not CallbackSeen.objects.filter(kind="voice-turn").exists()  # released


def test_the_number_is_not_logged_nor_stored(caller: Caller, caplog: Any, home: Any) -> None:
    caplog.set_level(logging.DEBUG)
    caller.call()
    caller.say("When is my bin collected?")
    caller.say("100 Queen Street West")
    assert NUMBER not in caplog.text and NUMBER[2:] not in caplog.text
    conversation = Conversation.objects.get()
    assert NUMBER not in conversation.sender_hash and NUMBER not in str(conversation.state)
    assert TOKEN not in caplog.text
    assert PUBLIC  # the public URL is all the provider is told to call


def test_a_form_with_too_many_fields_gets_400_in_twiml(client: Client, voice: Any) -> None:
    fields = {f"F{i}": "x" for i in range(1500)}
    response = client.post(INCOMING, fields, HTTP_X_TWILIO_SIGNATURE="x")
    assert response.status_code == 400
    assert ET.fromstring(response.content).find("Hangup") is not None
    assert not Conversation.objects.exists()


def test_a_body_over_the_upload_limit_gets_400_in_twiml(client: Client, voice: Any) -> None:
    params = payload("gather_speech", SpeechResult="a" * 3_000_000)
    path = "/hooks/voice/turn/?step=1"
    response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params))
    assert response.status_code == 400
    assert ET.fromstring(response.content).find("Hangup") is not None


def test_an_older_step_replayed_gets_its_own_answer(caller: Caller, home: Any) -> None:
    caller.call()
    first_params = payload(
        "gather_speech", CallSid=caller.sid, SpeechResult="When is my bin collected?"
    )
    path = "/hooks/voice/turn/?step=1"
    first = caller.client.post(
        path, first_params, HTTP_X_TWILIO_SIGNATURE=signed(path, first_params)
    )
    assert b"What is your address?" in first.content
    caller.root = ET.fromstring(first.content)
    caller.say("100 Queen Street West")
    assert "Next collections" in caller.heard
    again = caller.client.post(
        path, first_params, HTTP_X_TWILIO_SIGNATURE=signed(path, first_params)
    )
    assert again.content == first.content
    assert Turn.objects.filter(role=Turn.Role.RESIDENT).count() == 2
