"""Fixtures for the phone assistant: the provider's recorded payloads (payloads/*.json, the
form fields Twilio posts), a signed caller that follows our TwiML, and the town.

The scripts run on the real understanding (assistant/nlu.py), like the chat's tests.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from tests.assistant.conftest import _fresh_index, help_articles
from tests.waste.conftest import home, toronto
from townhall.conf.voice import VoiceSettings
from townhall.notify.channels.sms import sms_request_signature

__all__ = ["_fresh_index", "help_articles", "home", "toronto"]

PUBLIC = "https://council.example.org"
TOKEN = "voice-test-token"
NUMBER = "+16175550142"
COUNCIL = "+16175550100"
SPANISH_LINE = "+16175550101"
CALL_CENTRE = "+16175550199"
PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str, **fields: str) -> dict[str, str]:
    """A recorded provider payload, with some fields changed."""
    data: dict[str, str] = json.loads((PAYLOADS / f"{name}.json").read_text())
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def signed(path: str, params: dict[str, str], *, token: str = TOKEN, base: str = PUBLIC) -> str:
    return sms_request_signature(auth_token=token, url=base + path, params=params)


def voice_settings_for(**changes: Any) -> VoiceSettings:
    base = VoiceSettings(
        provider="twilio",
        auth_token=TOKEN,
        call_centre=CALL_CENTRE,
        spanish_numbers=(SPANISH_LINE,),
        speech_languages={"en": "en-US", "es": "es-US"},
        record_seconds=120,
        replay_seconds=86400,
        speech_max=500,
        caller_id="attested",
    )
    return base._replace(**changes)


@pytest.fixture
def voice(settings: Any, town: Any) -> Any:
    settings.TOWNHALL_PUBLIC_URL = PUBLIC
    settings.TOWNHALL_VOICE = voice_settings_for()
    settings.TOWNHALL_LIVE_CHAT_HOURS = "Mon-Sun 00:00-23:59"
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    return settings


class Caller:
    """A phone caller as the provider relays them: each post signed, each answer parsed,
    the next post sent to the answer's action URL with the same call id."""

    def __init__(
        self, client: Client, *, number: str = NUMBER, to: str = COUNCIL, sid: str = ""
    ) -> None:
        self.client = client
        self.number = number
        self.to = to
        self.sid = sid or "CA" + secrets.token_hex(16)
        self.root: ET.Element | None = None
        self.status = 0
        self.body = ""

    def _post(self, url: str, params: dict[str, str]) -> str:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self.client.post(
            path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params), HTTP_HOST="internal:8000"
        )
        self.status = response.status_code
        self.body = response.content.decode()
        assert response["Content-Type"].startswith("text/xml"), self.body
        self.root = ET.fromstring(self.body)
        return self.heard

    def _fields(self, name: str, **fields: str) -> dict[str, str]:
        return payload(
            name, CallSid=self.sid, From=self.number, Caller=self.number, To=self.to, **fields
        )

    def call(self, **fields: str) -> str:
        return self._post(PUBLIC + "/hooks/voice/incoming/", self._fields("incoming", **fields))

    @property
    def action(self) -> str:
        assert self.root is not None
        gather = self.root.find("Gather")
        assert gather is not None, self.body
        return gather.attrib["action"]

    def say(self, words: str, confidence: str = "0.91") -> str:
        fields = self._fields("gather_speech", SpeechResult=words, Confidence=confidence)
        return self._post(self.action, fields)

    def press(self, digits: str) -> str:
        return self._post(self.action, self._fields("gather_digits", Digits=digits))

    def silence(self) -> str:
        return self._post(self.action, self._fields("gather_empty"))

    def recorded(self, **fields: str) -> str:
        assert self.root is not None
        record = self.root.find("Record")
        assert record is not None, self.body
        return self._post(record.attrib["action"], self._fields("recording", **fields))

    @property
    def heard(self) -> str:
        assert self.root is not None
        return " ".join((say.text or "") for say in self.root.iter("Say"))

    def said_in(self) -> list[str]:
        assert self.root is not None
        return [say.attrib["language"] for say in self.root.iter("Say")]

    def verb(self, name: str) -> ET.Element | None:
        assert self.root is not None
        return self.root.find(name)


@pytest.fixture
def caller(client: Client, voice: Any) -> Caller:
    return Caller(client)
