"""What the portal's pages read that no domain app's selectors offer as such: a gazetteer
entry by id, one photo of one case, how often each service was used lately, and whether a
missed bin may be reported yet at an address (with its next collection)."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from townhall.cases.models import Case, CasePhoto
from townhall.catalog.models import ServiceType
from townhall.intake.messages import Place as Location
from townhall.places.models import Place
from townhall.places.selectors import place_by_property_id
from townhall.waste.selectors import (
    collection_missed_report_allowed,
    collection_next,
    stream_names,
    waste_config_get,
    waste_timezone,
)

POPULAR_DAYS = 90
POPULAR_CACHE_SECONDS = 600


def place_get(*, place_id: int) -> Place | None:
    """Return the gazetteer entry `place_id`, or None."""
    return Place.objects.filter(pk=place_id).first()


def case_photo_get(*, case: Case, photo_id: int) -> CasePhoto | None:
    """Return photo `photo_id` if it belongs to `case` (None otherwise: never another's)."""
    return CasePhoto.objects.filter(pk=photo_id, case_id=case.pk).first()


def case_photos_list(*, case: Case) -> list[CasePhoto]:
    """Return the case's photos with only what a thumbnail needs."""
    return list(case.photos.only("id", "width", "height"))


def service_popularity() -> dict[int, int]:
    """Return cases per service type over the last 90 days, kept in the cache 10 minutes."""
    key = "portal:popularity"
    counts: dict[int, int] | None = cache.get(key)
    if counts is None:
        since = timezone.now() - timedelta(days=POPULAR_DAYS)
        counts = dict(
            Case.objects.filter(opened_at__gte=since)
            .values_list("service_type_id")
            .annotate(n=Count("id"))
            .values_list("service_type_id", "n")
        )
        cache.set(key, counts, POPULAR_CACHE_SECONDS)
    return counts


class MissedCollectionRefusal(NamedTuple):
    """Why a missed bin cannot be reported yet at `place`, and the bin's next collection."""

    reason: str
    place: Place
    stream: str  # the stream's name, for the resident
    next_day: dt.date | None  # None: not collected at this address in the next months


def missed_collection_refusal(
    *, service_type: ServiceType, location: Location, now: dt.datetime
) -> MissedCollectionRefusal | None:
    """Return why a missed-bin report of `service_type` cannot be taken at `location` at
    `now`, or None if it can (or is no missed-bin service, or the address is not one the
    gazetteer knows: that is accepted for staff to look at).

    The waste schedule decides (``collection_missed_report_allowed``); the refusal says
    when this bin is next collected at the address, today included.
    """
    stream = settings.TOWNHALL_MISSED_COLLECTION_SERVICES.get(service_type.code)
    place = place_by_property_id(location.address_id) if stream and location.address_id else None
    if not stream or place is None:
        return None
    check = collection_missed_report_allowed(place=place, stream=stream, now=now)
    if check.allowed:
        return None
    today = now.astimezone(waste_timezone(waste_config_get())).date()
    upcoming = collection_next(place=place, today=today, limit=60)
    next_day = next((c.day for c in upcoming if stream in c.streams), None)
    named = stream_names().get(stream)
    return MissedCollectionRefusal(
        str(check.reason), place, named.name if named else stream, next_day
    )
