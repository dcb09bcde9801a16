"""Staff performance: supervisors only, their departments only, figures per person."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.console.conftest import signed_in
from townhall.cases.models import Case
from townhall.cases.services import case_assign, case_open, case_time_log

pytestmark = pytest.mark.django_db

URL = "/console/insights/staff/"


@pytest.fixture
def work(staff: Any, pothole: Any, no_heat: Any) -> dict[str, Any]:
    keisha, daniel = staff["caseworker"], staff["other_caseworker"]
    cases = []
    for n in range(3):
        case = case_open(
            service_type=pothole, channel="web", answers={"size": "small"}, description=f"Hole {n}"
        )
        case_assign(case=case, assignee=keisha, actor=None)
        cases.append(case)
    # One resolved a day after opening, before its due date: on time.
    opened = cases[0].opened_at
    Case.objects.filter(pk=cases[0].pk).update(
        status="resolved",
        resolved_at=opened + dt.timedelta(days=1),
        due_at=opened + dt.timedelta(days=2),
    )
    # One resolved after its due date: late.
    Case.objects.filter(pk=cases[1].pk).update(
        status="resolved",
        resolved_at=opened + dt.timedelta(days=3),
        due_at=opened + dt.timedelta(days=2),
    )
    case_time_log(case=cases[0], user=keisha, minutes=90)
    heat = case_open(service_type=no_heat, channel="phone", description="Cold flat")
    case_assign(case=heat, assignee=daniel, actor=None)
    case_time_log(case=heat, user=daniel, minutes=30)
    return {"cases": cases, "heat": heat}


def test_only_supervisors_see_staff_performance(staff: Any, work: Any, client: Any) -> None:
    assert client.get(URL).status_code == 302
    assert signed_in(staff["resident"]).get(URL).status_code == 403
    assert signed_in(staff["caseworker"]).get(URL).status_code == 403
    assert signed_in(staff["agent"]).get(URL).status_code == 403
    assert signed_in(staff["caseworker"]).get(URL, {"format": "csv"}).status_code == 403
    assert signed_in(staff["supervisor"]).get(URL).status_code == 200


def test_figures_per_person_within_the_supervisors_departments(staff: Any, work: Any) -> None:
    html = signed_in(staff["supervisor"]).get(URL).content.decode()
    assert "Keisha" in html
    assert "Daniel" not in html  # Inspectional Services: not the supervisor's department
    response = signed_in(staff["supervisor"]).get(URL, {"format": "csv"})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert lines[0] == (
        "person,handled,resolved,median_days_to_resolve,sla_compliance,hours_logged"
    )
    assert lines[1:] == ["Keisha,3,2,2.0,0.5,1.5"]


def test_council_admins_see_everyone(staff: Any, work: Any) -> None:
    response = signed_in(staff["council_admin"]).get(URL, {"format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Keisha,3,2" in body and "Daniel,1,0,,,0.5" in body


@pytest.mark.parametrize(
    "query", [{"date_to": "not-a-date"}, {"department": "-1"}, {"format": "exe"}]
)
def test_bad_parameters_are_400(staff: Any, work: Any, query: Any) -> None:
    assert signed_in(staff["supervisor"]).get(URL, query).status_code == 400
