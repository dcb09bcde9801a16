"""Staff sign-in with an optional code from an authenticator app (django-otp TOTP)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.console.conftest import PASSWORD, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_throttle(settings: Any) -> None:
    """django-otp makes each failure double the wait before the next try; tests do not wait."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _sign_in(username: str, **extra: str) -> tuple[Client, Any]:
    client = Client()
    response = client.post(
        "/admin/login/?next=/console/",
        {"username": username, "password": PASSWORD, "next": "/console/", **extra},
    )
    return client, response


def _code(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, drift=drift):06d}"


def test_without_an_authenticator_the_password_is_enough(staff: dict[str, Any]) -> None:
    client, response = _sign_in("keisha")
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.get("/console/").status_code == 200


def test_setting_up_an_authenticator_then_signing_in_with_its_code(staff: dict[str, Any]) -> None:
    keisha = signed_in(staff["caseworker"])
    page = keisha.get("/console/account/two-step/").content.decode()
    key = re.search(r'<code class="th-key">([A-Z2-7 ]+)</code>', page)
    assert key is not None and len(key.group(1).replace(" ", "")) == 32
    device = TOTPDevice.objects.get(user=staff["caseworker"], confirmed=False)
    wrong = keisha.post("/console/account/two-step/", {"code": "000000"})
    assert wrong.status_code == 400 and "That code is not right" in wrong.content.decode()
    right = keisha.post("/console/account/two-step/", {"code": _code(device)})
    assert right.status_code == 200 and "Your backup codes" in right.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert keisha.get("/console/").status_code == 200  # this session is verified now

    # a new sign-in: the password alone is not enough any more
    client, response = _sign_in("keisha")
    assert response.status_code == 200 and "otp_token" in response.content.decode()
    assert client.get("/console/").status_code == 302
    client, response = _sign_in("keisha", otp_token="123456")
    assert response.status_code == 200
    client, response = _sign_in("keisha", otp_token=_code(device, drift=1))
    assert response.status_code == 302
    assert client.get("/console/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_a_session_that_skipped_the_code_opens_neither_console_nor_admin(
    staff: dict[str, Any],
) -> None:
    TOTPDevice.objects.create(user=staff["supervisor"], name="phone", confirmed=True)
    client = signed_in(staff["supervisor"])  # a session made without the second step
    response = client.get("/console/queues/mine/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get("/admin/").status_code == 302


def test_turning_the_code_off_needs_a_code(staff: dict[str, Any]) -> None:
    device = TOTPDevice.objects.create(user=staff["agent"], name="phone", confirmed=True)
    client, _response = _sign_in("agent", otp_token=_code(device))
    assert client.post("/console/account/two-step/", {"code": "999999"}).status_code == 400
    assert TOTPDevice.objects.filter(user=staff["agent"]).exists()
    assert (
        client.post("/console/account/two-step/", {"code": _code(device, drift=1)}).status_code
        == 302
    )
    assert not TOTPDevice.objects.filter(user=staff["agent"]).exists()


def test_a_council_can_require_it_of_everyone(staff: dict[str, Any], settings: Any) -> None:
    settings.TOWNHALL_STAFF_REQUIRE_2FA = True
    client = signed_in(staff["caseworker"])
    response = client.get("/console/queues/mine/")
    assert response.status_code == 302 and response["Location"] == "/console/account/two-step/"
    page = client.get("/console/account/two-step/").content.decode()
    assert "asks all staff to sign in with a code" in page
