"""Booking from a request's page in headless Chromium, each page checked with axe (WCAG
2.2 AA): the owner signs in, follows "Book an appointment", sends the form with no time
chosen (the error is announced), chooses a time, sees the appointment, then cancels it."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.appointments.conftest import make_templates, submit
from tests.browser import assert_accessible
from townhall.appointments.models import Appointment, AppointmentStatus
from townhall.appointments.slots import slots_generate
from townhall.core import clock

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_booking_from_a_case_page(
    live_server: Any, page: Any, pothole: Any, office: Any, meeting: Any
) -> None:
    from townhall.portal.accounts import sign_in_token

    make_templates(office, meeting)
    slots_generate(now=clock.now(), days=10)
    case = submit(pothole, "maria@example.com")
    page.goto(live_server.url + f"/account/sign-in/{sign_in_token('maria@example.com')}/")
    page.get_by_role("button", name="Continue to your requests").click()
    page.wait_for_url("**/account/")
    page.get_by_role("link", name=case.reference).click()
    page.wait_for_url("**/requests/*/")
    page.get_by_role("link", name="Book an appointment").click()
    page.wait_for_url("**/appointments/book/*/")
    assert_accessible(page)
    page.get_by_role("button", name="Book this time").click()  # nothing chosen
    assert "Choose a time from the list." in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.locator("input[name=slot]").first.check()
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_url("**/appointments/*/")
    assert "Your appointment is booked" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    appointment = Appointment.objects.get(case=case)
    assert appointment.status == AppointmentStatus.BOOKED
    page.get_by_role("link", name="Cancel it").click()
    assert_accessible(page)
    page.get_by_role("button", name="Yes, cancel it").click()
    page.wait_for_url("**/appointments/")
    assert "Your appointment is cancelled" in page.get_by_role("alert").inner_text()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
