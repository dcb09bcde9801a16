"""Private links and public data (issue 15): each test reproduces a leak or an abuse
first, then shows it closed.

- the nearby list on the report form handed out every nearby case's private link;
- private links could not be replaced once shared;
- reports about someone's home appeared in Open311 and on public pages;
- "me too" could be repeated to inflate a count;
- following by e-mail subscribed any address without its owner's consent;
- residents' words were published as received (phones, e-mails, addresses, signatures).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from townhall.cases.models import Case, CaseEventKind, CaseFollower, FollowRequest
from townhall.cases.redaction import public_text
from townhall.cases.services import case_open
from townhall.catalog.models import ServiceType
from townhall.catalog.selectors import catalog_cache_clear
from townhall.core.models import SecurityEvent
from townhall.core.security import SecurityEventKind
from townhall.notify.models import Notification
from townhall.people.roles import StaffRole
from townhall.people.services import staff_user_create
from townhall.portal.links import track_token

pytestmark = pytest.mark.django_db

ELM = (42.3601, -71.0942)
LEAKY = (
    "Huge pothole outside my house at 12 Elm Street, apt 4. Call me on (617) 555-0142 "
    "or write to ana.souza@example.com.\nMy name is Ana Souza.\n\nKind regards,\nAna Souza"
)
SECRETS = ("555-0142", "ana.souza@example.com", "Ana Souza", "12 Elm Street")


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _open(service: ServiceType, text: str = "Hole", **extra: Any) -> Case:
    return case_open(
        service_type=service,
        channel=extra.pop("channel", "web"),
        answers=extra.pop("answers", {"size": "small"} if service.code == "pothole" else {}),
        description=text,
        lat=ELM[0],
        long=ELM[1],
        **extra,
    )


@pytest.fixture
def no_heat(town: Any) -> ServiceType:
    ServiceType.objects.filter(code="no_heat").update(personal=True)
    catalog_cache_clear()
    return ServiceType.objects.get(code="no_heat")


@pytest.fixture
def admin_client(town: Any) -> Client:
    user = staff_user_create(username="ada", role=StaffRole.COUNCIL_ADMIN, password="pw-a-long-1")
    client = Client()
    client.force_login(user)
    return client


# --- private links are never handed to other people ----------------------------------------


def test_the_nearby_list_hands_out_no_private_link(client: Client, pothole: Any) -> None:
    case = _open(pothole, LEAKY)
    html = client.get("/report/pothole/", {"lat": ELM[0], "long": ELM[1]}).content.decode()
    assert case.reference in html
    assert track_token(case) not in html and "/requests/" not in html
    # It shows what the public page shows: the masked words, never the words as received.
    assert not any(secret in html for secret in SECRETS)
    assert f"/track/{case.reference}/me-too/" in html


def test_me_too_leads_to_the_public_page_not_the_private_one(client: Client, pothole: Any) -> None:
    case = _open(pothole)
    response = client.post(f"/track/{case.reference}/me-too/", {"email": ""})
    assert response.status_code == 302
    assert track_token(case) not in response["Location"]
    assert response["Location"].startswith("/track/?reference=")
    page = client.get(response["Location"]).content.decode()
    assert track_token(case) not in page and "/photos/" not in page


def test_a_merged_case_is_followed_without_revealing_its_private_link(
    client: Client, pothole: Any, admin_client: Client
) -> None:
    from townhall.cases.services import case_merge

    target, duplicate = _open(pothole), _open(pothole)
    case_merge(case=duplicate, into=target, actor=None)
    response = client.post(f"/track/{duplicate.reference}/me-too/", {"email": ""})
    assert response.status_code == 302
    assert track_token(target) not in response["Location"]
    assert target.reference in response["Location"]


def test_the_resident_replaces_a_shared_link_and_the_old_one_stops_working(
    client: Client, pothole: Any
) -> None:
    case = _open(pothole)
    old = track_token(case)
    assert client.get(f"/requests/{old}/").status_code == 200
    response = client.post(f"/requests/{old}/new-link/")
    assert response.status_code == 302
    case.refresh_from_db()
    new = track_token(case)
    assert new != old and response["Location"] == f"/requests/{new}/"
    for path in ("", "sent/", "reopen/", "follow/", "new-link/"):
        method = client.post if path in {"reopen/", "follow/", "new-link/"} else client.get
        assert method(f"/requests/{old}/{path}").status_code == 404, path
    assert client.get(f"/requests/{new}/").status_code == 200
    event = case.events.get(kind=CaseEventKind.LINK_ROTATED)
    assert not event.public and old not in json.dumps(event.data)
    logged = SecurityEvent.objects.get(kind=SecurityEventKind.PRIVATE_LINK_ROTATED)
    assert logged.subject == case.reference and old not in json.dumps(logged.detail)


def test_staff_replace_the_private_link_from_the_console(
    client: Client, pothole: Any, admin_client: Client
) -> None:
    case = _open(pothole)
    old = track_token(case)
    page = admin_client.get(f"/console/cases/{case.pk}/").content.decode()
    assert f"/console/cases/{case.pk}/new-link/" in page
    assert admin_client.post(f"/console/cases/{case.pk}/new-link/").status_code == 302
    assert client.get(f"/requests/{old}/").status_code == 404
    case.refresh_from_db()
    assert client.get(f"/requests/{track_token(case)}/").status_code == 200
    assert SecurityEvent.objects.filter(
        kind=SecurityEventKind.PRIVATE_LINK_ROTATED, subject=case.reference
    ).exists()
    assert client.post(f"/console/cases/{case.pk}/new-link/").status_code == 302  # to sign-in
    case.refresh_from_db()
    assert client.get(f"/requests/{track_token(case)}/").status_code == 200


def test_messages_after_a_new_link_carry_the_new_link(pothole: Any, settings: Any) -> None:
    from townhall.cases.services import case_link_rotate, case_note_add
    from townhall.people.services import citizen_resolve

    settings.TOWNHALL_PUBLIC_URL = "https://council.example"
    reporter = citizen_resolve(email="r@example.org", name="R")
    case = _open(pothole, reporter=reporter)
    old = track_token(case)
    case = case_link_rotate(case=case)
    case_note_add(case=case, text="Crew booked", actor=None, public=True)
    body = Notification.objects.get(kind="public_update").body
    assert track_token(case) in body and old not in body


# --- personal services are never public ------------------------------------------------


def test_a_housing_case_is_absent_from_open311_and_public_pages(
    client: Client, no_heat: ServiceType, pothole: Any
) -> None:
    housing = _open(no_heat, "No heating in flat 3 since Monday")
    street = _open(pothole)
    listed = client.get("/open311/v2/requests.json").json()
    ids = {r["service_request_id"] for r in listed}
    assert street.reference in ids and housing.reference not in ids
    named = client.get("/open311/v2/requests.json", {"service_request_id": housing.reference})
    assert named.json() == []
    by_code = client.get("/open311/v2/requests.json", {"service_code": "no_heat"})
    assert by_code.json() == []
    assert client.get(f"/open311/v2/requests/{housing.reference}.json").status_code == 404
    assert client.get(f"/open311/v2/requests/{housing.reference}.xml").status_code == 404
    public = client.get("/track/", {"reference": housing.reference})
    assert public.status_code == 404 and "No heating" not in public.content.decode()
    assert client.get(f"/track/{housing.reference}/me-too/").status_code == 404
    # Its reporter still has the private page.
    assert client.get(f"/requests/{track_token(housing)}/").status_code == 200


def test_a_personal_service_shows_no_nearby_reports_and_takes_no_me_too(
    client: Client, no_heat: ServiceType
) -> None:
    ServiceType.objects.filter(pk=no_heat.pk).update(duplicate_radius_m=100)
    catalog_cache_clear()
    neighbour = _open(no_heat, "No heat at number 12")
    html = client.get("/report/no_heat/", {"lat": ELM[0], "long": ELM[1]}).content.decode()
    assert neighbour.reference not in html and "Has someone already reported it?" not in html
    assert client.post(f"/track/{neighbour.reference}/me-too/", {}).status_code == 404
    assert not CaseFollower.objects.exists()


def test_duplicates_off_hides_the_nearby_list_and_refuses_me_too(
    client: Client, pothole: Any
) -> None:
    case = _open(pothole)
    ServiceType.objects.filter(pk=pothole.pk).update(duplicate_radius_m=0)
    catalog_cache_clear()
    html = client.get("/report/pothole/", {"lat": ELM[0], "long": ELM[1]}).content.decode()
    assert case.reference not in html
    assert client.post(f"/track/{case.reference}/me-too/", {}).status_code == 404
    assert not CaseFollower.objects.exists()


def test_the_demo_catalogue_marks_home_and_household_services_personal() -> None:
    spec = json.loads(
        (Path(__file__).parents[2] / "townhall/demo/data/town.json").read_text("utf-8")
    )
    personal = {s["code"] for s in spec["service_types"] if s.get("personal")}
    assert {"no_heat", "housing_code", "noise", "bulk_item_pickup"} <= personal
    assert "pothole" not in personal


def test_the_catalogue_import_reads_and_checks_personal(town: Any) -> None:
    from tests.conftest import SMALL_TOWN
    from townhall.catalog.services import catalog_import
    from townhall.core.errors import ValidationFailed

    spec = json.loads(json.dumps(SMALL_TOWN))
    spec["service_types"][1]["personal"] = True
    catalog_import(spec=spec)
    assert ServiceType.objects.get(code="no_heat").personal
    spec["service_types"][1]["personal"] = "yes"
    with pytest.raises(ValidationFailed):
        catalog_import(spec=spec)


# --- "me too" counts once ------------------------------------------------------------------


def test_me_too_twice_from_one_session_counts_once(client: Client, pothole: Any) -> None:
    case = _open(pothole)
    for _ in range(5):
        client.post(f"/track/{case.reference}/me-too/", {"email": ""})
    assert CaseFollower.objects.filter(case=case).count() == 1
    assert case.events.filter(kind=CaseEventKind.FOLLOWED).count() == 1
    other = Client()
    other.post(f"/track/{case.reference}/me-too/", {"email": ""})
    assert CaseFollower.objects.filter(case=case).count() == 2


def test_the_same_person_from_two_sessions_counts_once(pothole: Any) -> None:
    case = _open(pothole)
    for browser in (Client(), Client()):
        browser.post(f"/track/{case.reference}/me-too/", {"email": "n@example.org"})
        token = _confirmation_token()
        browser.post(f"/follow/confirm/{token}/")
    follower = CaseFollower.objects.get(case=case)
    assert follower.citizen is not None


# --- follow by e-mail needs the address confirmed ----------------------------------------


def _confirmation_token() -> str:
    """The link's secret as the outbox makes it when it sends the e-mail (never stored)."""
    from townhall.notify.secret_links import secret_link_make

    note = Notification.objects.filter(kind="follow_confirm").order_by("-pk").first()
    assert note is not None
    found = re.search(r"/follow/confirm/([^/\s]+)/", secret_link_make(note))
    assert found is not None
    return found.group(1)


