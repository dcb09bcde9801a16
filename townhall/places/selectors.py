"""Reads of the gazetteer: fuzzy address search, the nearest address to a point, the area
the addresses cover."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from townhall.core import geometry
from townhall.core.geometry import EARTH_RADIUS_M as EARTH_RADIUS_M  # cases read it here
from townhall.places.models import Place
from townhall.places.streets import streets_cache_clear
from townhall.places.text import address_fold, house_number

# The folded addresses are kept in each process for a few minutes: a council's gazetteer
# changes by import, a few times a year, and matching runs over all of it.
_CACHE_SECONDS = 300.0
_index: list[tuple[float, dict[int, str]]] = []


@dataclass(frozen=True)
class PlaceMatch:
    place: Place
    score: float  # 0-100, how closely the address matches the words asked for


def places_cache_clear() -> None:
    """Forget the folded addresses and drawn streets this process holds (after an import,
    between tests)."""
    _index.clear()
    streets_cache_clear()


def _folded() -> dict[int, str]:
    if _index and _index[0][0] > time.monotonic():
        return _index[0][1]
    folded = dict(Place.objects.values_list("pk", "search_text"))
    _index[:] = [(time.monotonic() + _CACHE_SECONDS, folded)]
    return folded


def place_by_property_id(property_id: str) -> Place | None:
    """The address with the council's property id, or None (also for an empty id)."""
    if not property_id:
        return None
    return Place.objects.filter(property_id=property_id).first()


def place_search(query: str, *, limit: int = 5, min_score: float = 70.0) -> list[PlaceMatch]:
    """Return up to `limit` places whose address best matches `query`, best first.

    Tolerates abbreviations, punctuation, case and typing slips ("12 elm stret" finds
    "12 Elm Street"). When the query starts with a house number, only addresses with that
    number are considered, so "12 Elm" never offers "21 Elm". A postcode alone matches
    the places with that postcode.
    """
    folded_query = address_fold(query)
    if not folded_query:
        return []
    postcode = query.strip().upper()
    if 3 <= len(postcode) <= 16 and Place.objects.filter(postcode=postcode).exists():
        return [
            PlaceMatch(place=p, score=100.0)
            for p in Place.objects.filter(postcode=postcode).order_by("search_text")[:limit]
        ]
    choices = _folded()
    number = house_number(folded_query)
    if number is not None:
        token = f" {number} "  # anywhere: "flat 2 7 crescent gardens" is a 7
        choices = {pk: text for pk, text in choices.items() if token in f" {text} "}
    best = process.extract(
        folded_query, choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=min_score
    )
    places = Place.objects.in_bulk([pk for _, _, pk in best])
    return [PlaceMatch(place=places[pk], score=score) for _, score, pk in best if pk in places]


def distance_m(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    return geometry.distance_m(lat1=lat1, long1=long1, lat2=lat2, long2=long2)


def place_nearest(lat: float, long: float, *, within_m: float = 150.0) -> Place | None:
    """Return the address nearest to a map point, if one lies within `within_m` metres."""
    box = geometry.box_around(lat=lat, long=long, radius_m=within_m)
    candidates = Place.objects.filter(
        lat__gte=box.min_lat, lat__lte=box.max_lat, long__gte=box.min_long, long__lte=box.max_long
    )
    best: tuple[float, Place] | None = None
    for place in candidates:
        d = distance_m(lat, long, place.lat, place.long)
        if d <= within_m and (best is None or d < best[0]):
            best = (d, place)
    return best[1] if best else None


def places_extent(*, margin_m: float = 500.0) -> dict[str, Any] | None:
    """Return the area the gazetteer's addresses cover, widened by `margin_m` metres, as a
    GeoJSON Polygon (corners [long, lat]); None for an empty gazetteer."""
    rows = list(Place.objects.values_list("lat", "long"))
    shape = geometry.hull_around(
        lats=[lat for lat, _ in rows], longs=[long for _, long in rows], margin_m=margin_m
    )
    return geometry.shape_to_geojson(shape) if shape is not None else None
