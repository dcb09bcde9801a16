"""What the portal's pages read that no domain app's selectors offer as such: a gazetteer
entry by id, one photo of one case, and how often each service was used lately."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from townhall.cases.models import Case, CasePhoto
from townhall.places.models import Place

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
