"""The console's side of intake: the triage queue, suggested duplicates, messages received."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import signed_in
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import CaseEvent, CaseEventKind
from townhall.intake.messages import IncomingMessage, Location, Sender
from townhall.intake.models import DuplicateSuggestion, ReviewStatus, TriageReview
from townhall.intake.selectors import duplicate_suggestions_open
from townhall.intake.services import intake_accept

pytestmark = pytest.mark.django_db


@pytest.fixture
def unsure(staff: dict[str, Any], settings: Any) -> Any:
    """A partner's message no classifier could place: filed under the fallback, for triage."""
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    result = intake_accept(
        IncomingMessage(
            channel="social",
            sender=Sender(handle="x:@jo"),
            text="The radiators in my flat have been cold since Friday",
        )
    )
    assert result.case is not None
    return result.case


def test_an_unsure_case_waits_in_the_triage_queue_and_one_click_moves_it(
    staff: dict[str, Any], unsure: Any
) -> None:
    keisha = signed_in(staff["caseworker"])  # Public Works, where the fallback put it
    queue = keisha.get("/console/queues/triage/")
    assert queue.status_code == 200
    assert unsure.reference in queue.content.decode()
    page = keisha.get(f"/console/cases/{unsure.pk}/").content.decode()
    assert "Needs triage" in page
    moved = keisha.post(f"/console/cases/{unsure.pk}/triage/", {"service": "no_heat"})
    assert moved.status_code == 302
    # It left Public Works, so Keisha goes back to the queue, not to a case she cannot see.
    assert moved["Location"].endswith("/console/queues/triage/")
    unsure.refresh_from_db()
    assert unsure.service_type.code == "no_heat"
    assert unsure.department.code == "isd"
    assert unsure.assignee_id is None
    review = TriageReview.objects.get(case=unsure)
    assert review.status == ReviewStatus.CORRECTED
    assert review.decided_by == staff["caseworker"]
    event = CaseEvent.objects.filter(case=unsure, kind=CaseEventKind.TRANSFERRED).get()
    assert event.data["from_service"] == "pothole" and event.data["to_service"] == "no_heat"
    daniel = signed_in(staff["other_caseworker"])  # Inspectional Services now has it
    assert unsure.reference not in daniel.get("/console/queues/triage/").content.decode()
    assert daniel.get(f"/console/cases/{unsure.pk}/").status_code == 200


def test_confirming_the_guess_keeps_the_case_where_it_is(
    staff: dict[str, Any], unsure: Any
) -> None:
    keisha = signed_in(staff["caseworker"])
    response = keisha.post(f"/console/cases/{unsure.pk}/triage/", {"service": "pothole"})
    assert response["Location"].endswith(f"/console/cases/{unsure.pk}/#actions")
    assert TriageReview.objects.get(case=unsure).status == ReviewStatus.CONFIRMED
    again = keisha.post(f"/console/cases/{unsure.pk}/triage/", {"service": "no_heat"})
    unsure.refresh_from_db()
    assert again.status_code == 302 and unsure.service_type.code == "pothole"  # decided once


def test_another_department_cannot_triage_a_case_it_cannot_see(
    staff: dict[str, Any], unsure: Any
) -> None:
    daniel = signed_in(staff["other_caseworker"])
    assert (
        daniel.post(f"/console/cases/{unsure.pk}/triage/", {"service": "no_heat"}).status_code
        == 404
    )
    assert TriageReview.objects.get(case=unsure).status == ReviewStatus.PENDING


def _near(text: str, lat: float, email: str) -> Any:
    result = intake_accept(
        IncomingMessage(
            channel="social",
            sender=Sender(email=email),
            text=text,
            place=Location(lat=lat, long=-71.09),
            service_code="pothole",
        )
    )
    return result.case


def test_a_suggested_duplicate_is_merged_or_dismissed_from_the_case_page(
    staff: dict[str, Any],
) -> None:
    first = _near("Deep pothole outside the library", 42.36000, "a@example.org")
    second = _near("Road surface broken near bus stop", 42.36030, "b@example.org")
    third = _near("Cracked tarmac by the crossing", 42.36025, "c@example.org")
    assert first.pk != second.pk != third.pk
    keisha = signed_in(staff["caseworker"])
    page = keisha.get(f"/console/cases/{second.pk}/").content.decode()
    assert "Possible duplicates" in page and first.reference in page
    assert "Messages received" in page
    suggestion = DuplicateSuggestion.objects.get(case=second, candidate=first)
    merged = keisha.post(
        f"/console/cases/{second.pk}/duplicates/{suggestion.pk}/", {"decision": "merge"}
    )
    assert merged["Location"].endswith(f"/console/cases/{first.pk}/")
    second.refresh_from_db()
    assert second.status == CaseStatus.DUPLICATE and second.merged_into_id == first.pk
    suggestion.refresh_from_db()
    assert suggestion.status == "merged"
    other = DuplicateSuggestion.objects.filter(case=third).first()
    assert other is not None
    keisha.post(f"/console/cases/{third.pk}/duplicates/{other.pk}/", {"decision": "dismiss"})
    other.refresh_from_db()
    third.refresh_from_db()
    assert other.status == "dismissed" and third.status != CaseStatus.DUPLICATE
    assert other not in duplicate_suggestions_open(case=third)
