"""The portal's appointment pages: booking from a request's page, the signed link, moving
and cancelling; and abuse: nobody else sees or changes an appointment (404, not 403),
floods are rate-limited, past, full and tampered choices get a clear 400 page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.appointments.conftest import sign_in, submit
from townhall.appointments.links import manage_token
from townhall.appointments.models import Appointment, AppointmentStatus, Slot
from townhall.appointments.services import appointment_book
from townhall.cases.models import Case
from townhall.core import clock
from townhall.notify.models import Notification
from townhall.portal.links import track_token

pytestmark = pytest.mark.django_db


def _book_url(case: Case) -> str:
    return f"/appointments/book/{track_token(case)}/"


def test_the_request_page_offers_booking_to_its_owner(
    owner: Client, report: Case, slots: Any
) -> None:
    html = owner.get(f"/requests/{track_token(report)}/").content.decode()
    assert "Book an appointment" in html and _book_url(report) in html


def test_the_request_page_offers_nothing_when_the_service_needs_no_meeting(
    client: Client, no_heat: Any
) -> None:
    case = submit(no_heat, "maria@example.com", answers={})
    sign_in(client, "maria@example.com")
    html = client.get(f"/requests/{track_token(case)}/").content.decode()
    assert "Book an appointment" not in html
    assert client.get(_book_url(case)).status_code == 404


def test_booking_from_the_page(owner: Client, report: Case, slots: list[Slot]) -> None:
    page = owner.get(_book_url(report))
    assert page.status_code == 200
    assert f'value="{slots[0].pk}"' in page.content.decode()
    response = owner.post(_book_url(report), {"slot": slots[0].pk})
    assert response.status_code == 302
    appointment = Appointment.objects.get(case=report)
    assert response["Location"] == f"/appointments/{appointment.public_id}/"
    detail = owner.get(response["Location"]).content.decode()
    assert "Your appointment is booked" in detail and "Town Hall" in detail
    # the request page now points at it, and booking again goes to it
    assert (
        f"/appointments/{appointment.public_id}/"
        in owner.get(f"/requests/{track_token(report)}/").content.decode()
    )
    assert owner.get(_book_url(report))["Location"] == f"/appointments/{appointment.public_id}/"


def test_booking_needs_signing_in(client: Client, report: Case, slots: list[Slot]) -> None:
    response = client.post(_book_url(report), {"slot": slots[0].pk})
    assert response.status_code == 302 and response["Location"] == "/account/sign-in/"
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("value", ["", "abc", "0", "-5", "1e9", "99999999", "9" * 40])
def test_tampered_slot_choices_get_a_clear_400(
    owner: Client, report: Case, slots: Any, value: str
) -> None:
    response = owner.post(_book_url(report), {"slot": value})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html and "Choose a time from the list." in html
    assert not Appointment.objects.exists()


def test_a_full_slot_gets_a_clear_400(
    owner: Client, report: Case, slots: list[Slot], pothole: Any
) -> None:
    other = submit(pothole, "other@example.com")
    appointment_book(case=other, citizen=other.reporter, slot_id=slots[0].pk, now=clock.now())
    response = owner.post(_book_url(report), {"slot": slots[0].pk})
    assert response.status_code == 400
    assert "Someone has just booked that time" in response.content.decode()


def test_a_past_slot_gets_a_clear_400(owner: Client, report: Case, slots: list[Slot]) -> None:
    Slot.objects.filter(pk=slots[0].pk).update(
        starts_at=clock.now() - __import__("datetime").timedelta(hours=1)
    )
    response = owner.post(_book_url(report), {"slot": slots[0].pk})
    assert response.status_code == 400
    assert "That time has passed" in response.content.decode()


def test_the_page_is_translated(owner: Client, report: Case, slots: Any) -> None:
    owner.cookies["django_language"] = "es"
    html = owner.get(_book_url(report)).content.decode()
    assert '<html lang="es"' in html
    assert "Reservar una cita" in html and "Book an appointment" not in html


def _booked(report: Case, slots: list[Slot]) -> Appointment:
    return appointment_book(
        case=report, citizen=report.reporter, slot_id=slots[0].pk, now=clock.now()
    )


def test_another_resident_gets_404_everywhere(
    report: Case, slots: list[Slot], pothole: Any
) -> None:
    appointment = _booked(report, slots)
    submit(pothole, "eve@example.com", "Eve")
    eve = sign_in(Client(), "eve@example.com")
    base = f"/appointments/{appointment.public_id}/"
    assert eve.get(base).status_code == 404
    assert eve.get(base + "move/").status_code == 404
    assert eve.post(base + "move/", {"slot": slots[1].pk}).status_code == 404
    assert eve.post(base + "cancel/").status_code == 404
    assert eve.get(_book_url(report)).status_code == 404  # even holding the private link
    assert Client().get(base).status_code == 404  # anonymous
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED and appointment.slot_id == slots[0].pk


def test_the_signed_link_opens_the_appointment_until_it_changes(
    report: Case, slots: list[Slot]
) -> None:
    appointment = _booked(report, slots)
    note = Notification.objects.get(kind="appt_booked")
    link = re.search(r"/appointments/link/[^\s/]+/", note.body)
    assert link is not None
    visitor = Client()
    opened = visitor.get(link.group(0))
    assert opened.status_code == 302
    assert visitor.get(opened["Location"]).status_code == 200
    # moving through the link keeps this session's access; the old link stops working
    response = visitor.post(f"/appointments/{appointment.public_id}/move/", {"slot": slots[1].pk})
    assert response.status_code == 302
    assert visitor.get(response["Location"]).status_code == 200
    assert Client().get(link.group(0)).status_code == 404
    assert "This link no longer works" in Client().get(link.group(0)).content.decode()
    # tampered and forged tokens
    appointment.refresh_from_db()
    token = manage_token(appointment)
    assert Client().get(f"/appointments/link/{token[:-2]}xx/").status_code == 404
    assert Client().get("/appointments/link/not-a-token/").status_code == 404


def test_cancel_from_the_page(owner: Client, report: Case, slots: list[Slot]) -> None:
    appointment = _booked(report, slots)
    url = f"/appointments/{appointment.public_id}/cancel/"
    assert "Cancel your appointment" in owner.get(url).content.decode()
    assert owner.post(url).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert owner.post(url).status_code == 404  # already cancelled


def test_booking_floods_are_rate_limited(owner: Client, report: Case, slots: Any) -> None:
    codes = [owner.post(_book_url(report), {"slot": "x"}).status_code for _ in range(12)]
    assert codes[:10] == [400] * 10
    assert codes[-1] == 429


def test_the_signed_in_owner_moves_it(owner: Client, report: Case, slots: list[Slot]) -> None:
    appointment = _booked(report, slots)
    url = f"/appointments/{appointment.public_id}/move/"
    page = owner.get(url).content.decode()
    assert f'value="{slots[0].pk}"' not in page and f'value="{slots[1].pk}"' in page
    assert owner.post(url, {"slot": slots[0].pk}).status_code == 400  # the time they have
    response = owner.post(url, {"slot": slots[1].pk})
    assert response.status_code == 302
    assert "Your appointment has moved" in owner.get(response["Location"]).content.decode()
    appointment.refresh_from_db()
    assert appointment.slot_id == slots[1].pk and appointment.version == 2
    mine = owner.get("/appointments/").content.decode()
    assert f"/appointments/{appointment.public_id}/" in mine
