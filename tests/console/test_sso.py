"""Optional single sign-on through the council's OpenID Connect provider.

The provider is outside the product, so its three answers (token, verified ID token,
user info) are stood in for; everything on our side runs for real.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from townhall.console.sso import SSO_SESSION_KEY, StaffOIDCBackend

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.console.urls_sso")]


@pytest.fixture(autouse=True)
def sso(settings: Any) -> None:
    settings.TOWNHALL_OIDC = True
    settings.AUTHENTICATION_BACKENDS = [
        "townhall.console.sso.StaffOIDCBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    settings.OIDC_RP_CLIENT_ID = "townhall"
    settings.OIDC_RP_CLIENT_SECRET = "s3cret"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://idp.example.org/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example.org/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example.org/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = "https://idp.example.org/jwks"
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_CREATE_USER = False
    settings.LOGIN_REDIRECT_URL = "/console/"


def _provider_says(monkeypatch: Any, claims: dict[str, Any]) -> None:
    monkeypatch.setattr(
        StaffOIDCBackend, "get_token", lambda self, payload: {"id_token": "i", "access_token": "a"}
    )
    monkeypatch.setattr(
        StaffOIDCBackend, "verify_token", lambda self, token, **kw: {"sub": "42", **kw}
    )
    monkeypatch.setattr(StaffOIDCBackend, "get_userinfo", lambda self, *args: claims)


def _round_trip(client: Client) -> Any:
    start = client.get("/oidc/authenticate/", {"next": "/console/"})
    assert start.status_code == 302
    sent = urlparse(start["Location"])
    assert f"{sent.scheme}://{sent.netloc}{sent.path}" == "https://idp.example.org/authorize"
    state = parse_qs(sent.query)["state"][0]
    return client.get("/oidc/callback/", {"code": "from-the-provider", "state": state})


def test_the_sign_in_page_offers_single_sign_on() -> None:
    page = Client().get("/admin/login/?next=/console/").content.decode()
    assert "single sign-on" in page and "/oidc/authenticate/" in page


def test_staff_sign_in_through_the_provider_without_the_code_step(
    staff: dict[str, Any], monkeypatch: Any, settings: Any
) -> None:
    settings.TOWNHALL_SSO_SKIPS_SECOND_STEP = True  # the council trusts its provider's 2FA
    TOTPDevice.objects.create(user=staff["caseworker"], name="phone", confirmed=True)
    _provider_says(monkeypatch, {"email": "KEISHA@council.example.org", "email_verified": True})
    client = Client()
    done = _round_trip(client)
    assert done.status_code == 302 and done["Location"] == "/console/"
    assert client.session[SSO_SESSION_KEY] is True
    assert client.get("/console/queues/mine/").status_code == 200


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "resident@example.org"},  # not staff
        {"email": "stranger@example.org"},  # nobody: accounts are never made at sign-in
        {"email": "keisha@council.example.org", "email_verified": False},
        {},
    ],
)
def test_nobody_else_gets_in(
    staff: dict[str, Any], monkeypatch: Any, claims: dict[str, Any]
) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username="resident").update(email="resident@example.org")
    users = get_user_model().objects.count()
    _provider_says(monkeypatch, claims)
    client = Client()
    done = _round_trip(client)
    assert done.status_code == 302 and done["Location"] != "/console/"
    assert client.get("/console/").status_code == 302  # to the sign-in page
    assert get_user_model().objects.count() == users
