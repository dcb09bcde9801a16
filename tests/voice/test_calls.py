"""Scripted calls, one per skill, through the signed webhooks and the real understanding:
what the caller hears, and what is left behind (conversation, case, notes)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.voice.conftest import CALL_CENTRE, NUMBER, SPANISH_LINE, Caller
from townhall.assistant.models import Conversation, Turn
from townhall.assistant.services_voice import voice_hash_of
from townhall.cases.models import Case, CaseEvent, CaseEventPersonal
from townhall.people.models import ContactPoint
from townhall.people.services import citizen_resolve
from townhall.waste.models import WasteReminder


def _no_links(caller: Caller) -> None:
    heard = caller.heard
    assert "http" not in heard and "www." not in heard and "•" not in heard and "**" not in heard


def test_the_greeting_offers_the_menu_and_spanish_and_listens(caller: Caller) -> None:
    heard = caller.call()
    assert caller.status == 200
    assert "press 1 for bin days" in heard and "Para español, oprima 2." in heard
    assert caller.said_in() == ["en-US", "en-US", "es-US"]
    gather = caller.verb("Gather")
    assert gather is not None and gather.attrib["input"] == "speech dtmf"
    assert gather.attrib["action"] == "https://council.example.org/hooks/voice/turn/?step=1"
    assert "Bin days" in gather.attrib["hints"]
    conversation = Conversation.objects.get()
    assert conversation.channel == "phone" and conversation.language == "en"
    assert conversation.sender_hash == voice_hash_of(NUMBER, caller.sid)
    assert NUMBER not in str(conversation.state)


def test_pressing_2_switches_to_spanish_and_the_spanish_line_greets_in_spanish(
    client: Client, voice: Any
) -> None:
    caller = Caller(client)
    caller.call()
    heard = caller.press("2")
    assert "oprima 1 para los días de basura" in heard and "For English, press 2." in heard
    assert caller.said_in()[0] == "es-US"
    assert Conversation.objects.get().language == "es"
    spanish = Caller(client, to=SPANISH_LINE)
    assert "Hola" in spanish.call()
    assert spanish.verb("Gather").attrib["language"] == "es-US"  # type: ignore[union-attr]


def test_a_proven_number_greets_in_the_residents_language_an_unproven_one_does_not(
    client: Client, voice: Any
) -> None:
    citizen = citizen_resolve(phone=NUMBER)
    citizen.preferred_language = "es"
    citizen.save()
    ContactPoint.objects.filter(citizen=citizen, kind="phone").update(verified=False)
    unproven = Caller(client)
    assert "Hello" in unproven.call()
    assert Conversation.objects.get().citizen_id is None
    ContactPoint.objects.filter(citizen=citizen, kind="phone").update(verified=True)
    proven = Caller(client)
    assert "Hola" in proven.call()
    assert Conversation.objects.get(sender_hash=voice_hash_of(NUMBER, proven.sid)).citizen_id == (
        citizen.pk
    )


def test_bin_days_by_a_spelled_address_are_read_without_links_and_shortened(
    caller: Caller, home: Any
) -> None:
    caller.call()
    assert "What is your address?" in caller.say("When is my bin collected?")
    heard = caller.say("100 Queen Street West")
    assert "Next collections at 100 Queen Street West." in heard
    assert "December 2026" in heard and "And 1 more." in heard
    assert "anything else" in heard
    _no_links(caller)


def test_bin_days_from_the_known_address_only_for_a_proven_number(
    client: Client, voice: Any, home: Any
) -> None:
    citizen = citizen_resolve(phone=NUMBER)
    WasteReminder.objects.create(place=home, phone=NUMBER)
    ContactPoint.objects.filter(citizen=citizen, kind="phone").update(verified=True)
    proven = Caller(client)
    proven.call()
    assert "Next collections at 100 Queen Street West" in proven.press("1")
    # Someone else calling from a number nobody proved (or spoofing one) is asked.
    ContactPoint.objects.filter(citizen=citizen, kind="phone").update(verified=False)
    unproven = Caller(client)
    unproven.call()
    heard = unproven.press("1")
    assert "What is your address?" in heard and "Queen Street" not in heard


def test_a_report_by_phone_files_a_phone_case_and_reads_the_reference_digit_by_digit(
    caller: Caller, home: Any
) -> None:
    caller.call()
    assert "What kind of problem" in caller.press("4")
    assert "How big is it?" in caller.say("there is a big pothole")
    assert "Say the address" in caller.press("2")
    assert "describe the problem" in caller.say("100 Queen Street West")
    assert "skip" in caller.say("it is deep and dangerous")
    summary = caller.press("1")  # "Skip": the first choice
    assert "Place: 100 Queen Street West." in summary and "Description:" in summary
    heard = caller.say("yes")
    case = Case.objects.get()
    assert case.channel == "phone"
    spoken = ", ".join(" ".join(part) for part in case.reference.split("-"))
    assert f"Your reference is {spoken}." in heard
    assert case.reference not in heard  # never read as one long number
    assert Conversation.objects.get().case == case
    _no_links(caller)


def test_case_status_by_a_reference_heard_as_words(caller: Caller, home: Any) -> None:
    from tests.voice.test_abuse import case_by_web

    case = case_by_web()
    _th, year, number = case.reference.split("-")
    said = f"T H {' '.join(year)} dash {' '.join(number)}"
    caller.call()
    assert "reference" in caller.press("3")
    heard = caller.say(said)
    assert "Pothole" in heard and "New" in heard
    assert " ".join(number) in heard
    assert "12 Elm" not in heard and "@" not in heard  # what the public page shows, no more
    _no_links(caller)


def test_opening_hours_and_questions_are_answered_from_the_help_articles(
    caller: Caller, help_articles: Any
) -> None:
    caller.call()
    heard = caller.press("5")
    assert "library" in heard.lower() and "Read more" in heard
    _no_links(caller)
    heard = caller.say("how do I pay my council tax")
    assert "tax" in heard.lower()


def test_asking_for_a_person_in_hours_puts_the_call_through_with_the_transcript_kept(
    caller: Caller,
) -> None:
    caller.call()
    heard = caller.say("I want to speak to a person")
    dial = caller.verb("Dial")
    assert dial is not None and dial.text == CALL_CENTRE
    assert "putting you through" in heard and caller.verb("Gather") is None
    conversation = Conversation.objects.get()
    assert conversation.status == "closed" and conversation.outcome == "handed_off"
    roles = list(conversation.turns.values_list("role", flat=True))
    assert roles[0] == Turn.Role.RESIDENT and roles[-1] == Turn.Role.SYSTEM
    assert conversation.turns.filter(text="I want to speak to a person").exists()


def test_zero_is_a_person_anywhere_and_twice_not_understood_is_too(
    client: Client, voice: Any
) -> None:
    caller = Caller(client)
    caller.call()
    caller.press("3")
    caller.press("0")
    assert caller.verb("Dial") is not None
    muddled = Caller(client)
    muddled.call()
    muddled.say("purple elephants singing loudly")
    muddled.say("blue giraffes dancing on rooftops")
    assert muddled.verb("Dial") is not None


def test_out_of_hours_the_caller_leaves_a_recorded_message_on_a_case(
    caller: Caller, voice: Any
) -> None:
    voice.TOWNHALL_LIVE_CHAT_HOURS = "Mon-Sun 00:00-00:00"  # never open
    caller.call()
    heard = caller.press("0")
    record = caller.verb("Record")
    assert record is not None and record.attrib["maxLength"] == "120"
    assert "leave your message after the tone" in heard
    conversation = Conversation.objects.get()
    case = conversation.case
    assert conversation.outcome == "message_left" and case is not None and case.channel == "phone"
    spoken = ", ".join(" ".join(part) for part in case.reference.split("-"))
    assert spoken in heard
    heard = caller.recorded()
    assert "Your message has been passed to our team" in heard and caller.verb("Hangup") is not None
    note = CaseEvent.objects.filter(case=case, kind="note").get()
    text = CaseEventPersonal.objects.get(event=note, field="text").value
    assert "https://api.twilio.com/2010-04-01/Accounts/" in text
    assert "Recordings/RE5d1f0a2b3c4d5e6f7a8b9c0d1e2f3a4b" in text


def test_silence_is_asked_again_then_the_call_ends(caller: Caller) -> None:
    caller.call()
    heard = caller.silence()
    assert heard.startswith("Sorry, I didn't hear anything.") and "press 1" in heard
    heard = caller.silence()
    assert "Goodbye" in heard and caller.verb("Hangup") is not None


@pytest.mark.parametrize("digits", ["9", "*", "#"])
def test_a_key_the_menu_does_not_know_is_not_understood_not_an_error(
    caller: Caller, digits: str
) -> None:
    caller.call()
    caller.press(digits)
    assert caller.status == 200 and caller.verb("Gather") is not None


def test_a_person_after_a_report_leaves_the_transcript_on_its_case(
    caller: Caller, home: Any
) -> None:
    caller.call()
    caller.press("4")
    caller.say("there is a big pothole")
    caller.press("2")
    caller.say("100 Queen Street West")
    caller.say("it is deep and dangerous")
    caller.press("1")
    caller.say("yes")
    case = Case.objects.get()
    caller.press("0")
    assert caller.verb("Dial") is not None
    note = CaseEvent.objects.filter(case=case, kind="note").get()
    text = CaseEventPersonal.objects.get(event=note, field="text").value
    assert "Caller: it is deep and dangerous" in text and "Assistant:" in text
    assert NUMBER not in text


def test_a_frustrated_caller_is_put_through(caller: Caller, monkeypatch: Any) -> None:
    from townhall.experience import tone

    monkeypatch.setattr(
        tone,
        "frustration_score",
        lambda text, **kw: 0.9 if "useless" in text else 0.1,
    )
    caller.call()
    caller.say("when is my bin day")
    heard = caller.say("this is useless, you never understand anything")
    assert caller.verb("Dial") is not None and "putting you through" in heard
    conversation = Conversation.objects.get()
    assert conversation.handoff_reason == "frustrated" and conversation.outcome == "handed_off"


def test_the_console_queue_is_told_a_call_put_through_is_gone(
    caller: Caller, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from townhall.assistant import live

    pushed: list[dict[str, Any]] = []
    monkeypatch.setattr(live, "queue_push", pushed.append)
    caller.call()
    with django_capture_on_commit_callbacks(execute=True):
        caller.press("0")
    assert [event["type"] for event in pushed] == ["queued", "closed"]
    assert all(NUMBER not in str(event) for event in pushed)


def test_a_proven_number_counts_only_when_the_carrier_vouched_for_it_by_default(
    client: Client, voice: Any, home: Any
) -> None:
    citizen = citizen_resolve(phone=NUMBER)
    WasteReminder.objects.create(place=home, phone=NUMBER)
    ContactPoint.objects.filter(citizen=citizen, kind="phone").update(verified=True)
    spoofable = Caller(client)
    spoofable.call(StirVerstat="TN-Validation-Passed-C")
    assert "What is your address?" in spoofable.press("1")
    voice.TOWNHALL_VOICE = voice.TOWNHALL_VOICE._replace(caller_id="proven")
    trusted = Caller(client)
    trusted.call(StirVerstat="")
    assert "Next collections at 100 Queen Street West" in trusted.press("1")
    voice.TOWNHALL_VOICE = voice.TOWNHALL_VOICE._replace(caller_id="never")
    never = Caller(client)
    never.call()
    assert "What is your address?" in never.press("1")


def test_a_known_caller_is_not_signed_in_their_requests_are_not_listed(
    client: Client, voice: Any
) -> None:
    from tests.voice.test_abuse import case_by_web

    case = case_by_web()
    citizen = case.reporter
    assert citizen is not None
    ContactPoint.objects.create(citizen=citizen, kind="phone", value=NUMBER, verified=True)
    ContactPoint.objects.filter(citizen=citizen, kind="email").update(verified=True)
    caller = Caller(client)
    caller.call()
    heard = caller.press("3")
    assert "reference" in heard and "Pothole" not in heard
