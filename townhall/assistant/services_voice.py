"""The assistant by phone (issue 20): one call is one conversation with the same engine as
the web chat and SMS; the caller's words come from the provider's speech-to-text and
menu keys, the answer is read aloud (assistant/speech.py).

The hooks face (hooks/voice.py) checks the provider's signature, refuses replays and
renders a `VoiceAnswer` as the provider's XML; nothing here knows a provider.

- The conversation is found by a keyed hash of the caller's number and the call id
  (`voice_hash_of`): the number is stored nowhere, nor logged.
- A caller's number links the call to a resident only if the resident has proven it
  (never an unproven contact): then their language and their bin-reminder address are
  known. Anything else is answered as for anyone who knows a reference.
- "A person" (0, asked, frustration, twice not understood): in opening hours the call is
  put through to the call centre (`<Dial>`) and the transcript stays on the conversation
  (and on its case, if the call filed one); out of hours the engine leaves the
  conversation as a message on a case and the caller records a message, whose recording
  URL the provider posts later (`voice_recording`): stored on the case, never fetched here.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from townhall.assistant import live
from townhall.assistant.dialogue_base import skill_title
from townhall.assistant.models import Conversation, Turn
from townhall.assistant.replies import Reply
from townhall.assistant.services import conversation_start, message_receive
from townhall.assistant.services_live import conversation_handoff
from townhall.assistant.speech import phrase, reference_from_speech, reference_spoken, spoken_reply
from townhall.cases.services.notes import case_note_add
from townhall.core.ratelimit import RateLimited, rate_limit_hit
from townhall.intake.normalise import text_clean
from townhall.people.models import Channel
from townhall.people.selectors import citizen_by_contact, citizen_verified_contacts
from townhall.waste.models import WasteReminder

log = logging.getLogger(__name__)

PHONE = (
    Conversation.Channel.PHONE
)  # a call's conversation (the case it files: people.Channel.PHONE)
LANGUAGES = ("en", "es")
# Menu keys at the greeting: a skill's button label, "2" the other language.
MENU = {"1": "waste_schedule", "3": "case_status", "4": "report_issue", "0": "human_handoff"}
HOURS_KEY = "5"
SILENCES_BEFORE_GOODBYE = 2
FALLBACKS_BEFORE_PERSON = 2  # not understood twice in a row: a person
REPEATS_BEFORE_PERSON = 2  # the same question asked again twice
_DIGITS = re.compile(r"[0-9*#]{1,20}")
_RECORDING_URL = re.compile(r"https://[A-Za-z0-9.-]+(:\d+)?/[A-Za-z0-9/._~%-]{1,400}")
TRANSCRIPT_MAX = 6000
ANSWERS_KEPT = 3  # the answers of a call's last steps, for a replay of one of them


@dataclass(frozen=True)
class VoiceCall:
    """One provider request, normalised (hooks/voice_providers.py reads the fields)."""

    call_id: str
    caller: str  # E.164, or "" (withheld or unreadable)
    called: str
    digits: str = ""
    speech: str = ""
    confidence: float | None = None
    recording_url: str = ""
    recording_seconds: int = 0
    status: str = ""
    # The carrier vouched for the calling number (STIR/SHAKEN full attestation).
    attested: bool = False


@dataclass(frozen=True)
class VoiceAnswer:
    """What the caller hears next; the face renders it in the provider's language."""

    language: str
    say: tuple[str, ...] = ()
    listen: bool = True  # wait for speech or keys, then post the next step
    step: int = 1  # the step number the next request carries
    hints: tuple[str, ...] = ()
    dial: str = ""  # put through to this number
    record: bool = False  # record a message, then post it to the recording hook
    record_seconds: int = 0
    hangup: bool = False
    also: tuple[tuple[str, str], ...] = ()  # (language, text) said after `say`

    def as_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> VoiceAnswer:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for name in ("say", "hints"):
            fields[name] = tuple(fields.get(name) or ())
        fields["also"] = tuple(tuple(x) for x in fields.get("also") or ())
        return cls(**fields)


@dataclass
class _Caller:
    citizen_id: int | None = None
    language: str = ""
    place: str = ""
    flags: dict[str, Any] = field(default_factory=dict)


