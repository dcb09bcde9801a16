"""Rendering for speech and references heard through speech-to-text (assistant/speech.py),
and the providers' XML (hooks/voice_providers.py)."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import pytest

from tests.voice.conftest import PUBLIC, TOKEN, payload, signed, voice_settings_for
from townhall.assistant.replies import BotMessage, QuickReply, Reply, Source
from townhall.assistant.services_voice import VoiceAnswer
from townhall.assistant.speech import (
    plain_for_speech,
    reference_from_speech,
    reference_spoken,
    spoken_reply,
)
from townhall.hooks.voice_providers import FakeVoice, TwilioVoice, fake_signature, twiml

LANGUAGES = {"en": "en-GB", "es": "es-ES"}


@pytest.mark.parametrize(
    "heard",
    [
        "T H 26 dash 0 0 0 1 2 3",
        "t h 26-000123",
        "tee aitch two six zero zero zero one two three",
        "my reference is TH 26 000123 please",
        "T H two six double zero zero one two three",
        "te hache dos seis cero cero cero uno dos tres",
        "TH-26-000123",
    ],
)
def test_references_as_speech_to_text_writes_them_are_normalised(heard: str) -> None:
    assert reference_from_speech(heard) == "TH-26-000123"


@pytest.mark.parametrize(
    "heard", ["26 000123", "A B 26 0 0 0 1 2 3", "T H 26 0 0 1", "I have two bins for the house"]
)
def test_words_without_our_reference_give_none(heard: str) -> None:
    assert reference_from_speech(heard) is None


def test_a_reference_is_read_in_groups_character_by_character() -> None:
    assert reference_spoken("TH-26-000123") == "T H, 2 6, 0 0 0 1 2 3"
    said = plain_for_speech("Your reference is TH-26-000123.")
    assert said == "Your reference is T H, 2 6, 0 0 0 1 2 3."


def test_links_markdown_and_bullets_are_not_read_and_lists_are_shortened() -> None:
    text = (
        "**Bins** at [12 Elm](https://x.example/bins/1):\n"
        "• Monday 7 December 2026: Recycling\n• Monday 14 December: Garbage\n"
        "• Monday 21 December: Recycling\n• Monday 28 December: Garbage\n"
        "See https://council.example.org/bins/1/calendar.ics for more"
    )
    said = plain_for_speech(text)
    assert "http" not in said and "*" not in said and "•" not in said and "[" not in said
    assert said.startswith("Bins at 12 Elm. Monday 7 December 2026: Recycling.")
    assert "Monday 28" not in said and "And 1 more." in said
    assert "Y 1 más." in plain_for_speech(text, language="es")


def test_buttons_become_choices_with_keys_and_sources_are_dropped() -> None:
    reply = Reply(
        conversation="k",
        messages=(
            BotMessage(
                text="Shall I send it?",
                quick_replies=(QuickReply("Yes, send it", "yes"), QuickReply("Cancel", "cancel")),
                sources=(Source("Track", "https://council.example.org/track"),),
            ),
        ),
    )
    said, choices = spoken_reply(reply, language="en")
    assert said == "Shall I send it? You can say Yes, send it, press 1 or Cancel, press 2."
    assert choices == ["yes", "cancel"]
    said, _choices = spoken_reply(reply, language="es")
    assert "oprima 1" in said


def test_a_long_answer_is_cut_at_a_sentence() -> None:
    reply = Reply(conversation="k", messages=(BotMessage(text="A short sentence. " * 200),))
    said, _choices = spoken_reply(reply, language="en")
    assert len(said) <= 900 and said.endswith(".")


def test_twiml_escapes_text_and_has_each_verb() -> None:
    answer = VoiceAnswer(
        language="es",
        say=('<Hangup/> & "x"',),
        listen=False,
        dial="+16175550199",
        record=True,
        record_seconds=60,
        hangup=True,
    )
    body = twiml(
        answer, action="https://a/t?step=2", recording_action="https://a/r", languages=LANGUAGES
    )
    root = ET.fromstring(body)
    assert [child.tag for child in root] == ["Say", "Dial", "Record", "Hangup"]
    assert root[0].text == '<Hangup/> & "x"' and root[0].attrib["language"] == "es-ES"
    assert root.find("Record").attrib == {  # type: ignore[union-attr]
        "action": "https://a/r",
        "method": "POST",
        "maxLength": "60",
        "finishOnKey": "#",
        "playBeep": "true",
    }
    listening = twiml(
        VoiceAnswer(language="en", say=("Hi",), hints=("Bin days",)),
        action="https://a/t?step=2",
        recording_action="",
        languages=LANGUAGES,
    )
    gather = ET.fromstring(listening).find("Gather")
    assert gather is not None and gather.attrib["language"] == "en-GB"
    assert gather.attrib["action"] == "https://a/t?step=2" and gather.find("Say") is not None


def test_the_twilio_signature_matches_twilios_published_example() -> None:
    # The example of Twilio's security documentation (token 12345).
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    provider = TwilioVoice("12345")
    assert provider.request_is_authentic(
        url=url, params=params, signature="0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )
    assert not provider.request_is_authentic(url=url, params=params, signature="")
    assert not TwilioVoice("").request_is_authentic(
        url=url, params=params, signature="0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )


def test_the_fake_provider_signs_under_its_own_header(client: Any, voice: Any) -> None:
    voice.TOWNHALL_VOICE = voice_settings_for(provider="fake")
    params = payload("incoming")
    path = "/hooks/voice/incoming/"
    assert fake_signature(url=PUBLIC + path, params=params) == signed(path, params, token=TOKEN)
    response = client.post(
        path, params, HTTP_X_FAKE_VOICE_SIGNATURE=fake_signature(url=PUBLIC + path, params=params)
    )
    assert response.status_code == 200 and b"<Gather" in response.content
    # The fake's header is not Twilio's: a Twilio-signed request is refused by the fake.
    response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params))
    assert response.status_code == 403
    assert FakeVoice.signature_header != TwilioVoice.signature_header


def test_the_demo_call_in_the_terminal_uses_the_fake_provider(voice: Any, monkeypatch: Any) -> None:
    import io

    from django.core.management import call_command

    monkeypatch.setattr("sys.stdin", io.StringIO("press 0\n"))
    out = io.StringIO()
    call_command("voice_call", stdout=out)
    text = out.getvalue()
    assert "press 1 for bin days" in text and "(put through to +16175550199)" in text


def test_the_demo_call_is_refused_in_production(voice: Any) -> None:
    from django.core.management import CommandError, call_command

    voice.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("voice_call")
