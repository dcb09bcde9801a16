"""The live chat's service layer: hand-off in and out of hours, take, reply, release, close,
and who may do what."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from townhall.assistant import live, services_live
from townhall.assistant.models import Conversation, SkillExample, Turn
from townhall.assistant.selectors_live import live_chat_may_work, live_chat_open, live_queue
from townhall.core.errors import ValidationFailed
from townhall.people.roles import StaffRole
from townhall.people.services import staff_user_create

# Monday 1 December 2025, 10:00 and 20:00 in Boston (the test council's hours: 9-17).
MONDAY_10 = datetime(2025, 12, 1, 15, 0, tzinfo=UTC)
MONDAY_20 = datetime(2025, 12, 2, 1, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pushed(monkeypatch: Any) -> dict[str, list[Any]]:
    """What would have gone over the channel layer."""
    seen: dict[str, list[Any]] = {"conversation": [], "queue": []}
    monkeypatch.setattr(live, "conversation_push", lambda k, e: seen["conversation"].append((k, e)))
    monkeypatch.setattr(live, "queue_push", lambda e: seen["queue"].append(e))
    return seen


@pytest.fixture
def agents(town: Any) -> dict[str, Any]:
    make = staff_user_create
    return {
        "ana": make(
            username="ana", role=StaffRole.AGENT, password="pw-for-tests-1", first_name="Ana"
        ),
        "bo": make(
            username="bo", role=StaffRole.CASEWORKER, password="pw-for-tests-1", first_name="Bo"
        ),
    }


def _conversation(*texts: str, language: str = "en") -> Conversation:
    conversation = Conversation.objects.create(
        key="k" * 40,
        language=language,
        state={"skill": "report_issue", "slots": {"service": "pothole"}},
    )
    for text in texts:
        Turn.objects.create(conversation=conversation, role=Turn.Role.RESIDENT, text=text)
        Turn.objects.create(
            conversation=conversation, role=Turn.Role.BOT, text="Sorry, I did not get that."
        )
    return conversation


def test_in_hours_the_conversation_waits_for_a_person(town: Any, pushed: Any) -> None:
    with time_machine.travel(MONDAY_10, tick=False):
        conversation = _conversation("the pothole is STILL NOT FIXED")
        assert live_chat_open()
        services_live.conversation_handoff(conversation=conversation, reason="frustrated")
    assert conversation.status == Conversation.Status.QUEUED
    assert conversation.queued_at == MONDAY_10
    assert conversation.handoff_reason == "frustrated"
    last = conversation.turns.last()
    assert last is not None and last.role == Turn.Role.SYSTEM
    assert "A person will join" in last.text
    assert pushed["queue"] == [
        {"type": "queued", "conversation": conversation.pk, "status": "queued"}
    ]
    # The resident's own turn asked for this: its reply carries the news, not a push.
    assert pushed["conversation"] == []
    # A second hand-off (the resident asks again) changes nothing.
    services_live.conversation_handoff(conversation=conversation, reason="asked")
    assert conversation.handoff_reason == "frustrated"


def test_out_of_hours_the_chat_becomes_a_case_with_the_transcript(
    town: Any, no_heat: Any, settings: Any, pushed: Any
) -> None:
    settings.TOWNHALL_LIVE_CHAT_SERVICE = "no_heat"
    with time_machine.travel(MONDAY_20, tick=False):
        conversation = _conversation("deep pothole on Main St", "nobody came, third time")
        assert not live_chat_open()
        services_live.conversation_handoff(conversation=conversation, reason="frustrated")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    assert conversation.outcome == Conversation.Outcome.MESSAGE_LEFT
    case = conversation.case
    assert case is not None and case.service_type_id == no_heat.pk
    assert "nobody came, third time" in case.description
    assert "Resident: deep pothole on Main St" in case.description
    last = conversation.turns.last()
    assert last is not None and case.reference in last.text
    assert last.data["reference"] == case.reference
    assert pushed["queue"] == []  # nobody to tell


def test_out_of_hours_with_an_unknown_service_triage_places_it(town: Any, settings: Any) -> None:
    settings.TOWNHALL_LIVE_CHAT_SERVICE = "no_such_service"
    conversation = _conversation("my street light is out")
    with time_machine.travel(MONDAY_20, tick=False):
        services_live.conversation_handoff(conversation=conversation, reason="asked")
    conversation.refresh_from_db()
    assert conversation.case is not None
    assert conversation.outcome == Conversation.Outcome.MESSAGE_LEFT


def test_hours_setting_overrides_the_calendar(town: Any, settings: Any) -> None:
    settings.TOWNHALL_LIVE_CHAT_HOURS = "Mon-Fri 18:00-22:00; Sun 10:00-12:00"
    assert live_chat_open(at=MONDAY_20)
    assert not live_chat_open(at=MONDAY_10)


def test_take_reply_release_close(town: Any, agents: Any, pushed: Any) -> None:
    conversation = _conversation("I want a person")
    conversation.status, conversation.queued_at = Conversation.Status.QUEUED, MONDAY_10
    conversation.save()
    ana = agents["ana"]
    assert [e.conversation.pk for e in live_queue(user=ana)] == [conversation.pk]
    services_live.conversation_take(conversation_id=conversation.pk, user=ana)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.AGENT and conversation.agent == ana
    joined = pushed["conversation"][-1][1]
    assert joined["type"] == "agent_joined" and joined["name"] == "Ana"
    assert conversation.turns.last().text == "Ana has joined the chat."  # type: ignore[union-attr]

    turn = services_live.agent_reply(conversation_id=conversation.pk, user=ana, text=" Hello! ")
    assert turn.role == Turn.Role.AGENT and turn.author == ana and turn.text == "Hello!"
    assert pushed["conversation"][-1][1] == {
        "type": "message",
        "role": "agent",
        "text": "Hello!",
        "turn": turn.pk,
        "name": "Ana",
    }
    with pytest.raises(ValidationFailed):
        services_live.agent_reply(conversation_id=conversation.pk, user=ana, text="   ")

    services_live.conversation_release(conversation_id=conversation.pk, user=ana)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.QUEUED and conversation.agent is None
    services_live.conversation_take(conversation_id=conversation.pk, user=agents["bo"])
    services_live.conversation_close(conversation_id=conversation.pk, user=agents["bo"])
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    assert conversation.outcome == Conversation.Outcome.HANDED_OFF
    assert pushed["conversation"][-1][1]["type"] == "closed"


def test_an_agent_cannot_answer_a_conversation_someone_else_took(town: Any, agents: Any) -> None:
    conversation = _conversation("help")
    conversation.status = Conversation.Status.QUEUED
    conversation.save()
    services_live.conversation_take(conversation_id=conversation.pk, user=agents["ana"])
    with pytest.raises(services_live.LiveChatRefused):
        services_live.conversation_take(conversation_id=conversation.pk, user=agents["bo"])
    for action in (services_live.conversation_close, services_live.conversation_release):
        with pytest.raises(services_live.LiveChatRefused):
            action(conversation_id=conversation.pk, user=agents["bo"])
    with pytest.raises(services_live.LiveChatRefused):
        services_live.agent_reply(conversation_id=conversation.pk, user=agents["bo"], text="hi")
    assert not conversation.turns.filter(role=Turn.Role.AGENT).exists()


def test_non_staff_are_refused(town: Any, settings: Any, agents: Any) -> None:
    resident = get_user_model().objects.create_user(username="res", password="pw-for-tests-1")
    conversation = _conversation("help")
    conversation.status = Conversation.Status.QUEUED
    conversation.save()
    assert not live_chat_may_work(resident)
    assert live_queue(user=resident) == []
    with pytest.raises(services_live.LiveChatRefused):
        services_live.conversation_take(conversation_id=conversation.pk, user=resident)
    with pytest.raises(services_live.LiveChatRefused):
        services_live.skill_example_add(user=resident, skill="faq", text="hello")
    # With a live-chat group set, staff outside it are refused too.
    settings.TOWNHALL_LIVE_CHAT_GROUP = "Live chat"
    assert not live_chat_may_work(agents["ana"])
    agents["ana"].groups.add(Group.objects.create(name="Live chat"))
    ana = get_user_model().objects.get(pk=agents["ana"].pk)
    assert live_chat_may_work(ana)
    ana.is_active = False
    assert not live_chat_may_work(ana)


def test_resident_messages_are_relayed_to_the_agent(town: Any, pushed: Any) -> None:
    conversation = _conversation("hello")
    turn = conversation.turns.filter(role=Turn.Role.RESIDENT).get()
    services_live.resident_message_relay(conversation=conversation, turn=turn)
    assert pushed["conversation"] == [
        (
            conversation.key,
            {"type": "message", "role": "resident", "text": "hello", "turn": turn.pk},
        )
    ]
    assert pushed["queue"][0]["conversation"] == conversation.pk
    assert conversation.key not in str(pushed["queue"])


def test_staff_teach_the_assistant(town: Any, agents: Any) -> None:
    example = services_live.skill_example_add(
        user=agents["ana"],
        skill="waste_schedule",
        text="  when do the   bin men come ",
        language="en",
    )
    assert example.text == "when do the bin men come" and example.added_by == agents["ana"]
    again = services_live.skill_example_add(
        user=agents["bo"], skill="waste_schedule", text="when do the bin men come"
    )
    assert again.pk == example.pk and SkillExample.objects.count() == 1
    with pytest.raises(ValidationFailed):
        services_live.skill_example_add(user=agents["ana"], skill="nope", text="x")


def test_the_resident_is_told_in_their_language_staff_read_the_sites(
    town: Any, no_heat: Any, settings: Any, pushed: Any
) -> None:
    settings.TOWNHALL_LIVE_CHAT_SERVICE = "no_heat"
    with time_machine.travel(MONDAY_10, tick=False):
        queued = _conversation("no hay calefacción", language="es")
        told = services_live.conversation_handoff(conversation=queued, reason="asked")
    assert told is not None and told.text == "Una persona se unirá a este chat en breve."
    with time_machine.travel(MONDAY_20, tick=False):
        Conversation.objects.filter(pk=queued.pk).update(key="another-key")
        left = _conversation("sigo sin calefacción, es la tercera vez", language="es")
        told = services_live.conversation_handoff(conversation=left, reason="frustrated")
    left.refresh_from_db()
    assert left.case is not None
    assert left.case.description.startswith("Message from the chat")
    assert "Resident: sigo sin calefacción" in left.case.description
    assert told is not None and "Su referencia es " + left.case.reference in told.text


def test_a_conversation_by_text_message_gets_the_agent_by_sms(town: Any, agents: Any) -> None:
    from townhall.notify.models import Notification
    from townhall.people.services import citizen_resolve

    citizen = citizen_resolve(phone="+16175550142")
    conversation = _conversation("help")
    Conversation.objects.filter(pk=conversation.pk).update(
        channel=Conversation.Channel.SMS, citizen=citizen, status=Conversation.Status.QUEUED
    )
    services_live.conversation_take(conversation_id=conversation.pk, user=agents["ana"])
    turn = services_live.agent_reply(conversation_id=conversation.pk, user=agents["ana"], text="Hi")
    sent = list(Notification.objects.order_by("pk").values_list("channel", "to", "body", "key"))
    assert sent[-1] == ("sms", "+16175550142", "Hi", f"assistant-live:{turn.pk}")
    assert sent[0][2] == "Ana has joined the chat."