def test_following_by_email_subscribes_nobody_until_confirmed(
    client: Client, pothole: Any, settings: Any
) -> None:
    from townhall.cases.services import case_note_add

    settings.TOWNHALL_PUBLIC_URL = "https://council.example"
    case = _open(pothole)
    response = client.post(f"/track/{case.reference}/follow/", {"email": "victim@example.org"})
    assert response.status_code == 302
    assert not CaseFollower.objects.exists()
    case_note_add(case=case, text="Crew booked", actor=None, public=True)
    assert not Notification.objects.filter(kind="public_update").exists()
    note = Notification.objects.get(kind="follow_confirm")
    assert note.to == "victim@example.org" and note.channel == "email"
    # The stored message holds no working link: it is made as the e-mail is sent.
    assert case.reference in note.body and "/follow/confirm/" not in note.body
    from townhall.notify.secret_links import secret_link_make

    first = secret_link_make(note)
    assert "https://council.example/follow/confirm/" in first
    token = _confirmation_token()  # each sending makes a new secret; the last one works
    assert token not in first
    assert (
        client.post(
            f"/follow/confirm/{first.split('/follow/confirm/')[1].split('/')[0]}/"
        ).status_code
        == 404
    )
    assert token not in json.dumps(list(FollowRequest.objects.values()), default=str)
    # Opening the link (a mail scanner) does nothing; the POST confirms, once.
    assert client.get(f"/follow/confirm/{token}/").status_code == 200
    assert not CaseFollower.objects.exists()
    assert client.post(f"/follow/confirm/{token}/").status_code == 302
    follower = CaseFollower.objects.get(case=case)
    assert follower.via == "subscribed"
    assert follower.citizen is not None
    assert client.post(f"/follow/confirm/{token}/").status_code == 404
    assert client.post("/follow/confirm/forged/").status_code == 404
    case_note_add(case=case, text="Done soon", actor=None, public=True)
    assert Notification.objects.filter(kind="public_update", to="victim@example.org").exists()


