"""Booking from a request's page in headless Chromium, each page checked with axe (WCAG
2.2 AA): the owner signs in, follows "Book an appointment", sends the form with no time
chosen (the error is announced), chooses a time, sees the appointment, then cancels it;
and the caseworker's day list and appointment page (with its outcome form's error)."""

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


def test_the_caseworkers_pages_pass_axe(
    live_server: Any, page: Any, pothole: Any, office: Any, meeting: Any, settings: Any
) -> None:
    from django.utils import timezone

    from tests.console.conftest import PASSWORD, _staff
    from townhall.appointments.selectors import slots_offered
    from townhall.appointments.services import appointment_book
    from townhall.catalog.models import Department
    from townhall.people.roles import StaffRole

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    make_templates(office, meeting)
    slots_generate(now=clock.now(), days=10)
    case = submit(pothole, "maria@example.com")
    slot = slots_offered(meeting=meeting, now=clock.now())[0]
    booked = appointment_book(case=case, citizen=case.reporter, slot_id=slot.pk, now=clock.now())
    keisha = _staff("keisha", StaffRole.CASEWORKER, Department.objects.get(code="dpw"))
    day = timezone.localtime(slot.starts_at).date().isoformat()
    path = f"/console/appointments/?office={office.pk}&day={day}"
    page.goto(f"{live_server.url}/admin/login/?next=/console/appointments/")
    page.fill("#id_username", keisha.get_username())
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/console/appointments/")
    page.goto(live_server.url + path)
    assert case.reference in page.locator("table").inner_text()
    assert_accessible(page)
    page.get_by_role(
        "link", name=timezone.localtime(slot.starts_at).strftime("%H:%M"), exact=False
    ).first.click()
    page.wait_for_url(f"**/console/appointments/{booked.public_id}/")
    assert "How big is it?" in page.content()
    assert_accessible(page)
    page.get_by_role("button", name="Record the outcome").click()  # nothing chosen
    assert "There is a problem" in page.content()
    assert_accessible(page)
