"""Notes go on after the work is done, and staff read statuses in their own words."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import signed_in
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEventKind
from townhall.cases.services import case_acknowledge, case_open, case_transition
from townhall.catalog.models import AttributeDefinition

pytestmark = pytest.mark.django_db


def _open(service: Any) -> Case:
    case = case_open(
        service_type=service, channel="web", answers={"size": "small"}, description="Hole"
    )
    case_acknowledge(case_id=case.pk)
    case.refresh_from_db()
    return case


@pytest.mark.parametrize("finished", [[CaseStatus.RESOLVED], [CaseStatus.RESOLVED, "closed"]])
def test_resolved_and_closed_cases_take_notes_and_updates(
    staff: dict[str, Any], pothole: Any, finished: list[str]
) -> None:
    case = _open(pothole)
    keisha = staff["caseworker"]
    for status in finished:
        case_transition(case=case, to=status, actor=keisha)
    client = signed_in(keisha)
    page = client.get(f"/console/cases/{case.pk}/").content.decode()
    assert f'action="/console/cases/{case.pk}/note/"' in page
    internal = client.post(
        f"/console/cases/{case.pk}/note/",
        {"text": "Resident rang: the patch is holding", "visibility": "internal"},
    )
    assert internal.status_code == 302
    public = client.post(
        f"/console/cases/{case.pk}/note/",
        {"text": "We will check it again in spring", "visibility": "public"},
    )
    assert public.status_code == 302
    case.refresh_from_db()
    assert case.status == finished[-1]  # a note does not reopen the case
    notes = case.events.filter(kind__in=[CaseEventKind.NOTE, CaseEventKind.PUBLIC_UPDATE])
    assert sorted(e.content["text"] for e in notes) == [
        "Resident rang: the patch is holding",
        "We will check it again in spring",
    ]
    # the other actions stay closed to a finished case
    page = client.get(f"/console/cases/{case.pk}/").content.decode()
    assert f'action="/console/cases/{case.pk}/priority/"' not in page
    # and someone from another department still cannot write on it
    other = signed_in(staff["other_caseworker"])
    assert other.post(f"/console/cases/{case.pk}/note/", {"text": "x"}).status_code == 404


def test_a_refused_note_is_said_next_to_the_form(
    staff: dict[str, Any], pothole: Any, monkeypatch: Any
) -> None:
    from townhall.cases.errors import InvalidCaseInput
    from townhall.console.views import case_actions

    def refuse(**kwargs: Any) -> None:
        raise InvalidCaseInput("Notes are closed on this case.")

    monkeypatch.setattr(case_actions, "case_note_add", refuse)
    case = _open(pothole)
    case_transition(case=case, to=CaseStatus.RESOLVED, actor=staff["caseworker"])
    response = signed_in(staff["caseworker"]).post(
        f"/console/cases/{case.pk}/note/", {"text": "After", "visibility": "internal"}
    )
    assert response.status_code == 400
    assert "Notes are closed on this case." in response.content.decode()


def test_staff_read_waiting_for_the_resident_not_the_residents_words(
    staff: dict[str, Any], pothole: Any
) -> None:
    case = _open(pothole)
    keisha = staff["caseworker"]
    client = signed_in(keisha)
    changed = client.post(
        f"/console/cases/{case.pk}/status/", {"to": "awaiting_citizen", "note": "Which side?"}
    )
    assert changed.status_code == 302
    page = client.get(f"/console/cases/{case.pk}/").content.decode()
    queue = client.get("/console/queues/all/").content.decode()
    for html in (page, queue):
        assert "Waiting for the resident" in html
        assert "Awaiting your reply" not in html
    # the resident still reads their own words
    from django.test import Client

    public = Client().get("/track/", {"reference": case.reference}).content.decode()
    assert "Waiting for the resident" not in public


def test_a_date_and_time_answer_reads_as_a_date_not_iso_8601(
    staff: dict[str, Any], pothole: Any
) -> None:
    AttributeDefinition.objects.create(
        service_type=pothole,
        code="seen_at",
        datatype="datetime",
        required=False,
        order=9,
        description="When did you see it?",
    )
    case = case_open(
        service_type=pothole,
        channel="web",
        answers={"size": "small", "seen_at": "2026-12-01T15:09:09.853963+00:00"},
        description="Hole",
    )
    page = signed_in(staff["caseworker"]).get(f"/console/cases/{case.pk}/").content.decode()
    assert "When did you see it?" in page
    assert "1 December 2026, 10:09" in page  # the council's time (America/New_York)
    assert "2026-12-01T15:09:09" not in page
