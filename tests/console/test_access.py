"""The permission matrix: every console URL, every role, own or other department."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.console.conftest import signed_in
from townhall.cases.models import Case
from townhall.cases.services import case_acknowledge, case_open

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "resident",
    "agent",
    "caseworker",
    "supervisor",
    "department_admin",
    "council_admin",
    "other_caseworker",
]
# Roles whose departments include Public Works (council admins see everything).
SEES_PUBLIC_WORKS = {"agent", "caseworker", "supervisor", "department_admin", "council_admin"}
# Roles that may give a case to a colleague.
ASSIGNS = {"caseworker", "supervisor", "department_admin", "council_admin"}


def _client(staff: dict[str, Any], role: str) -> Client:
    return Client() if role == "anonymous" else signed_in(staff[role])


def _case(service: Any) -> Case:
    answers = {"size": "small"} if service.code == "pothole" else {}
    case = case_open(service_type=service, channel="web", answers=answers, description="Help")
    case_acknowledge(case_id=case.pk)
    return case


def _expect(role: str, sees: bool, allowed: int) -> int | str:
    if role == "anonymous":
        return "login"
    if role == "resident":
        return 403
    return allowed if sees else 404


def _check(response: Any, expected: int | str) -> None:
    if expected == "login":
        assert response.status_code == 302 and "/login/" in response["Location"]
    else:
        assert response.status_code == expected, response.content.decode()[:500]


@pytest.mark.parametrize("role", ROLES)
def test_queues_open_for_staff_only(staff: dict[str, Any], role: str) -> None:
    client = _client(staff, role)
    for path in [
        "/console/",
        *(
            f"/console/queues/{q}/"
            for q in (
                "mine",
                "unassigned",
                "breaching",
                "breached",
                "awaiting",
                "triage",
                "reopened",
                "all",
            )
        ),
    ]:
        expected = "login" if role == "anonymous" else 403 if role == "resident" else 200
        _check(client.get(path), expected)
    if role not in {"anonymous", "resident"}:
        assert client.get("/console/queues/nonsense/").status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("department", ["own", "other"])
def test_every_case_url_for_every_role_and_department(
    staff: dict[str, Any], pothole: Any, no_heat: Any, role: str, department: str
) -> None:
    """'own' is a Public Works case, 'other' an Inspectional Services one."""
    case = _case(pothole if department == "own" else no_heat)
    in_isd = role in {"other_caseworker", "council_admin"}
    sees = role in SEES_PUBLIC_WORKS if department == "own" else in_isd
    client = _client(staff, role)
    base = f"/console/cases/{case.pk}"

    _check(client.get(f"{base}/"), _expect(role, sees, 200))
    _check(
        client.post(f"{base}/note/", {"text": "Checked", "visibility": "internal"}),
        _expect(role, sees, 302),
    )
    _check(client.post(f"{base}/priority/", {"priority": "high"}), _expect(role, sees, 302))
    _check(client.post(f"{base}/assign/", {"assignee": "me"}), _expect(role, sees, 302))
    colleague = staff["caseworker"] if department == "own" else staff["other_caseworker"]
    allowed = 302 if role in ASSIGNS or staff.get(role) == colleague else 403
    _check(client.post(f"{base}/assign/", {"assignee": colleague.pk}), _expect(role, sees, allowed))
    _check(client.post(f"{base}/status/", {"to": "in_progress"}), _expect(role, sees, 302))
    other = _case(pothole if department == "own" else no_heat)
    _check(client.post(f"{base}/merge/", {"into": other.reference}), _expect(role, sees, 302))
    if sees and role not in {"anonymous", "resident"}:
        case.refresh_from_db()
        assert case.status == "duplicate" and case.merged_into_id == other.pk
    else:
        case.refresh_from_db()
        assert case.status == "acknowledged" and case.events.count() == 2  # untouched


@pytest.mark.parametrize("role", ["agent", "caseworker", "other_caseworker"])
def test_a_case_outside_ones_departments_is_as_missing_as_one_that_does_not_exist(
    staff: dict[str, Any], no_heat: Any, pothole: Any, role: str
) -> None:
    hidden = _case(no_heat if role != "other_caseworker" else pothole)
    client = signed_in(staff[role])
    missing = Case.objects.order_by("-pk").first().pk + 1000  # type: ignore[union-attr]
    for path in ["/", "/note/"]:
        seen = (
            client.get(f"/console/cases/{hidden.pk}{path}")
            if path == "/"
            else client.post(
                f"/console/cases/{hidden.pk}{path}", {"text": "x", "visibility": "internal"}
            )
        )
        unseen = (
            client.get(f"/console/cases/{missing}{path}")
            if path == "/"
            else client.post(
                f"/console/cases/{missing}{path}", {"text": "x", "visibility": "internal"}
            )
        )
        assert seen.status_code == unseen.status_code == 404
    found = client.get("/console/find/", {"reference": hidden.reference})
    assert found.status_code == 302 and f"/cases/{hidden.pk}/" not in found["Location"]
    assert hidden.reference not in client.get("/console/queues/all/").content.decode()


def test_merging_into_a_case_one_cannot_see_is_refused_as_unknown(
    staff: dict[str, Any], pothole: Any, no_heat: Any
) -> None:
    mine, theirs = _case(pothole), _case(no_heat)
    response = signed_in(staff["caseworker"]).post(
        f"/console/cases/{mine.pk}/merge/", {"into": theirs.reference}
    )
    assert response.status_code == 400
    assert "No case you can see has that reference" in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == "acknowledged"


def test_a_case_cannot_be_given_to_someone_outside_its_department(
    staff: dict[str, Any], pothole: Any
) -> None:
    case = _case(pothole)
    response = signed_in(staff["supervisor"]).post(
        f"/console/cases/{case.pk}/assign/", {"assignee": staff["other_caseworker"].pk}
    )
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.assignee_id is None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("department", ["own", "other"])
def test_intake_urls_for_every_role_and_department(
    staff: dict[str, Any], pothole: Any, no_heat: Any, role: str, department: str
) -> None:
    """Triage, suggested duplicates and message attachments follow the case's access."""
    from django.core.files.base import ContentFile

    from townhall.intake.models import (
        DuplicateSuggestion,
        InboundAttachment,
        InboundMessage,
        TriageReview,
    )

    service = pothole if department == "own" else no_heat
    case, earlier = _case(service), _case(service)
    in_isd = role in {"other_caseworker", "council_admin"}
    sees = role in SEES_PUBLIC_WORKS if department == "own" else in_isd
    TriageReview.objects.create(case=case, suggestions=[[service.code, 0.4]], confidence=0.4)
    suggestion = DuplicateSuggestion.objects.create(
        case=case, candidate=earlier, score=0.5, distance_m=20, similarity=0.4
    )
    message = InboundMessage.objects.create(channel="email", case=case, text="see attached")
    attachment = InboundAttachment(
        message=message, filename="plan.pdf", content_type="application/pdf", size=4
    )
    attachment.file.save("plan.pdf", ContentFile(b"%PDF"))
    client = _client(staff, role)
    base = f"/console/cases/{case.pk}"

    download = client.get(f"{base}/attachments/{attachment.pk}/")
    _check(download, _expect(role, sees, 200))
    if download.status_code == 200:
        assert download["Content-Disposition"].startswith("attachment")
        assert b"".join(download.streaming_content) == b"%PDF"
    _check(
        client.post(f"{base}/duplicates/{suggestion.pk}/", {"decision": "dismiss"}),
        _expect(role, sees, 302),
    )
    _check(client.post(f"{base}/triage/", {"service": service.code}), _expect(role, sees, 302))
    suggestion.refresh_from_db()
    review = TriageReview.objects.get(case=case)
    if sees and role not in {"anonymous", "resident"}:
        assert suggestion.status == "dismissed" and review.status == "confirmed"
    else:
        assert suggestion.status == "open" and review.status == "pending"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("department", ["own", "other"])
