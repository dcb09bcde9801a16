"""Writes: the council's settings, a Toronto-format import, zone membership, reminders."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction

from townhall.core.errors import ValidationFailed
from townhall.core.geometry import contains_many
from townhall.places.models import Place
from townhall.waste.geo import zone_area
from townhall.waste.holiday_policy import policy_describe
from townhall.waste.inference import year_spans, zones_learn
from townhall.waste.models import (
    CollectionOverride,
    CollectionRule,
    HolidayHandling,
    HolidayRuleChoice,
    Stream,
    WasteConfig,
    WasteReminder,
    Zone,
    ZonePlace,
)
from townhall.waste.public_holidays import public_holidays
from townhall.waste.schedule import HolidayRule
from townhall.waste.toronto import COLUMN_FOR_STREAM, TorontoRow

# Addresses tested against the zones' polygons at a time.
ASSIGN_BATCH = 5000
STREAM_NAMES = {
    "garbage": "Garbage",
    "recycling": "Recycling",
    "organics": "Food and organics",
    "garden": "Garden waste",
    "bulky": "Bulky items",
    "christmas_tree": "Christmas tree",
}


def waste_config_set(
    *,
    country: str,
    subdivision: str = "",
    holiday_rule: str | None = None,
    holiday_names: str | None = None,
    timezone: str | None = None,
) -> WasteConfig:
    """Save the council's waste settings. Raise ValidationFailed for an unknown country."""
    try:
        public_holidays(country=country, subdivision=subdivision, years=[2000])
    except ValueError as exc:
        raise ValidationFailed(str(exc), details={"country": [str(exc)]}) from exc
    if holiday_rule is not None and holiday_rule not in HolidayRuleChoice.values:
        raise ValidationFailed("Unknown holiday rule", details={"holiday_rule": [holiday_rule]})
    with transaction.atomic():
        config = WasteConfig.objects.select_for_update().order_by("pk").first() or WasteConfig()
        config.country, config.subdivision = country.upper(), subdivision.upper()
        if holiday_rule is not None:
            config.holiday_rule = holiday_rule
        if holiday_names is not None:
            config.holiday_names = holiday_names
        if timezone is not None:
            config.timezone = timezone
        config.save()
    return config


@dataclass
class WasteImportReport:
    zones: int = 0
    rules: int = 0
    overrides: int = 0
    rows: int = 0
    holiday_rule: str = ""
    rejected: list[tuple[int, str]] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    holidays: list[str] = field(default_factory=list)  # what was learnt, one line each


def streams_ensure(codes: Iterable[str]) -> dict[str, Stream]:
    """Create the streams not there yet (named in English); return all asked for by code."""
    wanted = list(dict.fromkeys(codes))
    order = list(STREAM_NAMES)
    for code in wanted:
        Stream.objects.get_or_create(
            code=code,
            defaults={
                "name": STREAM_NAMES.get(code, code.replace("_", " ").capitalize()),
                "order": order.index(code) if code in order else len(order),
            },
        )
    return {s.code: s for s in Stream.objects.filter(code__in=wanted)}


def waste_import_toronto(
    *,
    lines: Iterable[tuple[int, TorontoRow | str]],
    progress: Callable[[], object] | None = None,
    fallback: str | None = None,
) -> WasteImportReport:
    """Learn each zone's rules and what each public holiday does from one or several years
    of the city's schedule (the lines of every file, in any order) and store them,
    replacing the rules of the zones in the files, their overrides within the files' years
    and the learnt holiday rows (rows staff entered stay, and win).

    The most common holiday effect becomes the council's holiday rule (`fallback`, a
    `HolidayRuleChoice` value, instead if given): it applies to a holiday never seen on a
    collection day. Dates nothing explains become overrides, so every imported year is
    reproduced exactly. One transaction: an interrupted import changes nothing, and running
    it again gives the same result.
    """
    report = WasteImportReport()
    rows: list[tuple[str, date, tuple[str, ...]]] = []
    for line, row in lines:
        if progress is not None:
            progress()
        if isinstance(row, str):
            report.rejected.append((line, row))
        else:
            rows.append((row.zone, row.day, row.streams))
    report.rows = len(rows)
    if not rows:
        return report
    if fallback is not None and fallback not in HolidayRuleChoice.values:
        raise ValidationFailed("Unknown holiday rule", details={"fallback": [fallback]})
    with transaction.atomic():
        config = WasteConfig.objects.select_for_update().order_by("pk").first() or WasteConfig()
        spans = year_spans(r[1] for r in rows)
        holidays = public_holidays(
            country=config.country,
            subdivision=config.subdivision,
            years=range(spans[0][0].year - 1, spans[-1][1].year + 2),
            names=config.holiday_names.splitlines(),
        )
        policy, inferred = zones_learn(
            rows, holidays=holidays, fallback=HolidayRule(fallback) if fallback else None
        )
        streams = streams_ensure([c for c in COLUMN_FOR_STREAM if any(c in r[2] for r in rows)])
        for found in inferred:
            zone, _ = Zone.objects.get_or_create(code=found.zone, defaults={"name": found.zone})
            CollectionRule.objects.filter(zone=zone).delete()
            CollectionRule.objects.bulk_create(
                CollectionRule(
                    zone=zone,
                    stream=streams[rule.stream],
                    weekday=rule.weekday,
                    cycle_weeks=rule.cycle_weeks,
                    phase=rule.phase,
                    season_start_month=rule.season.start[0],
                    season_start_day=rule.season.start[1],
                    season_end_month=rule.season.end[0],
                    season_end_day=rule.season.end[1],
                    season_weeks=rule.season.weeks,
                )
                for rule in found.rules
            )
            for start, end in spans:
                CollectionOverride.objects.filter(zone=zone, day__gte=start, day__lte=end).delete()
            CollectionOverride.objects.bulk_create(
                CollectionOverride(
                    zone=zone,
                    stream=streams[o.stream] if o.stream else None,
                    day=o.day,
                    action=o.action.value,
                    to=o.to,
                    note="imported",
                )
                for o in found.overrides
            )
            report.zones += 1
            report.rules += len(found.rules)
            report.overrides += len(found.overrides)
        HolidayHandling.objects.filter(learnt=True).delete()
        HolidayHandling.objects.bulk_create(
            HolidayHandling(
                holiday=b.holiday,
                weekday=b.weekday,
                stream=streams[b.stream] if b.stream else None,
                effect=b.effect.value,
                exact=[[w, d] for w, d in b.exact],
                learnt=True,
            )
            for b in policy.behaviours
        )
        config.holiday_rule = policy.default.value
        config.save()
        report.holiday_rule = policy.default.value
        report.years = [start.year for start, _ in spans]
        report.holidays = policy_describe(policy)
    return report


