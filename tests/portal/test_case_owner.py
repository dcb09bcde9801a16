"""The report's proven owner, signed in, adds an update to it or withdraws it from its page;
nobody else can (another resident, an anonymous visitor, whoever holds the private link
without signing in as the owner): they get the same 404 as for no such request."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.cases.services import case_transition
from townhall.portal.accounts import sign_in_token
from townhall.portal.links import track_token
from townhall.portal.services import Location, report_submit

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, email: str) -> None:
    response = client.post(f"/account/sign-in/{sign_in_token(email)}/")
    assert response.status_code == 302


@pytest.fixture
def report(pothole: Any) -> Case:
    return report_submit(
        service_type=pothole,
        location=Location(42.36, -71.09, "12 Elm Street", ""),
        description="Deep hole outside number 12",
        answers={"size": "large"},
        email="maria@example.com",
        name="Maria",
    )


@pytest.fixture
def owner(client: Client, report: Case) -> Client:
    _sign_in(client, "maria@example.com")
    return client


def _page(client: Client, case: Case) -> str:
    return client.get(f"/requests/{track_token(case)}/").content.decode()


def _notes(case: Case) -> list[str]:
    return [
        e.content.get("text", "")
        for e in CaseEvent.objects.filter(case=case, kind=CaseEventKind.NOTE).order_by("seq")
    ]


def test_the_owner_sees_both_forms_on_the_private_page(owner: Client, report: Case) -> None:
    html = _page(owner, report)
    assert "Add an update" in html and "Withdraw this request" in html


def test_the_owner_adds_an_update_that_staff_see(owner: Client, report: Case) -> None:
    url = f"/requests/{track_token(report)}/update/"
    response = owner.post(url, {"text": "It is getting deeper after the rain"})
    assert response.status_code == 302
    assert any("It is getting deeper after the rain" in n for n in _notes(report))
    follow = owner.get(response["Location"]).content.decode()
    assert "We have added your update to request" in follow


def test_an_update_resumes_a_case_waiting_for_the_resident(owner: Client, report: Case) -> None:
    case_transition(case=report, to=CaseStatus.ACKNOWLEDGED, actor=None)
    case_transition(case=report, to=CaseStatus.AWAITING_CITIZEN, actor=None)
    owner.post(f"/requests/{track_token(report)}/update/", {"text": "The hole is 30 cm wide"})
    report.refresh_from_db()
    assert report.status == CaseStatus.IN_PROGRESS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter your update"),
        ("   ", "Enter your update"),
        ("x" * 2001, "Your update must be 2,000 characters or fewer"),
    ],
)
def test_a_bad_update_is_a_field_error_not_a_500(
    owner: Client, report: Case, text: str, message: str
) -> None:
    response = owner.post(f"/requests/{track_token(report)}/update/", {"text": text})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _notes(report) == []


def test_the_owner_withdraws_and_staff_see_why(owner: Client, report: Case) -> None:
    url = f"/requests/{track_token(report)}/withdraw/"
    response = owner.post(url, {"reason": "A neighbour filled it in"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == CaseStatus.CLOSED and report.closed_at is not None
    change = CaseEvent.objects.filter(case=report, kind=CaseEventKind.STATUS_CHANGED).last()
    assert change is not None and change.public
    assert change.content["note"] == "Withdrawn by the resident." and change.data["withdrawn"]
    assert any(
        "Withdrawn by the resident" in n and "A neighbour filled it in" in n for n in _notes(report)
    )
    html = _page(owner, report)
    assert "Withdrawn by the resident." in html  # the public history says so
    assert "Withdraw this request" not in html and "Add an update" not in html


def test_staff_see_the_update_and_the_withdrawal_on_the_console_case_page(
    owner: Client, report: Case
) -> None:
    from townhall.people.roles import StaffRole
    from townhall.people.services import staff_user_create

    token = track_token(report)
    owner.post(f"/requests/{token}/update/", {"text": "It is getting deeper after the rain"})
    owner.post(f"/requests/{token}/withdraw/", {"reason": "A neighbour filled it in"})
    admin = staff_user_create(
        username="ada", role=StaffRole.COUNCIL_ADMIN, password="pw-for-tests-1"
    )
    staff = Client()
    staff.force_login(admin)
    response = staff.get(f"/console/cases/{report.pk}/")
    html = response.content.decode()
    assert response.status_code == 200, html[:500]
    assert "It is getting deeper after the rain" in html
    assert "Withdrawn by the resident" in html and "A neighbour filled it in" in html


def test_a_finished_request_cannot_be_withdrawn_or_updated(owner: Client, report: Case) -> None:
    owner.post(f"/requests/{track_token(report)}/withdraw/", {"reason": ""})
    again = owner.post(f"/requests/{track_token(report)}/withdraw/", {"reason": ""})
    update = owner.post(f"/requests/{track_token(report)}/update/", {"text": "hello"})
    assert again.status_code == 400 and "it cannot be withdrawn" in again.content.decode()
    assert update.status_code == 400 and "you cannot add an update" in update.content.decode()


def test_a_too_long_reason_is_a_field_error(owner: Client, report: Case) -> None:
    response = owner.post(f"/requests/{track_token(report)}/withdraw/", {"reason": "x" * 501})
    assert response.status_code == 400
    assert "Your reason must be 500 characters or fewer" in response.content.decode()
    report.refresh_from_db()
    assert report.status == CaseStatus.NEW


# --- abuse: nobody but the proven owner ----------------------------------------------------


@pytest.mark.parametrize("action", ["update", "withdraw"])
def test_the_link_holder_without_signing_in_cannot_act(
    client: Client, report: Case, action: str
) -> None:
    html = _page(client, report)
    assert "Withdraw this request" not in html and "Add an update" not in html
    assert "Sign in to add an update to this request or withdraw it" in html
    response = client.post(
        f"/requests/{track_token(report)}/{action}/", {"text": "spam", "reason": "spam"}
    )
    assert response.status_code == 404
    report.refresh_from_db()
    assert report.status == CaseStatus.NEW and _notes(report) == []


@pytest.mark.parametrize("action", ["update", "withdraw"])
def test_another_resident_with_the_link_cannot_act(
    client: Client, report: Case, action: str
) -> None:
    _sign_in(client, "mallory@example.com")
    assert "Withdraw this request" not in _page(client, report)
    response = client.post(
        f"/requests/{track_token(report)}/{action}/", {"text": "spam", "reason": "spam"}
    )
    assert response.status_code == 404
    report.refresh_from_db()
    assert report.status == CaseStatus.NEW and _notes(report) == []


def test_an_unproven_contact_typed_into_the_report_is_not_ownership(
    client: Client, pothole: Any
) -> None:
    # given a report with no contact given (the reporter is unknown)
    case = report_submit(
        service_type=pothole,
        location=Location(42.36, -71.09, "12 Elm Street", ""),
        description="Hole",
        answers={"size": "small"},
    )
    _sign_in(client, "maria@example.com")
    response = client.post(f"/requests/{track_token(case)}/withdraw/", {"reason": ""})
    assert response.status_code == 404


def test_a_forged_or_old_link_is_404_even_for_the_owner(owner: Client, report: Case) -> None:
    assert owner.post("/requests/not-a-token/update/", {"text": "x"}).status_code == 404
    assert owner.get(f"/requests/{track_token(report)}/update/").status_code == 405


def test_the_posts_need_the_csrf_token(owner: Client, report: Case) -> None:
    # the owner's session, in a client that checks CSRF like a browser would
    client = Client(enforce_csrf_checks=True)
    client.cookies = owner.cookies
    assert "Withdraw this request" in _page(client, report)  # signed in as the owner
    response = client.post(f"/requests/{track_token(report)}/withdraw/", {"reason": ""})
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.status == CaseStatus.NEW


def test_updates_are_rate_limited(owner: Client, report: Case, settings: Any) -> None:
    settings.TOWNHALL_RATE_LIMITS = {**settings.TOWNHALL_RATE_LIMITS, "resident_case": "2/minute"}
    url = f"/requests/{track_token(report)}/update/"
    codes = [owner.post(url, {"text": f"update {n}"}).status_code for n in range(3)]
    assert codes == [302, 302, 429]
