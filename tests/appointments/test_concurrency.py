"""No double booking under concurrent requests, on PostgreSQL: many threads race for the
seats of a few slots; exactly the seats there are get booked, never one more."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from tests.appointments.conftest import make_templates, submit
from townhall.appointments.models import Appointment, AppointmentStatus, Slot
from townhall.appointments.selectors import slots_offered
from townhall.appointments.services import SlotUnavailable, appointment_book
from townhall.appointments.slots import slots_generate
from townhall.core import clock

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are exercised on PostgreSQL (DATABASE_URL); SQLite has one writer")


def _race(cases: list[Any], slot_ids: list[int]) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(len(cases))
    booked: list[Any] = []
    errors: list[BaseException] = []

    def book(n: int) -> None:
        try:
            barrier.wait()
            for slot_id in slot_ids[n % len(slot_ids) :] + slot_ids[: n % len(slot_ids)]:
                try:
                    booked.append(
                        appointment_book(
                            case=cases[n],
                            citizen=cases[n].reporter,
                            slot_id=slot_id,
                            now=clock.now(),
                        )
                    )
                    return
                except SlotUnavailable:
                    continue
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=book, args=(n,)) for n in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return booked, errors


def test_twelve_residents_race_for_one_seat(office: Any, meeting: Any, pothole: Any) -> None:
    make_templates(office, meeting)
    slots_generate(now=clock.now(), days=7)
    slot = slots_offered(meeting=meeting, now=clock.now())[0]
    cases = [submit(pothole, f"r{n}@example.org", f"R{n}") for n in range(12)]
    booked, errors = _race(cases, [slot.pk])
    assert errors == []
    assert len(booked) == 1
    assert Slot.objects.get(pk=slot.pk).booked == 1
    assert Appointment.objects.filter(slot=slot, status=AppointmentStatus.BOOKED).count() == 1


def test_sixteen_residents_race_for_three_slots_of_two_seats(
    office: Any, meeting: Any, pothole: Any
) -> None:
    make_templates(office, meeting, capacity=2)
    slots_generate(now=clock.now(), days=7)
    chosen = [s.pk for s in slots_offered(meeting=meeting, now=clock.now())[:3]]
    cases = [submit(pothole, f"s{n}@example.org", f"S{n}") for n in range(16)]
    booked, errors = _race(cases, chosen)
    assert errors == []
    assert len(booked) == 6
    for slot_id in chosen:
        seats = sorted(
            Appointment.objects.filter(slot_id=slot_id, status="booked").values_list(
                "seat", flat=True
            )
        )
        assert seats == [1, 2]
        assert Slot.objects.get(pk=slot_id).booked == 2


def test_two_residents_swapping_times_at_once_do_not_deadlock(
    office: Any, meeting: Any, pothole: Any
) -> None:
    from townhall.appointments.services import appointment_move

    make_templates(office, meeting, capacity=2)
    slots_generate(now=clock.now(), days=7)
    first, second = slots_offered(meeting=meeting, now=clock.now())[:2]
    a_case, b_case = (submit(pothole, f"w{n}@example.org") for n in range(2))
    a = appointment_book(case=a_case, citizen=a_case.reporter, slot_id=first.pk, now=clock.now())
    b = appointment_book(case=b_case, citizen=b_case.reporter, slot_id=second.pk, now=clock.now())
    errors: list[BaseException] = []

    def swap(appointment: Any, there: int, back: int) -> None:
        try:
            for _ in range(5):
                appointment_move(appointment=appointment, slot_id=there, now=clock.now())
                appointment_move(appointment=appointment, slot_id=back, now=clock.now())
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=swap, args=(a, second.pk, first.pk)),
        threading.Thread(target=swap, args=(b, first.pk, second.pk)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Slot.objects.get(pk=first.pk).booked == 1 and Slot.objects.get(pk=second.pk).booked == 1