def test_the_confirmation_template_exists_in_english_and_spanish(pothole: Any) -> None:
    from townhall.notify.selectors import default_templates

    templates = default_templates()
    for language in ("en", "es"):
        text = templates[("follow_confirm", "email", language)]
        assert "{{ confirm_url }}" in text.body and "{{ reference }}" in text.subject


def test_me_too_by_email_counts_the_voice_and_follows_only_once_confirmed(
    client: Client, pothole: Any
) -> None:
    case = _open(pothole)
    client.post(f"/track/{case.reference}/me-too/", {"email": "n@example.org"})
    follower = CaseFollower.objects.get(case=case)
    assert follower.citizen is None  # counted, not contactable yet
    client.post(f"/follow/confirm/{_confirmation_token()}/")
    follower = CaseFollower.objects.get(case=case)  # the same voice, now reachable
    assert follower.citizen is not None and follower.via == "me_too"


def test_a_confirmation_link_expires(client: Client, pothole: Any, settings: Any) -> None:
    from datetime import timedelta

    case = _open(pothole)
    client.post(f"/track/{case.reference}/follow/", {"email": "late@example.org"})
    token = _confirmation_token()
    FollowRequest.objects.update(
        created_at=FollowRequest.objects.get().created_at
        - timedelta(hours=settings.TOWNHALL_FOLLOW_CONFIRM_HOURS + 1)
    )
    assert client.post(f"/follow/confirm/{token}/").status_code == 404
    assert not CaseFollower.objects.exists()


