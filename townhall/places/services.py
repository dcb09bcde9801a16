"""Writes to the gazetteer: importing addresses from a council's CSV export."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from townhall.places.models import Place
from townhall.places.selectors import places_cache_clear
from townhall.places.text import address_fold

# Column names councils' exports use, by the field they fill (first found wins).
COLUMNS = {
    "property_id": ("property_id", "uprn", "id", "parcel_id", "pin"),
    "address": ("address", "full_address", "address_line", "addr"),
    "postcode": ("postcode", "postal_code", "zipcode", "zip"),
    "lat": ("lat", "latitude", "y"),
    "long": ("long", "lon", "lng", "longitude", "x"),
}
BATCH = 2000


@dataclass
class PlacesImport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, why)


def columns_for(header: Iterable[str]) -> dict[str, str]:
    """Map our fields to the file's column names; raise ValueError naming what is missing."""
    present = {name.strip().lower(): name for name in header}
    found = {
        ours: present[alias]
        for ours, aliases in COLUMNS.items()
        for alias in aliases[::-1]
        if alias in present
    }
    missing = [ours for ours in COLUMNS if ours not in found and ours != "postcode"]
    if missing:
        wanted = "; ".join(f"{m} (one of {', '.join(COLUMNS[m])})" for m in missing)
        raise ValueError(f"The file has no column for {wanted}.")
    return found


def _row(raw: Mapping[str, str], columns: Mapping[str, str]) -> Place:
    def text(name: str) -> str:
        return (raw.get(columns[name]) or "").strip() if name in columns else ""

    property_id, address = text("property_id"), text("address")
    if not property_id:
        raise ValueError("no property id")
    if not address:
        raise ValueError("no address")
    if len(property_id) > 64 or len(address) > 300 or len(text("postcode")) > 16:
        raise ValueError("a value is too long (property id 64, address 300, postcode 16)")
    try:
        lat, long = float(text("lat")), float(text("long"))
    except ValueError as exc:
        raise ValueError("latitude and longitude must be numbers") from exc
    if not (
        math.isfinite(lat) and math.isfinite(long) and -90 <= lat <= 90 and -180 <= long <= 180
    ):
        raise ValueError("latitude must be within ±90 and longitude within ±180")
    return Place(
        property_id=property_id,
        address=address,
        postcode=text("postcode").upper(),
        lat=lat,
        long=long,
        search_text=address_fold(address),
    )


def places_import(
    rows: Iterable[Mapping[str, str]],
    *,
    columns: Mapping[str, str],
    progress: Callable[[int], None] | None = None,
) -> PlacesImport:
    """Create or update places from CSV rows, matched by property id, in batches; a bad row
    is reported (with its line number) and skipped. Running it again changes nothing."""
    report = PlacesImport()
    batch: list[tuple[int, Place]] = []

    def flush() -> None:
        by_id = {p.property_id: p for _, p in batch}  # the last row for an id wins
        existing = {p.property_id: p for p in Place.objects.filter(property_id__in=list(by_id))}
        new, changed = [], []
        now = timezone.now()
        fields = ("address", "postcode", "lat", "long", "search_text")
        for property_id, place in by_id.items():
            old = existing.get(property_id)
            if old is None:
                place.updated_at = now
                new.append(place)
                continue
            if all(getattr(old, f) == getattr(place, f) for f in fields):
                report.unchanged += 1
                continue
            for f in fields:
                setattr(old, f, getattr(place, f))
            old.updated_at = now
            changed.append(old)
        with transaction.atomic():
            Place.objects.bulk_create(new)
            Place.objects.bulk_update(
                changed, ["address", "postcode", "lat", "long", "search_text", "updated_at"]
            )
        report.created += len(new)
        report.updated += len(changed)
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for line, raw in enumerate(rows, start=2):  # line 1 is the header
        try:
            batch.append((line, _row(raw, columns)))
        except ValueError as exc:
            report.rejected.append((line, str(exc)))
            if progress is not None:
                progress(1)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    places_cache_clear()
    return report