def zones_import_geojson(*, collection: dict[str, Any], code_property: str = "code") -> int:
    """Create or update zones from a GeoJSON FeatureCollection (each feature's
    `code_property` is the zone code, `name` its name); return how many.

    Raise ValidationFailed if a feature has no code or is not a (Multi)Polygon.
    """
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list):
        raise ValidationFailed("Not a GeoJSON FeatureCollection", details={"file": ["features"]})
    problems: list[str] = []
    zones: list[tuple[str, str, dict[str, Any]]] = []
    for n, feature in enumerate(features, start=1):
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        code = str(props.get(code_property) or "").strip()
        if not code or geometry.get("type") not in {"Polygon", "MultiPolygon"}:
            problems.append(f"feature {n}: needs a {code_property} and a Polygon or MultiPolygon")
            continue
        zones.append((code, str(props.get("name") or code), geometry))
    if problems:
        raise ValidationFailed("The zones cannot be imported.", details={"features": problems})
    with transaction.atomic():
        for code, name, geometry in zones:
            Zone.objects.update_or_create(code=code, defaults={"name": name, "geometry": geometry})
    return len(zones)


def zone_places_assign(*, progress: Callable[[], object] | None = None) -> int:
    """Put every address in the first zone whose polygon holds it; return how many are in
    a zone. Addresses outside every polygon keep a zone set by hand."""
    zones = [
        (zone, shape)
        for zone in Zone.objects.exclude(geometry=None).order_by("code")
        if (shape := zone_area(zone.geometry)) is not None
    ]
    links: list[ZonePlace] = []
    rows = list(Place.objects.values_list("pk", "lat", "long").order_by("pk"))
    for start in range(0, len(rows), ASSIGN_BATCH):
        chunk = rows[start : start + ASSIGN_BATCH]
        # A batch of addresses tested against each prepared polygon at once (shapely).
        left = chunk
        for zone, shape in zones:
            inside = contains_many(
                shape, lats=[lat for _, lat, _ in left], longs=[long for _, _, long in left]
            )
            links += [
                ZonePlace(place_id=pk, zone=zone)
                for (pk, _, _), i in zip(left, inside, strict=True)
                if i
            ]
            left = [row for row, i in zip(left, inside, strict=True) if not i]
        if progress is not None:
            for _ in chunk:
                progress()
    with transaction.atomic():
        ZonePlace.objects.filter(place_id__in=[link.place_id for link in links]).delete()
        ZonePlace.objects.bulk_create(links, batch_size=2000)
    return len(links)


def waste_reminder_subscribe(
    *,
    place: Place,
    email: str = "",
    phone: str = "",
    streams: Iterable[str] = (),
    language: str = "en",
) -> WasteReminder:
    """Ask for a reminder the evening before collections at `place`.

    Raise ValidationFailed if there is neither an e-mail address nor a phone number, or a
    stream is unknown.
    """
    codes = list(dict.fromkeys(streams))
    details: dict[str, list[str]] = {}
    if not email.strip() and not phone.strip():
        details["email"] = ["Give an e-mail address or a phone number."]
    unknown = set(codes) - set(Stream.objects.filter(code__in=codes).values_list("code", flat=True))
    if unknown:
        details["streams"] = [f"Unknown stream: {', '.join(sorted(unknown))}"]
    if details:
        raise ValidationFailed("The reminder cannot be set up.", details=details)
    with transaction.atomic():
        reminder, _ = WasteReminder.objects.update_or_create(
            place=place,
            email=email.strip(),
            phone=phone.strip(),
            defaults={"streams": codes, "language": language, "active": True},
        )
    return reminder


__all__ = [
    "streams_ensure",
    "waste_config_set",
    "waste_import_toronto",
    "waste_reminder_subscribe",
    "zone_places_assign",
    "zones_import_geojson",
]