def voice_hash_of(number: str, call_id: str) -> str:
    """The keyed hash a call's conversation is found by (neither is stored as given)."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"assistant-voice:{number}:{call_id}".encode(), hashlib.sha256).hexdigest()


def _known_caller(call: VoiceCall) -> _Caller:
    """The resident whose PROVEN number this is (their language, their bin address),
    when the caller id may be believed (TOWNHALL_VOICE_CALLER_ID)."""
    number = call.caller
    policy = settings.TOWNHALL_VOICE.caller_id
    if not number or policy == "never" or (policy == "attested" and not call.attested):
        return _Caller()
    citizen = citizen_by_contact(kind="phone", value=number)
    if citizen is None or number not in {
        c.value for c in citizen_verified_contacts(citizen) if c.kind == "phone"
    }:
        return _Caller()
    reminder = (
        WasteReminder.objects.filter(phone=number, active=True).order_by("-created_at").first()
    )
    return _Caller(
        citizen_id=citizen.pk,
        language=(citizen.preferred_language or "").split("-")[0],
        place=reminder.place.property_id if reminder is not None else "",
    )


def _conversation(call: VoiceCall) -> Conversation | None:
    return (
        Conversation.objects.filter(
            channel=PHONE, sender_hash=voice_hash_of(call.caller, call.call_id)
        )
        .order_by("-id")
        .first()
    )


def _voice_state(conv: Conversation) -> dict[str, Any]:
    return dict((conv.state or {}).get("voice") or {})


def _remember(conv: Conversation, answer: VoiceAnswer, **voice: Any) -> VoiceAnswer:
    """Keep the answer given at this step (a replay of the step gets it again). `conv` is
    fresh: every caller read it after the engine's turn, if any."""
    state = dict(conv.state or {})
    kept = dict(_voice_state(conv).get("answers") or {})
    kept[str(answer.step - 1)] = answer.as_state()  # by the step that was answered
    kept = dict(sorted(kept.items(), key=lambda item: int(item[0]))[-ANSWERS_KEPT:])
    state["voice"] = {
        **_voice_state(conv),
        **voice,
        "step": answer.step,
        "answer": answer.as_state(),
        "answers": kept,
    }
    Conversation.objects.filter(pk=conv.pk).update(state=state)
    conv.state = state
    return answer


def _hints(language: str) -> tuple[str, ...]:
    skills = ("waste_schedule", "case_status", "report_issue", "faq", "human_handoff")
    return tuple(skill_title(s, language) for s in skills)


def _menu(language: str, step: int, *, lead: tuple[str, ...] = ()) -> VoiceAnswer:
    other = "es" if language == "en" else "en"
    return VoiceAnswer(
        language=language,
        say=(*lead, phrase(language, "menu")),
        also=((other, phrase(other, "other_language")),),
        step=step,
        hints=_hints(language),
    )


def _goodbye(language: str, name: str = "goodbye", *, step: int = 0) -> VoiceAnswer:
    return VoiceAnswer(language=language, say=(phrase(language, name),), listen=False,
                       hangup=True, step=step)  # fmt: skip


def voice_too_many(call: VoiceCall) -> VoiceAnswer | None:
    """Count a turn against the caller's number (its keyed hash); the goodbye past it."""
    if not call.caller:
        return None
    try:
        rate_limit_hit(None, "voice", targets=[voice_hash_of(call.caller, "")])
    except RateLimited:
        return _goodbye("en", "busy")
    return None


def voice_call_start(call: VoiceCall) -> VoiceAnswer:
    """The call is answered: greeting and menu in the caller's language."""
    conv = _conversation(call)
    if conv is not None:  # the provider asked twice for the same call: same answer
        return voice_replay(call, step=0)
    caller = _known_caller(call)
    if call.called in settings.TOWNHALL_VOICE.spanish_numbers:
        language = "es"
    elif caller.language in LANGUAGES:
        language = caller.language
    else:
        language = "en"
    conv = conversation_start(
        language=language,
        channel=PHONE,
        citizen_id=caller.citizen_id,
        sender_hash=voice_hash_of(call.caller, call.call_id),
    )
    memory = {"place": caller.place} if caller.place else {}
    conv.state = {"memory": memory}
    conv.save(update_fields=["state"])
    answer = _menu(language, 1, lead=(phrase(language, "greeting"),))
    return _remember(conv, answer, menu=True, silences=0, choices=[])


