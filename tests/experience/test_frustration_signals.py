"""Signals recorded where they happen: the assistant (fallbacks, tone, a hand-off nobody
could answer, a report started in the chat and left), the portal (a resident's update on
their request). Only ids and labels are kept, never the words."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tests.assistant.conftest import Chat
from townhall.assistant import services_live
from townhall.assistant.models import Conversation, Turn
from townhall.assistant.services import conversations_abandon_idle
from townhall.core import clock
from townhall.experience import tone
from townhall.experience.models import JourneySignal, SignalKind
from townhall.portal.accounts import sign_in_token
from townhall.portal.links import track_token
from townhall.portal.services import Location, report_submit

pytestmark = pytest.mark.django_db


def _kinds() -> list[str]:
    return sorted(JourneySignal.objects.values_list("kind", flat=True))


def test_a_chat_turn_not_understood_and_cross_is_recorded(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setattr(tone, "frustration_score", lambda text, **kw: 0.7)
    settings.TOWNHALL_ASSISTANT_HANDOFF_THRESHOLD = 0.95  # no hand-off: the fallback runs
    chat = Chat()
    chat.say("zzz qqq")
    conversation = Conversation.objects.get(key=chat.key)
    assert _kinds() == [SignalKind.ASSISTANT_FALLBACK, SignalKind.NEGATIVE_TONE]
    tone_signal = JourneySignal.objects.get(kind=SignalKind.NEGATIVE_TONE)
    assert tone_signal.value == pytest.approx(0.7)
    assert tone_signal.data == {"conversation": conversation.pk}


def test_a_calm_turn_is_not_negative_tone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tone, "frustration_score", lambda text, **kw: 0.49)
    Chat().say("zzz qqq")
    assert _kinds() == [SignalKind.ASSISTANT_FALLBACK]


def test_a_hand_off_out_of_hours_is_a_bounced_hand_off(
    town: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services_live, "live_chat_open", lambda at: False)
    conversation = Conversation.objects.create(key="k-out-of-hours", language="en")
    services_live.conversation_handoff(conversation=conversation, reason="asked")
    (signal,) = JourneySignal.objects.all()
    assert signal.kind == SignalKind.BOUNCED_HANDOFF
    assert signal.data == {"conversation": conversation.pk, "reason": "out_of_hours"}
    conversation.refresh_from_db()
    assert signal.case_id == conversation.case_id  # the message it was left as, if any


def test_a_hand_off_in_hours_is_not(town: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services_live, "live_chat_open", lambda at: True)
    conversation = Conversation.objects.create(key="k-in-hours", language="en")
    services_live.conversation_handoff(conversation=conversation, reason="asked")
    assert not JourneySignal.objects.exists()


def test_a_report_left_half_way_in_the_chat_is_an_abandoned_form() -> None:
    report = Conversation.objects.create(
        key="k-report", state={"frame": {"skill": "report_issue", "slots": {}}}
    )
    Conversation.objects.create(key="k-question", state={"frame": {"skill": "bin_day"}})
    Conversation.objects.create(key="k-idle", state={})
    later = clock.now() + dt.timedelta(hours=2)
    assert conversations_abandon_idle(idle=dt.timedelta(minutes=30), now=later) == 3
    (signal,) = JourneySignal.objects.all()
    assert signal.kind == SignalKind.ABANDONED_FORM
    assert signal.data == {"conversation": report.pk, "skill": "report_issue"}
    # Closed once: the next run finds nothing more to record.
    conversations_abandon_idle(idle=dt.timedelta(minutes=30), now=later)
    assert JourneySignal.objects.count() == 1


def test_a_chat_left_without_an_answer_is_an_abandoned_chat() -> None:
    asked = Conversation.objects.create(key="k-asked", state={"frame": {"skill": "bin_day"}})
    asked.turns.create(role=Turn.Role.RESIDENT, text="when is my bin day")
    asked.turns.create(role=Turn.Role.BOT, text="What is your address?")
    report = Conversation.objects.create(
        key="k-report-2", state={"frame": {"skill": "report_issue", "slots": {}}}
    )
    report.turns.create(role=Turn.Role.RESIDENT, text="a pothole")
    Conversation.objects.create(key="k-opened-only", state={})  # the widget, never used
    done = Conversation.objects.create(key="k-done", outcome=Conversation.Outcome.CONTAINED)
    done.turns.create(role=Turn.Role.RESIDENT, text="opening hours")
    later = clock.now() + dt.timedelta(hours=2)
    assert conversations_abandon_idle(idle=dt.timedelta(minutes=30), now=later) == 4
    kinds = sorted(JourneySignal.objects.values_list("kind", "data__conversation"))
    assert kinds == [
        (SignalKind.ABANDONED_FORM, report.pk),
        (SignalKind.CHAT_ABANDONED, asked.pk),
    ]


def test_a_residents_angry_update_on_their_request_is_negative_tone(
    client: Client, pothole: Any
) -> None:
    report = report_submit(
        service_type=pothole,
        location=Location(42.36, -71.09, "12 Elm Street", ""),
        description="Deep hole outside number 12",
        answers={"size": "large"},
        email="maria@example.com",
        name="Maria",
    )
    assert client.post(f"/account/sign-in/{sign_in_token('maria@example.com')}/").status_code == 302
    url = f"/requests/{track_token(report)}/update/"
    client.post(url, {"text": "It is getting deeper after the rain"})
    assert not JourneySignal.objects.exists()
    client.post(
        url, {"text": "THREE WEEKS and still nothing!!! This is a joke, you never fix anything"}
    )
    (signal,) = JourneySignal.objects.all()
    assert (signal.kind, signal.case_id, signal.citizen_id) == (
        SignalKind.NEGATIVE_TONE,
        report.pk,
        report.reporter_id,
    )
    assert signal.data == {} and signal.value >= 0.5