# --- residents' words are published masked -------------------------------------------------


def test_masking_removes_phones_emails_addresses_names_and_signatures() -> None:
    masked = public_text(LEAKY)
    assert not any(secret in masked for secret in SECRETS), masked
    assert "[phone]" in masked and "[email]" in masked and "[address]" in masked
    assert "Huge pothole" in masked
    spanish = public_text(
        "Me llamo Ana. Vivo en calle Mayor 12. Llámeme al 612 345 678.\n\nSaludos\nAna", region="ES"
    )
    assert "612 345 678" not in spanish and "Mayor 12" not in spanish and "Ana" not in spanish
    assert public_text("Sent via SMS\n--\nAna, 07700 900123") == "Sent via SMS"
    assert public_text("Deep hole by the kerb") == "Deep hole by the kerb"


def test_open311_json_and_xml_publish_the_masked_description(client: Client, pothole: Any) -> None:
    case = _open(pothole, LEAKY, channel="email")
    assert case.description == LEAKY.strip()  # staff keep the words as received
    for body in (
        client.get("/open311/v2/requests.json").content.decode(),
        client.get(f"/open311/v2/requests/{case.reference}.json").content.decode(),
        client.get("/open311/v2/requests.xml").content.decode(),
        client.get(f"/open311/v2/requests/{case.reference}.xml").content.decode(),
    ):
        assert "Huge pothole" in body
        assert not any(secret in body for secret in SECRETS), body
    ElementTree.fromstring(client.get("/open311/v2/requests.xml").content)  # well-formed


