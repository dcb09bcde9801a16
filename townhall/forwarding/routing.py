"""Which body owns a case: the first active rule whose body's boundary holds the place and
whose service types include the case's (no service types: any service).

Read on every case opened (Open311 POST included), so each process keeps the rules, with
their boundaries prepared for point tests, for a minute (as the catalogue does); saving a
body or rule clears this process's copy (`routing_cache_clear`, wired in apps.ready), and
other processes see it within the minute. With no rules at all the check is one dict read.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from townhall.core import geometry
from townhall.forwarding.models import Body, RoutingRule

_CACHE_SECONDS = 60.0

log = logging.getLogger("townhall.forwarding")


@dataclass(frozen=True)
class _Rule:
    body_id: int
    service_type_ids: frozenset[int]  # empty: any service
    area: BaseGeometry | None  # None: anywhere (the body's boundary is empty)
    needs_place: bool


_rules: list[tuple[float, list[_Rule]]] = []


def routing_cache_clear(**_: object) -> None:
    """Forget this process's rules (after an edit; between tests)."""
    _rules.clear()


def _active_rules() -> list[_Rule]:
    if _rules and _rules[0][0] > time.monotonic():
        return _rules[0][1]
    found: list[_Rule] = []
    query = (
        RoutingRule.objects.filter(active=True, body__active=True)
        .select_related("body")
        .prefetch_related("service_types")
        .order_by("order", "pk")
    )
    for rule in query:
        area = None
        if rule.body.boundary:
            # A boundary that is set but not an area (saved around the admin's check, or
            # broken by hand) must not turn into "anywhere": the rule is left out.
            try:
                area = geometry.area_from_geojson(rule.body.boundary)
            except ValueError:
                area = None
            if area is None or area.is_empty:
                log.warning(
                    "body %s: its boundary is not an area; rule %s skipped", rule.body_id, rule.pk
                )
                continue
        found.append(
            _Rule(
                body_id=rule.body_id,
                service_type_ids=frozenset(s.pk for s in rule.service_types.all()),
                area=geometry.prepared(area) if area is not None else None,
                needs_place=area is not None,
            )
        )
    _rules[:] = [(time.monotonic() + _CACHE_SECONDS, found)]
    return found


def route_body_id(*, service_type_id: int, lat: float | None, long: float | None) -> int | None:
    """The id of the body that owns a case of this service at this place, or None (ours)."""
    for rule in _active_rules():
        if rule.service_type_ids and service_type_id not in rule.service_type_ids:
            continue
        if rule.area is not None:
            if lat is None or long is None:
                continue
            if not geometry.contains(rule.area, lat=lat, long=long):
                continue
        return rule.body_id
    return None


def route_for(*, service_type_id: int, lat: float | None, long: float | None) -> Body | None:
    """The body that owns a case of this service at this place, or None (we handle it)."""
    body_id = route_body_id(service_type_id=service_type_id, lat=lat, long=long)
    return Body.objects.filter(pk=body_id).first() if body_id is not None else None
