"""Two councils on one site may use the same service code: the console always picks the
service of the right council (the case's, or the one the member of staff works for)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import SMALL_TOWN
from tests.console.conftest import signed_in
from townhall.cases.models import Case
from townhall.cases.services import case_acknowledge, case_open
from townhall.catalog.models import Jurisdiction, ServiceType
from townhall.catalog.services import catalog_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def otherville(staff: dict[str, Any]) -> Jurisdiction:
    """A second council with its own "pothole" (and its own Public Works)."""
    spec = copy.deepcopy(SMALL_TOWN)
    spec["jurisdiction"].update(
        slug="otherville", name="Otherville Council", open311_id="otherville.example.org"
    )
    jurisdiction, _summary = catalog_import(spec=spec)
    return jurisdiction


def _open(service: ServiceType) -> Case:
    case = case_open(
        service_type=service, channel="web", answers={"size": "small"}, description="Hole"
    )
    case_acknowledge(case_id=case.pk)
    case.refresh_from_db()
    return case


def test_a_call_opens_a_case_of_the_agents_own_council_not_a_500(
    staff: dict[str, Any], town: Any, otherville: Jurisdiction
) -> None:
    client = signed_in(staff["agent"])  # Testville's Public Works
    page = client.get("/console/calls/").content.decode()
    assert page.count('value="pothole"') == 1 and "Otherville" not in page
    opened = client.post(
        "/console/calls/",
        {
            "service": "pothole",
            "description": "Hole",
            "asked": "pothole",
            "attribute_size": "small",
        },
    )
    assert opened.status_code == 302, opened.content.decode()[-2000:]
    case = Case.objects.get()
    assert case.service_type.jurisdiction_id == town.pk
    assert case.department.jurisdiction_id == town.pk


def test_staff_of_every_council_choose_the_council_when_codes_are_shared(
    staff: dict[str, Any], town: Any, otherville: Jurisdiction
) -> None:
    client = signed_in(staff["council_admin"])  # sees every council
    page = client.get("/console/calls/").content.decode()
    assert 'value="testville:pothole"' in page and 'value="otherville:pothole"' in page
    assert "Pothole (Otherville Council)" in page
    # a bare code names two services: a form error, never a 500 nor a guess
    bare = client.post(
        "/console/calls/",
        {
            "service": "pothole",
            "description": "Hole",
            "asked": "pothole",
            "attribute_size": "small",
        },
    )
    assert bare.status_code == 400 and "Select a valid choice" in bare.content.decode()
    assert not Case.objects.exists()
    opened = client.post(
        "/console/calls/",
        {
            "service": "otherville:pothole",
            "description": "Hole",
            "asked": "otherville:pothole",
            "attribute_size": "small",
        },
    )
    assert opened.status_code == 302
    assert Case.objects.get().service_type.jurisdiction_id == otherville.pk
    # "no_heat" is shared as well, so it too names its council
    assert 'value="otherville:no_heat"' in page


def test_the_queue_filter_names_one_council_s_service(
    staff: dict[str, Any], town: Any, otherville: Jurisdiction
) -> None:
    ours = _open(ServiceType.objects.get(jurisdiction=town, code="pothole"))
    theirs = _open(ServiceType.objects.get(jurisdiction=otherville, code="pothole"))
    admin = signed_in(staff["council_admin"])
    html = admin.get("/console/queues/all/", {"service": "otherville:pothole"}).content.decode()
    assert theirs.reference in html and ours.reference not in html
    html = admin.get("/console/queues/all/", {"service": "testville:pothole"}).content.decode()
    assert ours.reference in html and theirs.reference not in html
    # staff of one council: plain codes, their own council's cases only
    keisha = signed_in(staff["caseworker"])
    response = keisha.get("/console/queues/all/", {"service": "pothole"})
    assert response.status_code == 200
    assert ours.reference in response.content.decode()
    assert theirs.reference not in response.content.decode()


def test_triage_and_split_stay_within_the_case_s_council(
    staff: dict[str, Any], town: Any, otherville: Jurisdiction
) -> None:
    case = _open(ServiceType.objects.get(jurisdiction=town, code="pothole"))
    keisha = signed_in(staff["caseworker"])
    page = keisha.get(f"/console/cases/{case.pk}/").content.decode()
    assert "Otherville" not in page
    split = keisha.post(
        f"/console/cases/{case.pk}/split/",
        {
            "service": "pothole",
            "description": "Second hole",
            "asked": "pothole",
            "attribute_size": "large",
        },
    )
    assert split.status_code == 302
    new = Case.objects.exclude(pk=case.pk).get()
    assert new.service_type.jurisdiction_id == town.pk
