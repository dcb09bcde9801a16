"""Admin wiring: a council administrator can open every screen a council configures."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from townhall.cases.services import case_open
from townhall.people.roles import StaffRole
from townhall.people.services import staff_user_create

pytestmark = pytest.mark.django_db

SCREENS = [
    "/admin/catalog/jurisdiction/",
    "/admin/catalog/department/",
    "/admin/catalog/servicegroup/",
    "/admin/catalog/servicetype/",
    "/admin/catalog/slapolicy/",
    "/admin/catalog/businesscalendar/",
    "/admin/people/citizen/",
    "/admin/cases/case/",
    "/admin/places/place/",
    "/admin/places/place/add/",
]


@pytest.fixture
def admin_client(client: Client, pothole: Any) -> Client:
    staff_user_create(username="boss", role=StaffRole.COUNCIL_ADMIN, password="a-long-password-1")
    client.login(username="boss", password="a-long-password-1")
    return client


@pytest.mark.parametrize("url", SCREENS)
def test_each_configuration_screen_opens(admin_client: Client, url: str) -> None:
    assert admin_client.get(url).status_code == 200


def test_a_service_type_page_shows_its_sla_and_questions(
    admin_client: Client, pothole: Any
) -> None:
    html = admin_client.get(f"/admin/catalog/servicetype/{pothole.pk}/change/").content.decode()
    assert "How big is it?" in html
    assert "SLA policies" in html


def test_cases_are_read_only_and_found_by_reference(admin_client: Client, pothole: Any) -> None:
    case = case_open(
        service_type=pothole, channel="web", answers={"size": "small"}, description="Hole"
    )
    found = admin_client.get("/admin/cases/case/", {"q": case.reference})
    assert case.reference in found.content.decode()
    assert admin_client.get("/admin/cases/case/add/").status_code == 403


def test_a_caseworker_cannot_edit_the_catalogue(client: Client, pothole: Any) -> None:
    staff_user_create(username="cw", role=StaffRole.CASEWORKER, password="a-long-password-1")
    client.login(username="cw", password="a-long-password-1")
    assert client.get(f"/admin/catalog/servicetype/{pothole.pk}/change/").status_code in {200, 403}
    response = client.post(f"/admin/catalog/servicetype/{pothole.pk}/change/", {"name": "Hacked"})
    assert response.status_code == 403


def test_a_council_translates_a_group_in_the_admin_and_mistakes_come_back_as_form_errors(
    admin_client: Client, pothole: Any
) -> None:
    group = pothole.group
    url = f"/admin/catalog/servicegroup/{group.pk}/change/"
    form = {"jurisdiction": group.jurisdiction_id, "code": group.code, "name": "Streets"}
    bad = admin_client.post(url, {**form, "translations": '{"xx": {"name": "Rues"}}'})
    assert bad.status_code == 200
    assert "is not one of the site&#x27;s languages" in bad.content.decode()
    good = admin_client.post(url, {**form, "translations": '{"es": {"name": "Calles y aceras"}}'})
    assert good.status_code == 302
    group.refresh_from_db()
    assert group.translations == {"es": {"name": "Calles y aceras"}}
