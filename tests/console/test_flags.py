"""The supervisors' flag queue: who sees which flags, in what order, and handling one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.console.conftest import _staff, signed_in
from townhall.cases.models import Case
from townhall.cases.services import case_acknowledge, case_open
from townhall.experience.flags import flag_raise
from townhall.experience.frustration import frustration_index
from townhall.experience.models import (
    CaseFrustration,
    FlagKind,
    SupervisorFlag,
    Survey,
)
from townhall.people.roles import StaffRole

pytestmark = pytest.mark.django_db


def _open(service: Any, resident: Any = None) -> Case:
    case = case_open(
        service_type=service,
        channel="web",
        answers={"size": "large"} if service.code == "pothole" else {},
        answers_partial=True,
        description="Something",
        reporter=resident,
    )
    case_acknowledge(case_id=case.pk)
    case.refresh_from_db()
    return case


@pytest.fixture
def flags(pothole: Any, no_heat: Any, resident: Any, staff: dict[str, Any]) -> dict[str, Any]:
    """Public Works: a frustrated resident (1.10) and a survey scored 1 with a comment;
    Inspectional Services: a frustrated resident (2.50)."""
    works = _open(pothole, resident)
    index = frustration_index({"waited": 12, "repeat_contact": 2})
    CaseFrustration.objects.create(case=works, score=index.score, contributions=index.as_list())
    frustrated, _ = flag_raise(case=works, kind=FlagKind.FRUSTRATION, score=index.score)
    surveyed = _open(pothole, resident)
    survey = Survey.objects.create(
        case=surveyed, token_hash="s" * 64, channel="web", csat=1, comment="Nobody came."
    )
    low, _ = flag_raise(case=surveyed, kind=FlagKind.LOW_SCORE, score=1, survey=survey)
    heat = _open(no_heat, resident)
    other, _ = flag_raise(case=heat, kind=FlagKind.FRUSTRATION, score=2.5)
    return {"frustrated": frustrated, "low": low, "other": other, "works": works}


def test_a_supervisor_sees_their_departments_flags_worst_first(
    flags: dict[str, Any], staff: dict[str, Any]
) -> None:
    response = signed_in(staff["supervisor"]).get("/console/flags/")
    assert response.status_code == 200
    page = response.content.decode()
    low, frustrated = flags["low"], flags["frustrated"]
    # A CSAT of 1 (urgency 4) before a frustration index of 1.10.
    assert page.index(f'id="flag-{low.pk}"') < page.index(f'id="flag-{frustrated.pk}"')
    assert f'id="flag-{flags["other"].pk}"' not in page  # another department's
    assert "waited 12 days past the promised date" in page
    assert "Nobody came." in page
    assert 'href="/console/flags/"' in page  # in the navigation


def test_filters_by_kind_and_department(
    flags: dict[str, Any], staff: dict[str, Any], dpw: Any, isd: Any
) -> None:
    admin = signed_in(staff["council_admin"])
    page = admin.get("/console/flags/?kind=low_score").content.decode()
    assert f'id="flag-{flags["low"].pk}"' in page
    assert f'id="flag-{flags["frustrated"].pk}"' not in page
    page = admin.get(f"/console/flags/?department={isd.pk}").content.decode()
    assert f'id="flag-{flags["other"].pk}"' in page
    assert f'id="flag-{flags["low"].pk}"' not in page
    # A supervisor asking for another department's flags gets none of them.
    page = signed_in(staff["supervisor"]).get(f"/console/flags/?department={isd.pk}")
    assert f'id="flag-{flags["other"].pk}"' not in page.content.decode()


@pytest.mark.parametrize("query", ["kind=nonsense", "department=abc", "department=1e9"])
def test_bad_filters_get_a_clear_error(
    flags: dict[str, Any], staff: dict[str, Any], query: str
) -> None:
    response = signed_in(staff["supervisor"]).get(f"/console/flags/?{query}")
    assert response.status_code == 400
    assert "Choose a" in response.content.decode()


def test_handling_a_flag_records_who_and_what_then_it_leaves_the_queue(
    flags: dict[str, Any], staff: dict[str, Any]
) -> None:
    frank = signed_in(staff["supervisor"])
    flag = flags["frustrated"]
    url = f"/console/flags/{flag.pk}/handle/"
    response = frank.post(url, {"outcome": "Called the resident; crew booked for Tuesday."})
    assert response.status_code == 302 and response["Location"] == "/console/flags/"
    flag.refresh_from_db()
    assert flag.handled_by == staff["supervisor"] and flag.handled_at is not None
    assert flag.outcome == "Called the resident; crew booked for Tuesday."
    assert f'id="flag-{flag.pk}"' not in frank.get("/console/flags/").content.decode()
    # Handled already: the same 404 as a flag that does not exist.
    assert frank.post(url, {"outcome": "Again"}).status_code == 404
    assert frank.post("/console/flags/999999/handle/", {"outcome": "x"}).status_code == 404


@pytest.mark.parametrize("outcome", ["", "   ", "x" * 501])
def test_a_bad_outcome_gets_the_page_again_with_the_error(
    flags: dict[str, Any], staff: dict[str, Any], outcome: str
) -> None:
    flag = flags["frustrated"]
    response = signed_in(staff["supervisor"]).post(
        f"/console/flags/{flag.pk}/handle/", {"outcome": outcome}
    )
    assert response.status_code == 400
    assert "govuk-error-message" in response.content.decode()
    flag.refresh_from_db()
    assert flag.handled_at is None


def test_who_may_not(flags: dict[str, Any], staff: dict[str, Any], isd: Any) -> None:
    flag = flags["frustrated"]
    url = f"/console/flags/{flag.pk}/handle/"
    # Not signed in: to the sign-in page, nothing changes.
    assert Client().get("/console/flags/").status_code == 302
    assert Client().post(url, {"outcome": "x"}).status_code == 302
    # A resident's account, a caseworker and an agent of the same department: 403.
    for who in ("resident", "caseworker", "agent"):
        client = signed_in(staff[who])
        assert client.get("/console/flags/").status_code == 403, who
        assert client.post(url, {"outcome": "x"}).status_code == 403, who
    # Another department's supervisor: the flag does not exist for them.
    heat_boss = _staff("henry", StaffRole.SUPERVISOR, isd)
    client = signed_in(heat_boss)
    assert client.post(url, {"outcome": "x"}).status_code == 404
    assert f'id="flag-{flag.pk}"' not in client.get("/console/flags/").content.decode()
    # The list is read with GET, handled with POST only.
    assert signed_in(staff["supervisor"]).get(url).status_code == 405
    flag.refresh_from_db()
    assert flag.handled_at is None
    assert SupervisorFlag.objects.filter(handled_at__isnull=False).count() == 0


def test_the_navigation_offers_flags_to_supervisors_only(staff: dict[str, Any], dpw: Any) -> None:
    assert (
        'href="/console/flags/"'
        not in signed_in(staff["caseworker"]).get("/console/").content.decode()
    )


def test_the_case_page_shows_the_breakdown(flags: dict[str, Any], staff: dict[str, Any]) -> None:
    case = flags["works"]
    page = signed_in(staff["caseworker"]).get(f"/console/cases/{case.pk}/").content.decode()
    assert "Frustration index 1.10" in page
    assert "waited 12 days past the promised date" in page
    assert "contacted us again about the same thing 2 times" in page
