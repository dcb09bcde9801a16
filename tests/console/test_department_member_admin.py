"""Department members have an admin screen; department admins manage their own only."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.console.conftest import signed_in
from townhall.catalog.models import DepartmentMember

pytestmark = pytest.mark.django_db

URL = "/admin/catalog/departmentmember/"


def _select(page: str, name: str) -> str:
    found = re.search(rf'<select name="{name}".*?</select>', page, re.S)
    assert found is not None, name
    return found.group(0)


def test_council_admins_see_every_member_and_the_department_lists_its_own(
    staff: dict[str, Any], dpw: Any
) -> None:
    ada = signed_in(staff["council_admin"])
    listing = ada.get(URL)
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "keisha" in page and "daniel" in page
    department = ada.get(f"/admin/catalog/department/{dpw.pk}/change/").content.decode()
    assert "members-TOTAL_FORMS" in department and "Weight" in department


def test_a_department_admin_manages_their_department_s_members_only(
    staff: dict[str, Any], dpw: Any, isd: Any
) -> None:
    dora = signed_in(staff["department_admin"])
    page = dora.get(URL).content.decode()
    assert "keisha" in page and "daniel" not in page
    form = dora.get(URL + "add/").content.decode()
    departments = _select(form, "department")
    assert f'<option value="{dpw.pk}"' in departments
    assert f'<option value="{isd.pk}"' not in departments
    people = _select(form, "user")
    assert ">daniel<" in people and ">resident<" not in people  # residents are not staff
    daniel = staff["other_caseworker"]
    data = {"user": daniel.pk, "weight": "1", "takes_cases": "on"}
    # joining, or adding someone to, another department is refused
    refused = dora.post(URL + "add/", {**data, "department": isd.pk})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    refused = dora.post(
        URL + "add/", {**data, "user": staff["department_admin"].pk, "department": isd.pk}
    )
    assert refused.status_code == 200
    assert not DepartmentMember.objects.filter(
        department=isd, user=staff["department_admin"]
    ).exists()
    # another department's membership: as if it did not exist
    theirs = DepartmentMember.objects.get(user=daniel, department=isd)
    assert dora.get(f"{URL}{theirs.pk}/change/").status_code in {302, 404}
    assert dora.post(f"{URL}{theirs.pk}/delete/", {"post": "yes"}).status_code in {302, 404}
    assert DepartmentMember.objects.filter(pk=theirs.pk).exists()
    # their own department: added
    added = dora.post(URL + "add/", {**data, "department": dpw.pk})
    assert added.status_code == 302
    assert DepartmentMember.objects.filter(department=dpw, user=daniel).exists()


def test_caseworkers_have_no_member_screen(staff: dict[str, Any]) -> None:
    assert signed_in(staff["caseworker"]).get(URL).status_code == 403
