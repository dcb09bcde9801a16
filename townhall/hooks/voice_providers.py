"""Programmable-voice providers behind one interface: how a request is authenticated, how
its form fields become a `VoiceCall`, how a `VoiceAnswer` becomes the provider's XML.

`TwilioVoice` follows Twilio's webhook shape (CallSid, From, To, Digits, SpeechResult,
Confidence, RecordingUrl, RecordingDuration, CallStatus) and its signature:
X-Twilio-Signature = base64(HMAC-SHA1(auth token, public URL + each POST name and value
sorted by name)). `FakeVoice` is the same shape under its own header, for tests and the
demo (`fake_signature` signs a request as a test caller would).

The XML (TwiML) is written with xml.etree, which escapes every text and attribute; text
is cleaned of characters XML cannot carry first. The `twilio` package would bring
requests, aiohttp, aiohttp-retry and PyJWT (and 22 MB) for these two functions: not used
(docs/voice.md).
"""

from __future__ import annotations

import hmac
import math
import re
from collections.abc import Mapping
from typing import Protocol
from xml.etree import ElementTree as ET

from django.conf import settings

from townhall.assistant.services_voice import VoiceAnswer, VoiceCall
from townhall.core.errors import ValidationFailed
from townhall.intake.normalise import xml_clean
from townhall.notify.channels.sms import sms_request_signature
from townhall.people.contacts import phone_normalise

CALL_ID = re.compile(r"CA[0-9a-fA-F]{32}")
# STIR/SHAKEN: the originating carrier fully vouched for the calling number.
ATTESTED = "TN-Validation-Passed-A"
FIELD_MAX = 4000  # any field longer is cut before use (SpeechResult is cut again later)


class VoiceProvider(Protocol):
    name: str
    signature_header: str  # the request.META key

    def request_is_authentic(
        self, *, url: str, params: Mapping[str, str], signature: str
    ) -> bool: ...

    def call_of(self, params: Mapping[str, str]) -> VoiceCall: ...

    def render(self, answer: VoiceAnswer, *, action: str, recording_action: str) -> str: ...


def _number(value: str) -> str:
    try:
        return phone_normalise(value[:40], region=settings.TOWNHALL_PHONE_REGION)
    except ValidationFailed:
        return ""  # withheld ("anonymous"), or not a number


def _float(value: str) -> float | None:
    try:
        number = float(value[:20])
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _int(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 7 else 0


class TwilioVoice:
    name = "twilio"
    signature_header = "HTTP_X_TWILIO_SIGNATURE"

    def __init__(self, auth_token: str) -> None:
        self._auth_token = auth_token

    def sign(self, *, url: str, params: Mapping[str, str]) -> str:
        return sms_request_signature(auth_token=self._auth_token, url=url, params=params)

    def request_is_authentic(self, *, url: str, params: Mapping[str, str], signature: str) -> bool:
        if not signature or not self._auth_token:
            return False
        expected = self.sign(url=url, params=params)
        # Bytes: compare_digest raises TypeError on a str with non-ASCII characters.
        return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))

    def call_of(self, params: Mapping[str, str]) -> VoiceCall:
        """The request's fields; raise ValidationFailed when it names no call."""

        def get(name: str) -> str:
            return str(params.get(name, ""))[:FIELD_MAX]

        call_id = get("CallSid")
        if not CALL_ID.fullmatch(call_id):
            raise ValidationFailed("CallSid is missing or not a call id.")
        return VoiceCall(
            call_id=call_id,
            caller=_number(get("From")),
            called=_number(get("To")),
            digits=get("Digits").strip(),
            speech=get("SpeechResult"),
            confidence=_float(get("Confidence")),
            recording_url=get("RecordingUrl"),
            recording_seconds=_int(get("RecordingDuration")),
            status=get("CallStatus")[:20],
            attested=get("StirVerstat") == ATTESTED,
        )

    def render(self, answer: VoiceAnswer, *, action: str, recording_action: str) -> str:
        return twiml(answer, action=action, recording_action=recording_action, languages=_speech())


class FakeVoice(TwilioVoice):
    """The provider the tests and the demo call with: Twilio's shape, its own header."""

    name = "fake"
    signature_header = "HTTP_X_FAKE_VOICE_SIGNATURE"


def _speech() -> dict[str, str]:
    return dict(settings.TOWNHALL_VOICE.speech_languages)


def voice_provider() -> VoiceProvider | None:
    """The configured provider, or None (the voice hooks are off)."""
    conf = settings.TOWNHALL_VOICE
    if conf.provider == "twilio":
        return TwilioVoice(conf.auth_token)
    if conf.provider == "fake":
        return FakeVoice(conf.auth_token)
    return None


def fake_signature(*, url: str, params: Mapping[str, str]) -> str:
    """What the fake provider sends in X-Fake-Voice-Signature (tests, bench, demo)."""
    return sms_request_signature(
        auth_token=settings.TOWNHALL_VOICE.auth_token, url=url, params=params
    )


def _say(parent: ET.Element, text: str, language: str) -> None:
    text = xml_clean(text).strip()
    if text:
        ET.SubElement(parent, "Say", {"language": language}).text = text


def twiml(
    answer: VoiceAnswer, *, action: str, recording_action: str, languages: Mapping[str, str]
) -> str:
    """The answer as TwiML: <Say>s inside a <Gather> when the caller is listened to, then
    <Dial>, <Record> or <Hangup>."""
    response = ET.Element("Response")
    language = languages.get(answer.language, "en-US")
    if answer.listen:
        gather = ET.SubElement(
            response,
            "Gather",
            {
                "input": "speech dtmf",
                "action": action,
                "method": "POST",
                "language": language,
                "timeout": "6",
                "speechTimeout": "auto",
                "numDigits": "1",
                "actionOnEmptyResult": "true",
                **({"hints": xml_clean(", ".join(answer.hints))[:500]} if answer.hints else {}),
            },
        )
        parent = gather
    else:
        parent = response
    for text in answer.say:
        _say(parent, text, language)
    for other, text in answer.also:
        _say(parent, text, languages.get(other, "en-US"))
    if answer.dial:
        ET.SubElement(response, "Dial").text = xml_clean(answer.dial)
    if answer.record:
        ET.SubElement(
            response,
            "Record",
            {
                "action": recording_action,
                "method": "POST",
                "maxLength": str(answer.record_seconds or 120),
                "finishOnKey": "#",
                "playBeep": "true",
            },
        )
    if answer.hangup:
        ET.SubElement(response, "Hangup")
    body = ET.tostring(response, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>{body}'
