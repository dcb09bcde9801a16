"""The team page's figures add up: every open case is counted once, under a person or
under its department's unassigned cases."""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any

import pytest

from tests.conftest import SMALL_TOWN
from tests.console.conftest import signed_in
from townhall.cases.models import Case
from townhall.cases.services import case_acknowledge, case_assign, case_open
from townhall.catalog.models import DepartmentMember, ServiceType
from townhall.catalog.services import catalog_import
from townhall.console.selectors import TeamLoad, team_load
from townhall.core import clock

pytestmark = pytest.mark.django_db


def _open(service: ServiceType) -> Case:
    case = case_open(
        service_type=service, channel="web", answers={"size": "small"}, description="Hole"
    )
    case_acknowledge(case_id=case.pk)
    case.refresh_from_db()
    return case


def _assert_adds_up(load: TeamLoad) -> None:
    per_department: dict[int, int] = defaultdict(int)
    for row in load.people:
        per_department[row.department.pk] += row.load.open
    assert load.departments, "no departments?"
    for department in load.departments:
        people = per_department.pop(department.department_id, 0)
        assert people + department.unassigned == department.open, department
        assert department.assigned == people
    assert not any(per_department.values()), per_department  # no one counted elsewhere


def test_cases_held_outside_the_department_are_counted_so_the_totals_add_up(
    staff: dict[str, Any], pothole: Any, dpw: Any
) -> None:
    keisha, frank, ada = staff["caseworker"], staff["supervisor"], staff["council_admin"]
    mine = _open(pothole)
    case_assign(case=mine, assignee=keisha, actor=frank)
    taken = _open(pothole)  # a council administrator (no department) took one
    case_assign(case=taken, assignee=ada, actor=ada)
    left = _open(pothole)  # someone who has since left the department holds one
    case_assign(case=left, assignee=staff["department_admin"], actor=frank)
    DepartmentMember.objects.filter(user=staff["department_admin"]).delete()
    _open(pothole)  # and one nobody has taken
    load = team_load(frank, now=clock.now())
    _assert_adds_up(load)
    (works,) = load.departments
    assert (works.open, works.unassigned, works.assigned) == (4, 1, 3)
    outside = {r.user.username: r.load.open for r in load.people if r.member is None}
    assert outside == {"ada": 1, "dora": 1}
    page = signed_in(frank).get("/console/team/").content.decode()
    assert "Not a member of the department" in page
    assert page.count("Ada") >= 1 and "Dora" in page


def test_two_councils_public_works_are_two_rows(
    staff: dict[str, Any], pothole: Any, town: Any
) -> None:
    spec = copy.deepcopy(SMALL_TOWN)
    spec["jurisdiction"].update(
        slug="otherville", name="Otherville Council", open311_id="otherville.example.org"
    )
    otherville, _summary = catalog_import(spec=spec)
    _open(pothole)
    _open(ServiceType.objects.get(jurisdiction=otherville, code="pothole"))
    _open(ServiceType.objects.get(jurisdiction=otherville, code="pothole"))
    load = team_load(staff["council_admin"], now=clock.now())
    _assert_adds_up(load)
    works = sorted(d.open for d in load.departments if d.name == "Public Works")
    assert works == [1, 2]