def voice_replay(call: VoiceCall, *, step: int = 0) -> VoiceAnswer:
    """The answer already given to this step of the call (a replayed request); the
    latest answer for a step too old to be kept."""
    conv = _conversation(call)
    if conv is None:
        return _goodbye("en", "error")
    voice = _voice_state(conv)
    stored = (voice.get("answers") or {}).get(str(step)) or voice.get("answer")
    if not stored:
        return _menu(conv.language, 1)
    return VoiceAnswer.from_state(stored)


def _words(call: VoiceCall, conv: Conversation) -> tuple[str, VoiceAnswer | None]:
    """The caller's words for the engine (speech, else keys), or the answer without it."""
    voice = _voice_state(conv)
    language = conv.language
    speech = text_clean(call.speech or "")[: settings.TOWNHALL_VOICE.speech_max].strip()
    digits = call.digits if _DIGITS.fullmatch(call.digits or "") else ""
    if speech:
        reference = reference_from_speech(speech)
        if reference is not None and reference not in speech.upper():
            speech = f"{speech} {reference}"
        return speech, None
    if not digits:
        return "", None
    if digits == "0":
        return skill_title("human_handoff", language), None
    if voice.get("menu"):
        if digits == "2":
            other = "es" if language == "en" else "en"
            return "", _menu(other, int(voice.get("step") or 1) + 1)
        if digits in MENU:
            return skill_title(MENU[digits], language), None
        if digits == HOURS_KEY:
            return phrase(language, "opening_hours"), None
    choices = list(voice.get("choices") or [])
    if digits.isdigit() and 1 <= int(digits) <= len(choices) and len(digits) == 1:
        return str(choices[int(digits) - 1]), None
    return digits.strip("#*"), None


def voice_turn(call: VoiceCall, *, step: int) -> VoiceAnswer:
    """One step of a call: what the caller said or pressed, the assistant's answer."""
    conv = _conversation(call)
    if conv is None:  # a step with no call started (state expired): start again
        return voice_call_start(call)
    language = conv.language
    if conv.status == Conversation.Status.CLOSED and conv.outcome:
        return _remember(conv, _goodbye(language, step=step + 1))
    text, direct = _words(call, conv)
    if direct is not None:  # the other language: the menu again in it
        Conversation.objects.filter(pk=conv.pk).update(language=direct.language)
        return _remember(conv, direct, menu=True, silences=0, choices=[])
    voice = _voice_state(conv)
    if not text:
        silences = int(voice.get("silences") or 0) + 1
        if silences >= SILENCES_BEFORE_GOODBYE:
            return _remember(conv, _goodbye(language, step=step + 1), silences=silences)
        last = VoiceAnswer.from_state(voice.get("answer") or _menu(language, step).as_state())
        again = VoiceAnswer(
            language=language,
            say=(phrase(language, "silence"), *last.say),
            also=last.also,
            step=step + 1,
            hints=last.hints,
        )
        return _remember(conv, again, silences=silences)
    # The engine answers as for anyone: a caller id (even proven, even attested) is not a
    # sign-in, so no "your requests" and no report filed under the resident's e-mail.
    reply = message_receive(
        conversation=conv.key,
        text=text,
        language=language,
        citizen_id=None,
        channel=PHONE,
        sender_hash=conv.sender_hash,
    )
    conv.refresh_from_db()
    return _after(conv, reply, step=step + 1)


def _misunderstood(conv: Conversation) -> bool:
    state = conv.state or {}
    frame = state.get("frame") or {}
    return (
        int(state.get("fallbacks") or 0) >= FALLBACKS_BEFORE_PERSON
        or int(frame.get("repeats") or 0) >= REPEATS_BEFORE_PERSON
    )