def test_the_public_page_shows_the_masked_description(client: Client, pothole: Any) -> None:
    case = _open(pothole, LEAKY, channel="sms")
    html = client.get("/track/", {"reference": case.reference}).content.decode()
    assert "Huge pothole" in html and "[phone]" in html
    assert not any(secret in html for secret in SECRETS)
    private = client.get(f"/requests/{track_token(case)}/").content.decode()
    assert "555-0142" in private  # the reporter sees their own words


def test_a_staff_summary_replaces_the_public_description(
    client: Client, pothole: Any, admin_client: Client
) -> None:
    case = _open(pothole, LEAKY, channel="email")
    response = admin_client.post(
        f"/console/cases/{case.pk}/public-summary/", {"summary": "Large pothole on Elm Street"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.public_summary == "Large pothole on Elm Street"
    assert case.events.filter(kind=CaseEventKind.SUMMARY_CHANGED, public=False).exists()
    listed = client.get(f"/open311/v2/requests/{case.reference}.json").json()
    assert listed[0]["description"] == "Large pothole on Elm Street"
    html = client.get("/track/", {"reference": case.reference}).content.decode()
    assert "Large pothole on Elm Street" in html and "Huge pothole" not in html
    page = admin_client.get(f"/console/cases/{case.pk}/").content.decode()
    assert "Large pothole on Elm Street" in page
    assert (
        client.post(f"/console/cases/{case.pk}/public-summary/", {"summary": "x"}).status_code
        == 302
    )
    case.refresh_from_db()
    assert case.public_summary == "Large pothole on Elm Street"  # not by a visitor


def test_a_reopen_reason_is_public_only_masked(client: Client, pothole: Any) -> None:
    from townhall.cases.services import case_transition

    case = _open(pothole)
    case_transition(case=case, to="in_progress", actor=None)
    case_transition(case=case, to="resolved", actor=None, note="Filled")
    client.post(
        f"/requests/{track_token(case)}/reopen/",
        {"reason": "Still there, call me on 617-555-0142"},
    )
    html = client.get("/track/", {"reference": case.reference}).content.decode()
    assert "Still there" in html and "555-0142" not in html
    body = client.get(
        f"/open311/v2/requests/{case.reference}.json", {"extensions": "true"}
    ).content.decode()
    assert "555-0142" not in body


def test_open311_post_writes_the_masked_copy_once(client: Client, pothole: Any) -> None:
    from townhall.open311.keys import api_key_issue

    key = api_key_issue(name="partner")[1]
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": key,
            "service_code": "pothole",
            "lat": ELM[0],
            "long": ELM[1],
            "attribute[size]": "small",
            "description": "Hole. Reach me at bob@example.org",
        },
    )
    assert response.status_code == 200, response.content
    case = Case.objects.get()
    assert case.public_description == "Hole. Reach me at [email]"


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_masking_never_raises_and_never_grows_a_known_secret(text: str) -> None:
    masked = public_text(text + "\nCall 617-555-0142 or ana.souza@example.com")
    assert "555-0142" not in masked and "ana.souza@example.com" not in masked


def test_the_follow_form_cannot_flood_a_strangers_inbox(client: Client, pothole: Any) -> None:
    from townhall.portal.services import FOLLOW_CONFIRMATIONS_PER_DAY

    case = _open(pothole)
    for i in range(FOLLOW_CONFIRMATIONS_PER_DAY + 5):
        address = "Victim@Example.org" if i % 2 else "victim@example.org"
        response = client.post(f"/track/{case.reference}/follow/", {"email": address})
        assert response.status_code == 302
    sent = Notification.objects.filter(kind="follow_confirm").count()
    assert sent == FOLLOW_CONFIRMATIONS_PER_DAY
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.RATE_LIMITED).exists()
    assert "victim" not in json.dumps(list(SecurityEvent.objects.values("subject", "detail")))


def test_the_admin_does_not_show_the_private_link_key(pothole: Any, admin_client: Client) -> None:
    from townhall.cases.services import case_link_rotate

    case = case_link_rotate(case=_open(pothole))
    page = admin_client.get(f"/admin/cases/case/{case.pk}/change/").content.decode()
    assert page.count(case.track_key) == 0 and track_token(case) not in page
