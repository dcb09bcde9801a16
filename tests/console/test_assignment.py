"""Automatic assignment: fair by weight under load, skills respected, nobody away gets work."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from townhall.cases.assignment import Candidate, assignee_pick
from townhall.cases.models import Case, CaseEventKind
from townhall.cases.services import case_acknowledge, case_open, case_transition
from townhall.catalog.models import Department
from townhall.catalog.services import department_member_add

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _deal(candidates: list[Candidate], cases: int, service: int = 1) -> Counter[int]:
    """Give `cases` new cases one by one, as acknowledgement does, updating loads."""
    by_id = {c.user_id: c for c in candidates}
    got: Counter[int] = Counter()
    for step in range(cases):
        chosen = assignee_pick(by_id.values(), service_type_id=service, now=NOW)
        assert chosen is not None
        got[chosen.user_id] += 1
        by_id[chosen.user_id] = Candidate(
            **{
                **chosen.__dict__,
                "open_load": chosen.open_load + 1,
                "last_assigned_at": NOW + timedelta(seconds=step),
            }
        )
    return got


@given(
    weights=st.lists(st.sampled_from(["0.5", "1", "1.5", "2"]), min_size=2, max_size=6),
    loads=st.lists(st.integers(0, 10), min_size=6, max_size=6),
    cases=st.integers(20, 120),
)
@settings(max_examples=60, deadline=None)
def test_final_loads_follow_the_weights_within_one_case(
    weights: list[str], loads: list[int], cases: int
) -> None:
    people = [
        Candidate(user_id=i, weight=Decimal(w), open_load=loads[i]) for i, w in enumerate(weights)
    ]
    got = _deal(people, cases)
    # Whoever got a case was, at that moment, the one whose load per unit of weight would
    # be lowest after taking it; loads only grow, so at the end nobody chosen stands above
    # anyone else's "one more case" level.
    final = {p.user_id: Decimal(p.open_load + got[p.user_id]) / p.weight for p in people}
    one_more = {p.user_id: final[p.user_id] + 1 / p.weight for p in people}
    for p in people:
        if got[p.user_id]:
            assert final[p.user_id] <= min(one_more.values())
    assert sum(got.values()) == cases


def test_equal_weights_and_loads_take_turns() -> None:
    people = [Candidate(user_id=i, weight=Decimal(1), open_load=0) for i in (7, 3, 5)]
    assert _deal(people, 9) == Counter({3: 3, 5: 3, 7: 3})


def test_twice_the_weight_gets_twice_the_cases() -> None:
    people = [
        Candidate(user_id=1, weight=Decimal(2), open_load=0),
        Candidate(user_id=2, weight=Decimal(1), open_load=0),
    ]
    assert _deal(people, 30) == Counter({1: 20, 2: 10})


def test_a_busy_person_gets_nothing_until_the_others_catch_up() -> None:
    people = [
        Candidate(user_id=1, weight=Decimal(1), open_load=10),
        Candidate(user_id=2, weight=Decimal(1), open_load=0),
    ]
    assert _deal(people, 10) == Counter({2: 10})


def test_skills_absence_and_opting_out() -> None:
    away = Candidate(
        user_id=1,
        weight=Decimal(1),
        open_load=0,
        away_from=NOW - timedelta(days=1),
        away_until=NOW + timedelta(days=1),
    )
    back = Candidate(
        user_id=2,
        weight=Decimal(1),
        open_load=5,
        away_from=NOW - timedelta(days=9),
        away_until=NOW - timedelta(days=1),
    )
    other_skill = Candidate(user_id=3, weight=Decimal(1), open_load=0, skills=frozenset({99}))
    opted_out = Candidate(user_id=4, weight=Decimal(1), open_load=0, takes_cases=False)
    chosen = assignee_pick([away, back, other_skill, opted_out], service_type_id=1, now=NOW)
    assert chosen is not None and chosen.user_id == 2
    skilled = assignee_pick([away, back, other_skill], service_type_id=99, now=NOW)
    assert skilled is not None and skilled.user_id == 3
    assert assignee_pick([away, opted_out], service_type_id=1, now=NOW) is None


@pytest.mark.django_db
def test_acknowledgement_assigns_in_an_auto_department_and_records_why(
    staff: dict[str, Any], pothole: Any, no_heat: Any, dpw: Department
) -> None:
    Department.objects.filter(pk=dpw.pk).update(auto_assign=True)
    keisha, frank = staff["caseworker"], staff["supervisor"]
    department_member_add(department=dpw, user=staff["agent"], takes_cases=False)
    department_member_add(department=dpw, user=staff["department_admin"], takes_cases=False)
    department_member_add(department=dpw, user=frank, weight=2)
    given_to = []
    for _ in range(6):
        case = case_open(service_type=pothole, channel="web", answers={"size": "small"})
        case_acknowledge(case_id=case.pk)
        case.refresh_from_db()
        given_to.append(case.assignee_id)
    assert Counter(given_to) == Counter({frank.pk: 4, keisha.pk: 2})
    event = case.events.get(kind=CaseEventKind.ASSIGNED)
    assert event.actor_id is None and event.data["rule"] == "auto"
    # finished cases do not count as load
    for case in Case.objects.filter(assignee=frank):
        case_transition(case=case, to="resolved", actor=frank)
    nxt = case_open(service_type=pothole, channel="web", answers={"size": "small"})
    case_acknowledge(case_id=nxt.pk)
    nxt.refresh_from_db()
    assert nxt.assignee_id == frank.pk
    # a department that does not assign automatically leaves cases in its queue
    manual = case_open(service_type=no_heat, channel="web", description="Cold flat")
    case_acknowledge(case_id=manual.pk)
    manual.refresh_from_db()
    assert manual.assignee_id is None
