"""Which body owns a case: boundary, service, order, inactive rules, and the cost of asking."""

from __future__ import annotations

from typing import Any

import pytest

from tests.forwarding.conftest import INSIDE, OUTSIDE, SQUARE
from townhall.forwarding.models import Body, BodyKind, RoutingRule
from townhall.forwarding.routing import route_body_id, route_for, routing_cache_clear

pytestmark = pytest.mark.django_db


def _body(slug: str, boundary: Any = SQUARE, **extra: Any) -> Body:
    return Body.objects.create(
        name=slug.title(),
        slug=slug,
        kind=BodyKind.OPEN311,
        endpoint="http://127.0.0.1:9/",
        boundary=boundary,
        **extra,
    )


def _rule(body: Body, *services: Any, order: int = 100, active: bool = True) -> RoutingRule:
    rule = RoutingRule.objects.create(body=body, order=order, active=active)
    rule.service_types.add(*services)
    return rule


def test_a_place_inside_the_boundary_goes_to_the_body_and_outside_stays(pothole: Any) -> None:
    county = _body("county")
    _rule(county, pothole)
    assert route_body_id(service_type_id=pothole.pk, **INSIDE) == county.pk
    assert route_body_id(service_type_id=pothole.pk, **OUTSIDE) is None
    # No place: a rule with a boundary cannot claim it.
    assert route_body_id(service_type_id=pothole.pk, lat=None, long=None) is None
    assert route_for(service_type_id=pothole.pk, **INSIDE) == county


def test_only_the_rules_services_match_and_no_services_means_all(
    pothole: Any, no_heat: Any
) -> None:
    county = _body("county")
    _rule(county, pothole)
    assert route_body_id(service_type_id=no_heat.pk, **INSIDE) is None
    everything = _body("everything", boundary=None)
    _rule(everything, order=200)
    routing_cache_clear()
    assert route_body_id(service_type_id=no_heat.pk, **OUTSIDE) == everything.pk
    assert route_body_id(service_type_id=no_heat.pk, lat=None, long=None) == everything.pk


def test_the_lowest_order_wins(pothole: Any) -> None:
    late = _body("late")
    early = _body("early")
    _rule(late, pothole, order=50)
    _rule(early, pothole, order=10)
    assert route_body_id(service_type_id=pothole.pk, **INSIDE) == early.pk


def test_inactive_rules_and_bodies_are_ignored(pothole: Any) -> None:
    county = _body("county")
    rule = _rule(county, pothole, active=False)
    assert route_body_id(service_type_id=pothole.pk, **INSIDE) is None
    rule.active = True
    rule.save()  # clears the cache (apps.ready)
    assert route_body_id(service_type_id=pothole.pk, **INSIDE) == county.pk
    county.active = False
    county.save()
    assert route_body_id(service_type_id=pothole.pk, **INSIDE) is None


def test_adding_a_service_to_a_rule_is_seen_at_once(pothole: Any, no_heat: Any) -> None:
    rule = _rule(_body("county"), pothole)
    assert route_body_id(service_type_id=no_heat.pk, **INSIDE) is None
    rule.service_types.add(no_heat)
    assert route_body_id(service_type_id=no_heat.pk, **INSIDE) == rule.body_id


@pytest.mark.parametrize(
    "boundary",
    [
        {"type": "Point", "coordinates": [-71.09, 42.36]},
        {"type": "Polygon", "coordinates": [["not", "corners"]]},
        {"type": "Polygon", "coordinates": "nonsense"},
    ],
)
def test_a_broken_boundary_never_means_everywhere(pothole: Any, boundary: Any) -> None:
    # Saved around the admin's check: the rule is skipped, routing does not fail.
    broken = _body("broken", boundary=boundary)
    _rule(broken, pothole, order=1)
    fine = _body("fine")
    _rule(fine, pothole, order=2)
    assert route_body_id(service_type_id=pothole.pk, **OUTSIDE) is None
    assert route_body_id(service_type_id=pothole.pk, **INSIDE) == fine.pk


def test_with_no_rules_asking_costs_no_query_once_warm(
    pothole: Any, django_assert_num_queries: Any
) -> None:
    route_body_id(service_type_id=pothole.pk, **INSIDE)  # one query: the (empty) rules
    with django_assert_num_queries(0):
        for _ in range(100):
            assert route_body_id(service_type_id=pothole.pk, **INSIDE) is None


def test_with_rules_asking_costs_no_query_once_warm(
    pothole: Any, django_assert_num_queries: Any
) -> None:
    county = _body("county")
    _rule(county, pothole)
    route_body_id(service_type_id=pothole.pk, **INSIDE)
    with django_assert_num_queries(0):
        assert route_body_id(service_type_id=pothole.pk, **INSIDE) == county.pk
        assert route_body_id(service_type_id=pothole.pk, **OUTSIDE) is None


def test_opening_takes_the_one_statement_path_unless_a_rule_or_a_fee_wants_the_case(
    pothole: Any,
) -> None:
    """The case-opening fast path (cases.services.opening) is taken when no subscriber of
    "opened" wants the case: forwarding wants only cases a rule gives to a body."""
    from townhall.cases.dispatch import case_event_wanted
    from townhall.cases.models import Case

    inside = Case(service_type=pothole, **INSIDE)
    outside = Case(service_type=pothole, **OUTSIDE)
    assert not case_event_wanted("opened", inside)
    _rule(_body("county"), pothole)
    assert case_event_wanted("opened", inside)
    assert not case_event_wanted("opened", outside)
