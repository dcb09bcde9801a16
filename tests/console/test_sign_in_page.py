"""The staff sign-in page wears the console's design system and keeps its defences."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.console.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_sign_in_page_is_the_console_s_own(staff: dict[str, Any]) -> None:
    response = Client().get("/admin/login/?next=/console/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "console/console.css" in page and "govuk-input" in page
    assert "admin/css/login.css" not in page and "django_otp/css" not in page
    for field in ('id="id_username"', 'id="id_password"', 'id="id_otp_token"'):
        assert field in page
    assert 'autocomplete="current-password"' in page
    assert page.count('type="submit"') == 1  # one button: no "Get OTP Challenge"
    assert 'name="next" value="/console/"' in page
    assert "Console menu" not in page  # nobody is signed in: no menu


def test_a_wrong_password_is_said_in_an_error_summary(staff: dict[str, Any]) -> None:
    response = Client().post(
        "/admin/login/?next=/console/",
        {"username": "keisha", "password": "not-it", "next": "/console/"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page and "govuk-error-summary" in page
    assert "correct username and password" in page
    assert 'value="keisha"' in page and "not-it" not in page  # the password is not echoed


def test_the_sign_in_code_is_asked_of_staff_with_an_authenticator(
    staff: dict[str, Any], settings: Any
) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    TOTPDevice.objects.create(user=staff["caseworker"], name="phone", confirmed=True)
    client = Client()
    response = client.post(
        "/admin/login/?next=/console/",
        {"username": "keisha", "password": PASSWORD, "next": "/console/"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter the code from your authenticator app, or a backup code." in page
    assert client.get("/console/").status_code == 302  # not signed in


def test_a_session_that_ended_says_so_on_the_sign_in_page(
    staff: dict[str, Any], settings: Any
) -> None:
    from townhall.console.signin import SESSION_ENDED

    client = Client()
    session = client.session
    session[SESSION_ENDED] = True
    session.save()
    page = client.get("/admin/login/").content.decode()
    assert "Your session ended" in page
    assert "Your session ended" not in client.get("/admin/login/").content.decode()


def test_the_sign_in_page_speaks_spanish(town: Any) -> None:
    with translation.override("es"):
        assert translation.gettext("Waiting for the resident") == "Esperando al residente"
    page = Client().get("/admin/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Entrar en la consola" in page and "Contraseña" in page
    assert "Sign in to the console" not in page