def test_admin_urls_for_every_role_and_department(
    staff: dict[str, Any], pothole: Any, no_heat: Any, role: str, department: str
) -> None:
    """The admin shows each role what the console would: cases, photos, messages, residents."""
    from django.core.files.base import ContentFile

    from townhall.cases.models import CasePhoto
    from townhall.intake.models import InboundMessage
    from townhall.people.services import citizen_resolve

    service = pothole if department == "own" else no_heat
    reporter = citizen_resolve(name="Rosa", email="rosa@example.org")
    answers = {"size": "small"} if service.code == "pothole" else {}
    case = case_open(
        service_type=service, channel="web", answers=answers, description="Help", reporter=reporter
    )
    photo = CasePhoto(case=case, content_type="image/jpeg", width=1, height=1, size=4)
    photo.file.save("p.jpg", ContentFile(b"\xff\xd8\xff\xd9"))
    message = InboundMessage.objects.create(channel="email", case=case, text="about my case")
    in_isd = role in {"other_caseworker", "council_admin"}
    sees = role in SEES_PUBLIC_WORKS if department == "own" else in_isd
    client = _client(staff, role)
    pages = {
        "case list": "/admin/cases/case/",
        "case": f"/admin/cases/case/{case.pk}/change/",
        "photo": f"/admin/cases/case/photo/{photo.pk}/",
        "residents": "/admin/people/citizen/",
        "resident": f"/admin/people/citizen/{reporter.pk}/change/",
        "message": f"/admin/intake/inboundmessage/{message.pk}/change/",
    }
    responses = {name: client.get(url) for name, url in pages.items()}
    if role in {"anonymous", "resident"}:  # not staff: the admin's sign-in page
        for response in responses.values():
            assert response.status_code == 302 and "/admin/login/" in response["Location"]
        return
    listing = responses["case list"].content.decode()
    people = responses["residents"].content.decode()
    assert (case.reference in listing) is sees
    assert ("Rosa" in people) is sees
    # a case or resident one may not see is as missing as one that does not exist
    assert responses["case"].status_code == (200 if sees else 302)
    assert responses["resident"].status_code == (200 if sees else 302)
    assert responses["photo"].status_code == (200 if sees else 404)
    # inbound messages: only council admins hold the permission at all
    assert responses["message"].status_code == (200 if role == "council_admin" else 403)
