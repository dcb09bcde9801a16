"""The phone assistant's webhooks (issue 20; docs/voice.md): the provider posts each step
of a call here and reads our answer aloud.

Every request, in order: the per-address hooks limit; the provider's signature over our
public URL (TOWNHALL_PUBLIC_URL, never the Host header) and its fields, else 403 and
nothing done; the call's fields (no call id: 400 with a spoken goodbye); the per-number
limit; the replay check on (call, step): a step taken before is answered again as it was,
not processed twice. Whatever fails after that, the caller hears an apology (never a 500
nor a trace). Views stay thin: the call itself is assistant/services_voice.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from townhall.assistant.services_voice import (
    VoiceAnswer,
    VoiceCall,
    voice_call_start,
    voice_recording,
    voice_replay,
    voice_too_many,
    voice_turn,
)
from townhall.core.errors import ValidationFailed
from townhall.core.security import SecurityEventKind, security_event
from townhall.hooks.replay import callback_claim, callback_release
from townhall.hooks.views import hooks_rate_limited
from townhall.hooks.voice_providers import VoiceProvider, twiml, voice_provider

log = logging.getLogger(__name__)

STEP_MAX = 500
Handler = Callable[[VoiceCall, int], VoiceAnswer]


def _public(name: str, step: int) -> str:
    return f"{settings.TOWNHALL_PUBLIC_URL.rstrip('/')}{reverse(name)}?step={step}"


def _xml(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def _answer(provider: VoiceProvider | None, answer: VoiceAnswer, status: int = 200) -> HttpResponse:
    """The answer as the provider's XML (TwiML for Twilio and the fake)."""
    action = _public("hooks:voice-turn", answer.step)
    recording = _public("hooks:voice-recording", answer.step)
    if provider is None:
        languages = dict(settings.TOWNHALL_VOICE.speech_languages)
        return _xml(
            twiml(answer, action=action, recording_action=recording, languages=languages), status
        )
    return _xml(provider.render(answer, action=action, recording_action=recording), status)


def _apology(provider: VoiceProvider | None, status: int = 200) -> HttpResponse:
    from townhall.assistant.speech import phrase

    answer = VoiceAnswer(language="en", say=(phrase("en", "error"),), listen=False, hangup=True)
    return _answer(provider, answer, status)


def _step(request: HttpRequest) -> int:
    raw = request.GET.get("step", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= STEP_MAX else 0


def _voice(request: HttpRequest, kind: str, handle: Handler) -> HttpResponse:
    provider = voice_provider()
    if provider is None:
        return HttpResponse("voice is not enabled", status=404, content_type="text/plain")
    try:
        params = {str(k): str(request.POST.get(k, "")) for k in request.POST}
    except Exception:  # too large, too many fields, unreadable: nothing we can check
        return _apology(provider, status=400)
    signature = str(request.META.get(provider.signature_header, ""))
    # Behind a proxy the provider signed the public address, not the Host we are given.
    url = settings.TOWNHALL_PUBLIC_URL.rstrip("/") + request.get_full_path()
    if not provider.request_is_authentic(url=url, params=params, signature=signature):
        security_event(
            SecurityEventKind.SIGNATURE_REFUSED,
            request=request,
            subject=f"voice-{kind}",
            detail={"why": "signature" if signature else "unsigned"},
        )
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    try:
        call = provider.call_of(params)
    except ValidationFailed:
        return _apology(provider, status=400)
    step = _step(request)
    busy = voice_too_many(call)
    if busy is not None:
        return _answer(provider, busy)
    claim = f"{call.call_id}:{step}"
    if not callback_claim(
        f"voice-{kind}", claim, window_seconds=settings.TOWNHALL_VOICE.replay_seconds
    ):
        # The same step again (a provider retry, or a replay): the answer it had, once.
        security_event(
            SecurityEventKind.SIGNATURE_REFUSED,
            request=request,
            subject=f"voice-{kind}",
            detail={"why": "replay"},
        )
        try:
            return _answer(provider, voice_replay(call, step=step))
        except Exception:
            log.exception("voice: a replayed step could not be answered")
            return _apology(provider)
    try:
        answer = handle(call, step)
    except Exception:
        # The words and the number are not logged; the provider may retry the step.
        log.exception("voice: a %s step failed", kind)
        callback_release(f"voice-{kind}", claim)
        return _apology(provider)
    return _answer(provider, answer)


@csrf_exempt
@require_POST
@hooks_rate_limited
def voice_incoming_view(request: HttpRequest) -> HttpResponse:
    """A call is answered: the greeting and the menu."""
    return _voice(request, "start", lambda call, step: voice_call_start(call))


@csrf_exempt
@require_POST
@hooks_rate_limited
def voice_turn_view(request: HttpRequest) -> HttpResponse:
    """What the caller said or pressed at a step; the assistant's answer."""
    return _voice(request, "turn", lambda call, step: voice_turn(call, step=step))


@csrf_exempt
@require_POST
@hooks_rate_limited
def voice_recording_view(request: HttpRequest) -> HttpResponse:
    """The message recorded out of hours: its URL goes on the case."""
    return _voice(request, "recording", lambda call, step: voice_recording(call, step=step))