def _after(conv: Conversation, reply: Reply, *, step: int) -> VoiceAnswer:
    language = conv.language
    if conv.status == Conversation.Status.BOT and _misunderstood(conv):
        conversation_handoff(conversation=conv, reason="fallbacks")
        conv.refresh_from_db()
    if conv.status == Conversation.Status.QUEUED:
        return _put_through(conv, step=step)
    if conv.outcome == Conversation.Outcome.MESSAGE_LEFT:
        return _record(conv, reply, step=step)
    said, choices = spoken_reply(reply, language=language)
    state = conv.state or {}
    lines = [said] if said else []
    if not state.get("frame") and not choices:
        lines.append(phrase(language, "anything_else"))
    answer = VoiceAnswer(language=language, say=tuple(lines), step=step, hints=_hints(language))
    # Nothing asked and nothing to choose: the menu's keys work again.
    menu = not state.get("frame") and not choices
    return _remember(conv, answer, menu=menu, silences=0, choices=choices)


def _transcript(conv: Conversation) -> str:
    names: dict[str, str] = {"resident": "Caller", "bot": "Assistant", "system": "System"}
    lines = [
        f"{names.get(str(t.role), str(t.role))}: {t.text}"
        for t in conv.turns.order_by("created_at", "pk")
    ]
    return "\n".join(lines)[-TRANSCRIPT_MAX:]


def _put_through(conv: Conversation, *, step: int) -> VoiceAnswer:
    """In hours: the call goes to the call centre, not the live-chat queue; the transcript
    stays on the conversation (and on the case the call filed, if any) for staff."""
    number = settings.TOWNHALL_VOICE.call_centre
    language = conv.language
    if not number:  # no call centre configured: the caller leaves a message instead
        return _record(conv, None, step=step)
    with transaction.atomic():
        Conversation.objects.filter(pk=conv.pk).update(
            status=Conversation.Status.CLOSED,
            outcome=Conversation.Outcome.HANDED_OFF,
            queued_at=None,
        )
        Turn.objects.create(
            conversation=conv,
            role=Turn.Role.SYSTEM,
            text=phrase("en", "transferred"),
            data={"voice": "dial"},
        )
        # The engine queued it for the live chat: the console's queue is told it is gone.
        pk = conv.pk
        transaction.on_commit(
            lambda: live.queue_push({"type": "closed", "conversation": pk, "status": "closed"})
        )
        if conv.case is not None:
            case_note_add(
                case=conv.case,
                text="Phone call put through to the call centre. Transcript:\n\n"
                + _transcript(conv),
                actor=None,
                channel=Channel.PHONE,
            )
    answer = VoiceAnswer(
        language=language,
        say=(phrase(language, "transfer"),),
        listen=False,
        dial=number,
        hangup=True,
        step=step,
    )
    return _remember(conv, answer, menu=False)


def _record(conv: Conversation, reply: Reply | None, *, step: int) -> VoiceAnswer:
    """Out of hours: the engine kept the conversation as a message on a case (its
    reference is in the reply); the caller adds a recorded message to it."""
    language = conv.language
    said = ""
    if reply is not None:
        said, _choices = spoken_reply(reply, language=language)
    elif conv.case is not None:
        said = reference_spoken(conv.case.reference)
    answer = VoiceAnswer(
        language=language,
        say=tuple(x for x in (said, phrase(language, "record")) if x),
        listen=False,
        record=True,
        record_seconds=settings.TOWNHALL_VOICE.record_seconds,
        hangup=True,
        step=step,
    )
    return _remember(conv, answer, menu=False, recording=True)


def voice_recording(call: VoiceCall, *, step: int) -> VoiceAnswer:
    """The provider's callback once the caller's message is recorded: its URL goes on the
    case as a note for staff (fetched by staff when they listen, never here)."""
    conv = _conversation(call)
    if conv is None:
        return _goodbye("en", "no_recording")
    language = conv.language
    url = call.recording_url.strip()
    if not _voice_state(conv).get("recording") or not _RECORDING_URL.fullmatch(url):
        return _remember(conv, _goodbye(language, "no_recording", step=step + 1))
    text = f"Voice message left out of hours ({call.recording_seconds} s): {url}"
    with transaction.atomic():
        Turn.objects.create(
            conversation=conv,
            role=Turn.Role.SYSTEM,
            text=text,
            data={"voice": "recording", "recording_url": url},
        )
        if conv.case is not None:
            case_note_add(case=conv.case, text=text, actor=None, channel=Channel.PHONE)
    return _remember(conv, _goodbye(language, "recorded", step=step + 1), recording=False)
