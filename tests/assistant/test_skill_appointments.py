"""The assistant's `appointment` skill (issue 21): book, move and cancel from the chat, only
for the proven owner, through the appointments services (confirmation in the outbox)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db.models import F

from tests.appointments.conftest import make_templates, meeting, office, submit
from tests.assistant.conftest import Chat
from townhall.appointments.models import Appointment, AppointmentStatus, Slot
from townhall.appointments.selectors import slots_offered
from townhall.appointments.slots import slots_generate
from townhall.core import clock
from townhall.notify.models import Notification
from townhall.people.services import citizen_email_prove

__all__ = ["meeting", "office"]


@pytest.fixture
def times(office: Any, meeting: Any) -> list[Slot]:
    make_templates(office, meeting)
    slots_generate(now=clock.now(), days=14)
    return slots_offered(meeting=meeting, now=clock.now())


@pytest.fixture
def maria(pothole: Any, meeting: Any, times: list[Slot]) -> Any:
    """A proven resident with one open request whose service needs a meeting."""
    citizen = citizen_email_prove(email="maria@example.com")
    case = submit(pothole, "maria@example.com")
    return citizen, case


def numbered(answer: str) -> list[str]:
    return re.findall(r"^(\d+)\. ", answer, flags=re.M)


def booked_messages(kind: str) -> int:
    return Notification.objects.filter(kind=kind).count()


def test_a_signed_in_owner_books_the_time_they_choose(maria: Any, times: list[Slot]) -> None:
    citizen, case = maria
    chat = Chat(citizen_id=citizen.pk)
    answer = chat.say("I need an appointment about my request")
    assert case.reference in answer
    assert numbered(answer) == ["1", "2", "3", "4", "5"]
    assert "EST" in answer or "EDT" in answer  # the office's time zone, named
    answer = chat.say("2")
    assert "Your appointment is booked" in answer, answer
    appointment = Appointment.objects.get(case=case)
    assert appointment.slot_id == times[1].pk and appointment.citizen_id == citizen.pk
    assert appointment.status == AppointmentStatus.BOOKED
    assert booked_messages("appt_booked") == 1  # the confirmation (with its iCal) went out
    assert any(str(appointment.public_id) in url for _, url in chat.sources)


def test_a_time_taken_meanwhile_offers_the_times_still_free(maria: Any, times: list[Slot]) -> None:
    citizen, case = maria
    chat = Chat(citizen_id=citizen.pk)
    chat.say("book an appointment")
    Slot.objects.filter(pk=times[0].pk).update(booked=F("capacity"))  # someone else took it
    answer = chat.say("1")
    assert "Someone has just booked that time" in answer
    assert not Appointment.objects.filter(case=case).exists()
    assert numbered(answer)  # new times offered
    chat.say("1")
    appointment = Appointment.objects.get(case=case)
    assert appointment.slot_id == times[1].pk


def test_an_answer_that_is_no_time_asks_again(maria: Any) -> None:
    citizen, _case = maria
    chat = Chat(citizen_id=citizen.pk)
    chat.say("book a meeting")
    assert "Reply with the number" in chat.say("99")
    assert not Appointment.objects.exists()


def test_moving_keeps_the_appointment_and_tells_the_resident(maria: Any, times: list[Slot]) -> None:
    citizen, case = maria
    chat = Chat(citizen_id=citizen.pk)
    chat.say("book an appointment")
    chat.say("1")
    first = Appointment.objects.get(case=case)
    answer = Chat(citizen_id=citizen.pk).say("I need to reschedule my appointment")
    assert "Your appointment is on" in answer
    chat2 = Chat(citizen_id=citizen.pk)
    chat2.say("move my appointment")
    answer = chat2.say("3")
    assert "has moved" in answer, answer
    moved = Appointment.objects.get(pk=first.pk)
    assert moved.slot_id != first.slot_id and moved.version == first.version + 1
    assert booked_messages("appt_moved") == 1
    assert Slot.objects.get(pk=first.slot_id).booked == 0


def test_cancelling_asks_first_then_frees_the_seat(maria: Any) -> None:
    citizen, case = maria
    chat = Chat(citizen_id=citizen.pk)
    chat.say("book an appointment")
    chat.say("1")
    appointment = Appointment.objects.get(case=case)
    chat = Chat(citizen_id=citizen.pk)
    answer = chat.say("cancel my appointment")
    assert "Reply yes or no" in answer
    assert "I have kept your appointment" in chat.say("no")
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED
    chat = Chat(citizen_id=citizen.pk)
    chat.say("please cancel the meeting I booked")
    answer = chat.say("yes")
    assert "is cancelled" in answer and case.reference in answer
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CANCELLED
    assert Slot.objects.get(pk=appointment.slot_id).booked == 0
    assert booked_messages("appt_cancelled") == 1


def test_an_anonymous_chat_is_asked_to_sign_in_and_sees_nothing(maria: Any) -> None:
    citizen, case = maria
    owner = Chat(citizen_id=citizen.pk)
    owner.say("book an appointment")
    owner.say("1")
    appointment = Appointment.objects.get(case=case)
    for text in (
        "book an appointment",
        "cancel my appointment",
        f"cancel appointment {appointment.public_id}",
        f"move my appointment for {case.reference}",
    ):
        chat = Chat()
        answer = chat.say(text)
        if "Did you mean" in answer:  # a reference also reads as a status question
            answer = chat.say("Appointments")
        assert "sign in" in answer.lower(), (text, answer)
        assert case.reference not in answer and str(appointment.public_id) not in answer
        assert all(str(appointment.public_id) not in url for _, url in chat.sources)
        assert chat.say("yes") and chat.say("1")  # nothing pending acts on it
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED
    assert Appointment.objects.get(pk=appointment.pk).version == appointment.version


def test_another_residents_appointment_is_never_shown_moved_or_cancelled(
    maria: Any, pothole: Any
) -> None:
    citizen, case = maria
    owner = Chat(citizen_id=citizen.pk)
    owner.say("book an appointment")
    owner.say("1")
    appointment = Appointment.objects.get(case=case)
    other = citizen_email_prove(email="eve@example.org")
    chat = Chat(citizen_id=other.pk)
    answer = chat.say(f"cancel appointment {appointment.public_id} for {case.reference}")
    assert "no appointments" in answer
    chat = Chat(citizen_id=other.pk)
    answer = chat.say(f"book an appointment for {case.reference}")
    if "Did you mean" in answer:  # a reference also reads as a status question
        answer = chat.say("Appointments")
    assert case.reference not in answer and "none of your open requests" in answer
    answer = Chat(citizen_id=other.pk).say("what appointments do I have")
    assert case.reference not in answer
    assert Appointment.objects.get(pk=appointment.pk).version == appointment.version


def test_a_report_typed_with_someone_elses_email_is_not_theirs_to_book(
    pothole: Any, meeting: Any, times: list[Slot]
) -> None:
    """A report that came through a contact the signed-in resident has not proven."""
    submit(pothole, "victim@example.org")
    victim_account = citizen_email_prove(email="someone@example.org")
    chat = Chat(citizen_id=victim_account.pk)
    assert "none of your open requests" in chat.say("book an appointment")
    assert not Appointment.objects.exists()


def test_several_requests_ask_which_then_book_the_one_chosen(
    pothole: Any, meeting: Any, times: list[Slot]
) -> None:
    citizen = citizen_email_prove(email="maria@example.com")
    first = submit(pothole, "maria@example.com")
    second = submit(pothole, "maria@example.com")
    chat = Chat(citizen_id=citizen.pk)
    answer = chat.say("book an appointment")
    assert "Which request" in answer
    assert first.reference in answer and second.reference in answer
    answer = chat.say(second.reference)
    assert second.reference in answer and numbered(answer)
    chat.say("1")
    assert Appointment.objects.get().case_id == second.pk


def test_listing_the_residents_appointments(maria: Any) -> None:
    citizen, case = maria
    chat = Chat(citizen_id=citizen.pk)
    assert "no appointments" in chat.say("when is my appointment")
    chat = Chat(citizen_id=citizen.pk)
    chat.say("book an appointment")
    chat.say("1")
    answer = Chat(citizen_id=citizen.pk).say("what appointments do I have")
    assert case.reference in answer


def test_changes_count_against_the_appointment_limit(maria: Any, settings: Any) -> None:
    citizen, case = maria
    settings.TOWNHALL_RATE_LIMITS = {
        **settings.TOWNHALL_RATE_LIMITS,
        "appointment.target": "1/hour",
    }
    settings.TOWNHALL_RATE_LIMITS_ENABLED = True
    chat = Chat(citizen_id=citizen.pk)
    chat.say("book an appointment")
    chat.say("1")
    chat = Chat(citizen_id=citizen.pk)
    chat.say("cancel my appointment")
    assert "wait a few minutes" in chat.say("yes")
    assert Appointment.objects.get(case=case).status == AppointmentStatus.BOOKED


def test_spanish(maria: Any) -> None:
    citizen, _case = maria
    chat = Chat(citizen_id=citizen.pk, language="es")
    answer = chat.say("quiero pedir cita")
    assert "Las próximas horas libres" in answer, answer
    assert "Su cita está reservada" in chat.say("1")
