"""The assistant by phone (issue 20): the programmable-voice provider and what callers hear.

docs/voice.md describes the provider's set-up. Everything here comes from the environment;
nothing is council-configured in the admin (the call-centre number and the hours are
operations' choice, like the SMS gateway's).
"""

from __future__ import annotations

from typing import NamedTuple

import environ
from django.core.exceptions import ImproperlyConfigured

PROVIDERS = ("", "twilio", "fake")
CALLER_ID_POLICIES = ("attested", "proven", "never")


class VoiceSettings(NamedTuple):
    # "twilio" (X-Twilio-Signature), "fake" (tests and the demo) or "" (the hooks answer 404).
    provider: str  # TOWNHALL_VOICE_PROVIDER
    # The provider's auth token: the key of its request signatures.
    auth_token: str  # TOWNHALL_VOICE_AUTH_TOKEN
    # Where "speak to a person" is put through in opening hours (E.164); empty: a message.
    call_centre: str  # TOWNHALL_VOICE_CALL_CENTRE
    # Numbers residents call that greet in Spanish first (E.164, space separated).
    spanish_numbers: tuple[str, ...]  # TOWNHALL_VOICE_SPANISH_NUMBERS
    # The provider's speech-recognition languages for en and es.
    speech_languages: dict[str, str]  # TOWNHALL_VOICE_LANGUAGE_EN / _ES
    # Seconds of a message left out of hours (<Record maxLength>).
    record_seconds: int  # TOWNHALL_VOICE_RECORD_SECONDS
    # A signed (CallSid, step) is remembered this long: a replay is answered, not processed.
    replay_seconds: int  # TOWNHALL_VOICE_REPLAY_SECONDS
    # When the calling number may stand for a resident who proved it (their language and
    # bin-reminder address): "attested" only when the carrier vouched for the number
    # (STIR/SHAKEN full attestation, StirVerstat TN-Validation-Passed-A), "proven" for any
    # proven number (where STIR/SHAKEN is not deployed; caller id can be spoofed), "never".
    caller_id: str  # TOWNHALL_VOICE_CALLER_ID
    # Longer speech-to-text results are cut here (a caller says a sentence, not a page).
    speech_max: int  # TOWNHALL_VOICE_SPEECH_MAX


def voice_settings(env: environ.Env, *, production: bool) -> VoiceSettings:
    provider = env.str("TOWNHALL_VOICE_PROVIDER", default="").strip().lower()
    if provider not in PROVIDERS:
        raise ImproperlyConfigured(
            f"TOWNHALL_VOICE_PROVIDER: {provider!r} is not one of twilio, fake"
        )
    token = env.str("TOWNHALL_VOICE_AUTH_TOKEN", default="")
    if provider and not token:
        raise ImproperlyConfigured("TOWNHALL_VOICE_PROVIDER needs TOWNHALL_VOICE_AUTH_TOKEN")
    caller_id = env.str("TOWNHALL_VOICE_CALLER_ID", default="attested").strip().lower()
    if caller_id not in CALLER_ID_POLICIES:
        raise ImproperlyConfigured(
            f"TOWNHALL_VOICE_CALLER_ID: {caller_id!r} is not one of attested, proven, never"
        )
    if production and provider == "fake":
        raise ImproperlyConfigured("TOWNHALL_VOICE_PROVIDER=fake is for tests and the demo")
    return VoiceSettings(
        provider=provider,
        auth_token=token,
        call_centre=env.str("TOWNHALL_VOICE_CALL_CENTRE", default=""),
        spanish_numbers=tuple(env.str("TOWNHALL_VOICE_SPANISH_NUMBERS", default="").split()),
        speech_languages={
            "en": env.str("TOWNHALL_VOICE_LANGUAGE_EN", default="en-US"),
            "es": env.str("TOWNHALL_VOICE_LANGUAGE_ES", default="es-US"),
        },
        record_seconds=env.int("TOWNHALL_VOICE_RECORD_SECONDS", default=120),
        replay_seconds=env.int("TOWNHALL_VOICE_REPLAY_SECONDS", default=86400),
        caller_id=caller_id,
        speech_max=env.int("TOWNHALL_VOICE_SPEECH_MAX", default=500),
    )
