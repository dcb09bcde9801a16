"""Staff sign-in and one authorisation path (issue 15): each test is an attack that worked.

Brute force against the staff sign-in, an administrator without a second step, a session
left open on a shared computer, single sign-on with an unverified or re-used e-mail
address, and a caseworker reading another department's cases and residents in the admin.
The OpenID provider is outside the product, so its answers are stood in for.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.console.conftest import PASSWORD, dpw, isd, quick_passwords, signed_in, staff
from townhall.cases.models import Case, CasePhoto
from townhall.cases.services import case_acknowledge, case_open
from townhall.console.models import SingleSignOnIdentity
from townhall.console.sso import StaffOIDCBackend
from townhall.core.models import SecurityEvent
from townhall.core.security import SecurityEventKind
from townhall.people.models import Citizen
from townhall.people.services import citizen_resolve

__all__ = ["dpw", "isd", "quick_passwords", "staff"]  # the console's staff fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_otp_throttle(settings: Any) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def _events(kind: str) -> int:
    return SecurityEvent.objects.filter(kind=kind).count()


def _sign_in(client: Client, username: str, password: str, ip: str = "10.0.0.1", **extra: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/admin/login/?next=/console/",
        {"username": username, "password": password, "next": "/console/", **extra},
        REMOTE_ADDR=ip,
    )


def _code(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, drift=drift):06d}"


# --- brute force ------------------------------------------------------------------------


def test_guesses_spread_over_many_accounts_from_one_address_are_slowed(
    staff: dict[str, Any], settings: Any
) -> None:
    settings.TOWNHALL_RATE_LIMITS = {**settings.TOWNHALL_RATE_LIMITS, "staff_sign_in": "5/minute"}
    attacker = Client()
    # one guess per account: django-axes never locks any of them
    statuses = [_sign_in(attacker, f"user{i}", "guess").status_code for i in range(6)]
    assert statuses == [200] * 5 + [429]
    refused = _sign_in(attacker, "keisha", PASSWORD)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many sign-in attempts" in refused.content.decode()
    assert attacker.get("/console/").status_code == 302  # not signed in
    # staff elsewhere still sign in
    assert _sign_in(Client(), "keisha", PASSWORD, ip="10.0.0.9").status_code == 302


def test_guessing_a_staff_password_locks_that_account_from_that_address(
    staff: dict[str, Any], settings: Any
) -> None:
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(attacker, "keisha", "guess").status_code == 200
    assert _sign_in(attacker, "keisha", "guess").status_code == 429  # the last straw
    # the right password no longer helps the attacker
    locked = _sign_in(attacker, "keisha", PASSWORD)
    assert locked.status_code == 429 and locked["Retry-After"] == str(30 * 60)
    page = locked.content.decode()
    assert "Too many sign-in attempts" in page and "govuk" in page
    assert attacker.get("/console/").status_code == 302  # not signed in
    assert _events(SecurityEventKind.STAFF_SIGN_IN_FAILED) >= settings.AXES_FAILURE_LIMIT
    # the lock, and the attempt refused during it
    assert _events(SecurityEventKind.STAFF_LOCKED_OUT) == 2
    event = SecurityEvent.objects.filter(kind=SecurityEventKind.STAFF_LOCKED_OUT).first()
    assert event is not None
    assert event.subject == f"user:{staff['caseworker'].pk}" and "keisha" not in str(event.detail)

    # one attacker cannot lock everyone out: Keisha at her desk, and others, still sign in
    keisha = Client()
    assert _sign_in(keisha, "keisha", PASSWORD, ip="10.0.0.9").status_code == 302
    assert _sign_in(Client(), "frank", PASSWORD).status_code == 302

    # an administrator lifts the lock in the admin
    from axes.models import AccessAttempt

    admin = signed_in(staff["council_admin"])
    attempts = admin.get("/admin/axes/accessattempt/")
    assert attempts.status_code == 200 and "keisha" in attempts.content.decode()
    attempt = AccessAttempt.objects.get(username="keisha", ip_address="10.0.0.1")
    deleted = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert _sign_in(Client(), "keisha", PASSWORD).status_code == 302


# --- the second step --------------------------------------------------------------------


def test_production_requires_the_second_step_of_administrators_by_default() -> None:
    env = {
        **os.environ,
        "TOWNHALL_ENV": "production",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "council.example.org",
        "REDIS_URL": "redis://127.0.0.1:6379/3",
        "DJANGO_SETTINGS_MODULE": "townhall.settings",
    }
    env.pop("TOWNHALL_STAFF_REQUIRE_2FA", None)
    env.pop("TOWNHALL_SSO_SKIPS_SECOND_STEP", None)
    code = (
        "from django.conf import settings;"
        "print(settings.TOWNHALL_STAFF_REQUIRE_2FA, settings.TOWNHALL_SSO_SKIPS_SECOND_STEP)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["admins", "False"]


def test_an_administrator_without_a_second_step_is_refused_until_they_set_one_up(
    staff: dict[str, Any], settings: Any
) -> None:
    settings.TOWNHALL_STAFF_REQUIRE_2FA = "admins"  # production's default
    admin = Client()
    assert _sign_in(admin, "ada", PASSWORD).status_code == 302
    for path in ["/admin/", "/admin/people/citizen/", "/admin/core/securityevent/", "/console/"]:
        response = admin.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/console/account/two-step/", path
    # a caseworker is not asked under this policy
    caseworker = Client()
    _sign_in(caseworker, "keisha", PASSWORD)
    assert caseworker.get("/console/").status_code == 200

    # set-up: a QR code drawn on the page (no image from elsewhere), then backup codes once
    page = admin.get("/console/account/two-step/").content.decode()
    assert re.search(r'<div class="th-qr"><svg[^>]*>', page)
    assert "https://" not in page.split('<div class="th-qr">')[1].split("</svg>")[0]
    device = TOTPDevice.objects.get(user=staff["council_admin"], confirmed=False)
    assert admin.post("/console/account/two-step/", {"code": "000000"}).status_code == 400
    assert _events(SecurityEventKind.SECOND_STEP_FAILED) == 1
    done = admin.post("/console/account/two-step/", {"code": _code(device)})
    assert done.status_code == 200 and done["Cache-Control"] == "no-store"
    codes = re.findall(r'<code class="th-key">([a-z2-7]{8})</code>', done.content.decode())
    assert len(codes) == 10
    assert _events(SecurityEventKind.SECOND_STEP_SET_UP) == 1
    assert admin.get("/admin/").status_code == 200
    assert admin.get("/console/account/two-step/").content.decode().count(codes[0]) == 0

    # a new sign-in: password alone refused; a backup code works once
    again = Client()
    assert _sign_in(again, "ada", PASSWORD).status_code == 200
    assert again.get("/admin/").status_code == 302
    assert _sign_in(again, "ada", PASSWORD, otp_token=codes[0]).status_code == 302
    assert again.get("/admin/").status_code == 200
    thief = Client()
    assert _sign_in(thief, "ada", PASSWORD, otp_token=codes[0]).status_code == 200
    assert thief.get("/admin/").status_code == 302
    assert StaticToken.objects.filter(device__user=staff["council_admin"]).count() == 9
    assert _events(SecurityEventKind.SECOND_STEP_FAILED) >= 2
    # and an administrator cannot simply turn it off again
    turned_off = again.post(
        "/console/account/two-step/", {"code": _code(device, drift=1), "action": "off"}
    )
    assert turned_off.status_code == 400
    assert TOTPDevice.objects.filter(user=staff["council_admin"], confirmed=True).exists()


# --- staff sessions ----------------------------------------------------------------------


def test_an_idle_staff_session_ends_and_a_long_one_too(
    staff: dict[str, Any], settings: Any
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        assert _sign_in(client, "keisha", PASSWORD).status_code == 302
        traveller.shift(timedelta(minutes=settings.TOWNHALL_STAFF_SESSION_IDLE_MINUTES - 1))
        assert client.get("/console/").status_code == 200
        traveller.shift(timedelta(minutes=settings.TOWNHALL_STAFF_SESSION_IDLE_MINUTES + 1))
        ended = client.get("/console/")
        assert ended.status_code == 302 and "/admin/login/" in ended["Location"]
        assert "Your session ended" in client.get(ended["Location"]).content.decode()

        # busy all day, never idle: still ends after the absolute lifetime
        busy = Client()
        assert _sign_in(busy, "frank", PASSWORD).status_code == 302
        for _ in range(settings.TOWNHALL_STAFF_SESSION_MAX_HOURS * 3 + 1):
            traveller.shift(timedelta(minutes=20))
            busy.get("/console/queues/mine/")
        assert busy.get("/console/").status_code == 302


def test_residents_sessions_are_not_cut_short(staff: dict[str, Any], settings: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        resident = signed_in(staff["resident"])
        traveller.shift(timedelta(hours=settings.TOWNHALL_STAFF_SESSION_MAX_HOURS + 1))
        resident.get("/")
        assert resident.session.get("_auth_user_id") == str(staff["resident"].pk)


# --- single sign-on ---------------------------------------------------------------------


@pytest.fixture
def sso(settings: Any) -> None:
    settings.TOWNHALL_OIDC = True
    settings.AUTHENTICATION_BACKENDS = [
        "townhall.console.signin.StaffAxesBackend",
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


def _provider_says(monkeypatch: Any, sub: str, claims: dict[str, Any]) -> None:
    monkeypatch.setattr(
        StaffOIDCBackend, "get_token", lambda self, payload: {"id_token": "i", "access_token": "a"}
    )
    monkeypatch.setattr(StaffOIDCBackend, "verify_token", lambda self, token, **kw: {"sub": sub})
    monkeypatch.setattr(StaffOIDCBackend, "get_userinfo", lambda self, *args: claims)


def _round_trip(client: Client) -> Any:
    start = client.get("/oidc/authenticate/", {"next": "/console/"})
    state = parse_qs(urlparse(start["Location"]).query)["state"][0]
    return client.get("/oidc/callback/", {"code": "from-the-provider", "state": state})


KEISHA = "keisha@council.example.org"


@pytest.mark.urls("tests.console.urls_sso")
@pytest.mark.parametrize("verified", [None, False, "false", "yes"])
def test_single_sign_on_with_an_unverified_address_is_refused(
    staff: dict[str, Any], sso: None, monkeypatch: Any, verified: Any
) -> None:
    claims: dict[str, Any] = {"email": KEISHA}
    if verified is not None:
        claims["email_verified"] = verified
    _provider_says(monkeypatch, "sub-keisha", claims)
    client = Client()
    done = _round_trip(client)
    assert done["Location"] != "/console/"
    assert client.get("/console/").status_code == 302
    assert not SingleSignOnIdentity.objects.exists()
    assert _events(SecurityEventKind.STAFF_SIGN_IN_FAILED) == 1


@pytest.mark.urls("tests.console.urls_sso")
def test_single_sign_on_binds_to_the_subject_and_refuses_another_with_the_same_address(
    staff: dict[str, Any], sso: None, monkeypatch: Any
) -> None:
    claims = {"email": KEISHA, "email_verified": True}
    _provider_says(monkeypatch, "sub-keisha", claims)
    first = Client()
    assert _round_trip(first)["Location"] == "/console/"
    assert SingleSignOnIdentity.objects.get().subject == "sub-keisha"

    # another account at the provider (or another provider tenant) claims her address
    _provider_says(monkeypatch, "sub-mallory", claims)
    mallory = Client()
    assert _round_trip(mallory)["Location"] != "/console/"
    assert mallory.get("/console/").status_code == 302
    event = SecurityEvent.objects.get(kind=SecurityEventKind.STAFF_SIGN_IN_FAILED)
    assert event.detail["reason"] == "account bound to another subject"

    # the user info must speak of the same subject as the signed ID token
    _provider_says(monkeypatch, "sub-keisha", {**claims, "sub": "sub-mallory"})
    assert _round_trip(Client())["Location"] != "/console/"

    # Keisha herself, even after her address changes at the provider, still gets in
    _provider_says(
        monkeypatch, "sub-keisha", {"email": "k.b@council.example.org", **{"email_verified": True}}
    )
    assert _round_trip(Client())["Location"] == "/console/"


@pytest.mark.urls("tests.console.urls_sso")
def test_single_sign_on_does_not_skip_our_second_step_unless_the_council_says_so(
    staff: dict[str, Any], sso: None, monkeypatch: Any, settings: Any
) -> None:
    device = TOTPDevice.objects.create(user=staff["caseworker"], name="phone", confirmed=True)
    _provider_says(monkeypatch, "sub-keisha", {"email": KEISHA, "email_verified": True})
    client = Client()
    assert _round_trip(client)["Location"] == "/console/"
    asked = client.get("/console/queues/mine/")
    assert asked.status_code == 302 and asked["Location"].startswith("/console/account/verify/")
    assert client.get("/admin/").status_code == 302
    wrong = client.post("/console/account/verify/", {"code": "000000", "next": "/console/"})
    assert wrong.status_code == 400
    right = client.post("/console/account/verify/", {"code": _code(device), "next": "/console/"})
    assert right.status_code == 302 and right["Location"] == "/console/"
    assert client.get("/console/queues/mine/").status_code == 200

    settings.TOWNHALL_SSO_SKIPS_SECOND_STEP = True
    trusted = Client()
    _round_trip(trusted)
    assert trusted.get("/console/queues/mine/").status_code == 200


# --- one authorisation path ---------------------------------------------------------------


def _reported_case(service: Any, name: str) -> Case:
    reporter = citizen_resolve(name=name, email=f"{name.lower()}@example.org")
    answers = {"size": "small"} if service.code == "pothole" else {}
    case = case_open(
        service_type=service, channel="web", answers=answers, description="Help", reporter=reporter
    )
    case_acknowledge(case_id=case.pk)
    return case


def test_an_isd_caseworker_cannot_see_a_public_works_case_or_its_resident_in_the_admin(
    staff: dict[str, Any], pothole: Any, no_heat: Any
) -> None:
    dpw_case = _reported_case(pothole, "Rosa")
    isd_case = _reported_case(no_heat, "Hugo")
    photo = CasePhoto.objects.create(
        case=dpw_case, file="photos/x.jpg", content_type="image/jpeg", width=1, height=1, size=1
    )
    daniel = signed_in(staff["other_caseworker"])  # Inspectional Services
    listing = daniel.get("/admin/cases/case/").content.decode()
    assert isd_case.reference in listing and dpw_case.reference not in listing
    searched = daniel.get("/admin/cases/case/", {"q": dpw_case.reference})
    assert searched.context["cl"].result_count == 0
    hidden = daniel.get(f"/admin/cases/case/{dpw_case.pk}/change/")
    missing = daniel.get("/admin/cases/case/999999/change/")
    assert hidden.status_code == missing.status_code == 302
    assert hidden["Location"] == missing["Location"]
    assert daniel.get(f"/admin/cases/case/photo/{photo.pk}/").status_code == 404
    assert daniel.get(f"/admin/cases/case/{isd_case.pk}/change/").status_code == 200

    rosa = Citizen.objects.get(pk=dpw_case.reporter_id)
    people = daniel.get("/admin/people/citizen/").content.decode()
    assert "Hugo" in people and "Rosa" not in people
    assert daniel.get(f"/admin/people/citizen/{rosa.pk}/change/").status_code == 302
    assert not SecurityEvent.objects.filter(
        kind=SecurityEventKind.RESIDENT_VIEWED, subject=f"citizen:{rosa.pk}"
    ).exists()

    # her own department's caseworker sees both, as in the console
    keisha = signed_in(staff["caseworker"])
    assert keisha.get(f"/admin/cases/case/{dpw_case.pk}/change/").status_code == 200
    assert keisha.get(f"/admin/people/citizen/{rosa.pk}/change/").status_code == 200


def test_staff_views_of_a_resident_are_logged_and_council_admins_read_the_log(
    staff: dict[str, Any], pothole: Any
) -> None:
    case = _reported_case(pothole, "Rosa")
    keisha = signed_in(staff["caseworker"])
    assert keisha.get(f"/console/cases/{case.pk}/").status_code == 200
    assert keisha.get(f"/admin/people/citizen/{case.reporter_id}/change/").status_code == 200
    assert keisha.get("/console/calls/", {"contact": "rosa@example.org"}).status_code == 200
    viewed = SecurityEvent.objects.filter(kind=SecurityEventKind.RESIDENT_VIEWED)
    assert viewed.count() == 3
    assert {e.user_id for e in viewed} == {staff["caseworker"].pk}
    assert {e.subject for e in viewed} == {f"citizen:{case.reporter_id}"}
    assert all("rosa" not in str(e.detail).lower() for e in viewed)

    log = signed_in(staff["council_admin"]).get("/admin/core/securityevent/")
    assert log.status_code == 200 and "resident_viewed" in log.content.decode()
    assert (
        staff["council_admin"]
        .groups.get()
        .permissions.filter(codename="view_securityevent")
        .exists()
    )
    assert keisha.get("/admin/core/securityevent/").status_code == 403


def test_the_code_page_after_single_sign_on_sends_nowhere_but_our_own_pages(
    staff: dict[str, Any],
) -> None:
    device = TOTPDevice.objects.create(user=staff["caseworker"], name="phone", confirmed=True)
    client = signed_in(staff["caseworker"])
    session = client.session
    session["townhall_sso"] = True
    session.save()
    done = client.post(
        "/console/account/verify/", {"code": _code(device), "next": "https://evil.example/"}
    )
    assert done.status_code == 302 and done["Location"] == "/console/"
