"""Optional accounts: a one-time e-mail link signs a resident in; "your requests" lists
every channel; the profile is told once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from townhall.cases.models import CaseFollower
from townhall.cases.services import case_open
from townhall.notify.models import Notification
from townhall.notify.services import notification_send_due
from townhall.people.models import Citizen, ContactPoint
from townhall.people.services import citizen_resolve
from townhall.portal.accounts import sign_in_token

pytestmark = pytest.mark.django_db


def _link_from_mail() -> str:
    notification_send_due()  # the sign-in e-mail goes through the outbox
    match = re.search(r"https?://\S+/account/sign-in/(\S+)/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return f"/account/sign-in/{match.group(1)}/"


def test_a_resident_signs_in_by_link_and_sees_requests_from_every_channel(
    client: Client, pothole: Any
) -> None:
    maria = citizen_resolve(name="Maria", email="maria@example.com", phone="+16175550142")
    by_phone = case_open(
        service_type=pothole, channel="phone", answers={"size": "small"}, reporter=maria
    )
    by_sms = case_open(
        service_type=pothole, channel="sms", answers={"size": "large"}, reporter=maria
    )
    someone_elses = case_open(service_type=pothole, channel="web", answers={"size": "small"})
    CaseFollower.objects.create(case=someone_elses, citizen=maria, via="me_too")
    not_hers = case_open(service_type=pothole, channel="web", answers={"size": "small"})

    response = client.post("/account/sign-in/", {"email": "Maria@Example.com"})
    assert response.status_code == 200 and "Check your email" in response.content.decode()
    notification_send_due()
    assert mail.outbox[-1].to == ["Maria@Example.com"]
    link = _link_from_mail()
    page = client.get(link)
    assert page.status_code == 200 and "Continue to your requests" in page.content.decode()
    assert "_auth_user_id" not in client.session  # opening the link alone signs nobody in
    response = client.post(link)
    assert response.status_code == 302 and response["Location"] == "/account/"

    html = client.get("/account/").content.decode()
    for case in (by_phone, by_sms, someone_elses):
        assert case.reference in html
    assert not_hers.reference not in html
    assert "Phone" in html and "SMS" in html and "(following)" in html
    maria.refresh_from_db()
    assert maria.user is not None and not maria.user.is_staff
    assert not maria.user.has_usable_password()
    assert ContactPoint.objects.get(citizen=maria, kind="email").verified


def test_a_link_works_once(client: Client, town: Any) -> None:
    token = sign_in_token("new@example.org")
    assert client.post(f"/account/sign-in/{token}/").status_code == 302
    client.post("/account/sign-out/")
    again = client.post(f"/account/sign-in/{token}/")
    assert again.status_code == 400 and "This link does not work" in again.content.decode()
    assert Citizen.objects.filter(contact_points__value="new@example.org").count() == 1


def test_forged_and_expired_links_do_not_sign_in(client: Client, town: Any, settings: Any) -> None:
    assert client.post("/account/sign-in/not-a-token/").status_code == 400
    settings.TOWNHALL_SIGN_IN_LINK_MINUTES = -1  # every link is already too old
    token = sign_in_token("late@example.org")
    assert client.post(f"/account/sign-in/{token}/").status_code == 400
    assert "_auth_user_id" not in client.session


def test_asking_for_links_answers_the_same_and_is_rate_limited(client: Client, town: Any) -> None:
    # the same answer whether or not we know the address; over five an hour, 429 for any
    statuses = [
        client.post("/account/sign-in/", {"email": "who@example.org"}).status_code for _ in range(8)
    ]
    assert statuses == [200] * 5 + [429] * 3
    assert Notification.objects.filter(kind="sign_in_link").count() == 5
    bad = client.post("/account/sign-in/", {"email": "nope"})
    assert bad.status_code == 400 and "Enter an email address like" in bad.content.decode()


def test_the_profile_is_told_once_and_sets_the_language(client: Client, town: Any) -> None:
    client.post(f"/account/sign-in/{sign_in_token('ana@example.com')}/")
    response = client.post(
        "/account/profile/", {"name": "Ana Souza", "language": "es", "channel": "sms"}
    )
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "es"
    citizen = Citizen.objects.get(contact_points__value="ana@example.com")
    assert (citizen.display_name, citizen.preferred_language, citizen.preferred_channel) == (
        "Ana Souza",
        "es",
        "sms",
    )
    bad = client.post("/account/profile/", {"name": "x", "language": "xx", "channel": "fax"})
    assert bad.status_code == 400


def test_account_pages_need_a_resident(client: Client, town: Any) -> None:
    assert client.get("/account/")["Location"] == "/account/sign-in/"
    assert client.get("/account/profile/")["Location"] == "/account/sign-in/"
