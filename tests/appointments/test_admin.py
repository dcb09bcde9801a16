"""Councils configure appointments in the admin: every screen opens; a slot template is
added there; bookings are read-only (no add, no delete)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from townhall.appointments.models import SlotTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(settings: Any) -> Client:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-1-long")
    client = Client()
    client.force_login(user)
    return client


def test_every_screen_opens(admin_client: Client, templates: Any, slots: Any) -> None:
    for model in ("office", "meetingservice", "slottemplate", "slot", "appointment"):
        assert admin_client.get(f"/admin/appointments/{model}/").status_code == 200, model
    for model in ("office", "meetingservice", "slottemplate"):
        assert admin_client.get(f"/admin/appointments/{model}/add/").status_code == 200, model
    assert admin_client.get("/admin/appointments/appointment/add/").status_code == 403
    assert admin_client.get("/admin/appointments/slot/add/").status_code == 403


def test_a_template_is_added_and_a_backwards_one_refused(
    admin_client: Client, office: Any, meeting: Any
) -> None:
    form = {
        "office": office.pk,
        "service": meeting.pk,
        "weekday": 2,
        "starts": "14:00",
        "ends": "16:00",
        "slot_minutes": 20,
        "capacity": 2,
        "mode": "phone",
        "active": "on",
    }
    assert admin_client.post("/admin/appointments/slottemplate/add/", form).status_code == 302
    assert SlotTemplate.objects.get(weekday=2).capacity == 2
    backwards = {**form, "starts": "16:00", "ends": "14:00"}
    response = admin_client.post("/admin/appointments/slottemplate/add/", backwards)
    assert response.status_code == 200  # the form again, with the error
    assert SlotTemplate.objects.count() == 1
