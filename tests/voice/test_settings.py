"""townhall/conf/voice.py: the phone assistant's settings and what they refuse."""

from __future__ import annotations

from typing import Any

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from townhall.conf.voice import voice_settings


def _env(monkeypatch: Any, **values: str) -> environ.Env:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return environ.Env()


def test_off_by_default(monkeypatch: Any) -> None:
    for name in ("TOWNHALL_VOICE_PROVIDER", "TOWNHALL_VOICE_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    conf = voice_settings(environ.Env(), production=True)
    assert conf.provider == "" and conf.caller_id == "attested" and conf.speech_max == 500


@pytest.mark.parametrize(
    ("values", "production"),
    [
        ({"TOWNHALL_VOICE_PROVIDER": "skype"}, False),
        ({"TOWNHALL_VOICE_PROVIDER": "twilio", "TOWNHALL_VOICE_AUTH_TOKEN": ""}, False),
        ({"TOWNHALL_VOICE_PROVIDER": "fake", "TOWNHALL_VOICE_AUTH_TOKEN": "t"}, True),
        ({"TOWNHALL_VOICE_CALLER_ID": "always"}, False),
    ],
)
def test_bad_settings_are_refused(
    monkeypatch: Any, values: dict[str, str], production: bool
) -> None:
    with pytest.raises(ImproperlyConfigured):
        voice_settings(_env(monkeypatch, **values), production=production)


def test_twilio_with_its_numbers(monkeypatch: Any) -> None:
    env = _env(
        monkeypatch,
        TOWNHALL_VOICE_PROVIDER="Twilio",
        TOWNHALL_VOICE_AUTH_TOKEN="tok",
        TOWNHALL_VOICE_SPANISH_NUMBERS="+16175550101 +16175550102",
        TOWNHALL_VOICE_LANGUAGE_EN="en-GB",
    )
    conf = voice_settings(env, production=True)
    assert conf.provider == "twilio" and conf.auth_token == "tok"
    assert conf.spanish_numbers == ("+16175550101", "+16175550102")
    assert conf.speech_languages == {"en": "en-GB", "es": "es-US"}
