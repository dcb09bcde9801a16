"""Reads of cases shared by the faces."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from townhall.cases.errors import CaseNotFound
from townhall.cases.ledger import (
    COMMITMENTS_KEY,
    ChainBreak,
    ChainLink,
    chain_verify,
    personal_commitment,
)
from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.cases.models import (
    Case,
    CaseEvent,
    CaseEventPersonal,
    FollowVia,
    LedgerSeal,
    TimeEntry,
)
from townhall.cases.seals import inclusion_proof, seal_json
from townhall.cases.tracking import token_matches, token_parts
from townhall.catalog.models import ServiceType
from townhall.people.models import Channel
from townhall.places.selectors import EARTH_RADIUS_M, distance_m

_REFERENCE = re.compile(r"^\s*([A-Za-z]+)-(\d{2})-(\d{1,12})\s*$")


def reference_parse(reference: str) -> tuple[int, int] | None:
    """Return (two-digit year, case id) of a public reference, or None if it is not one."""
    match = _REFERENCE.match(reference)
    if not match or match.group(1).upper() != settings.TOWNHALL_REFERENCE_PREFIX.upper():
        return None
    return int(match.group(2)), int(match.group(3))


def reference_matches(case: Case, year: int) -> bool:
    """Return whether `case` was opened in the two-digit `year` its reference names."""
    return timezone.localtime(case.opened_at).year % 100 == year


def case_get_by_reference(*, reference: str) -> Case:
    """Return the case a public reference (or the id it had in the system it was imported
    from) names; raise CaseNotFound if none does."""
    parsed = reference_parse(reference)
    qs = Case.objects.select_related("service_type", "department", "merged_into")
    if parsed is None:
        case = qs.filter(external_id=reference.strip()).first() if reference.strip() else None
        if case is None:
            raise CaseNotFound(_("No case has that reference."))
        return case
    year, case_id = parsed
    case = qs.filter(pk=case_id).first()
    if case is None or not reference_matches(case, year):
        raise CaseNotFound(_("No case has that reference."))
    return case


@dataclass(frozen=True)
class ReferenceSet:
    """Public references and imported ids, ready to filter cases by (`q`) and to check a
    case's row against (`names`), since a reference also names the year it was opened."""

    years: dict[int, int]
    foreign: frozenset[str]

    @property
    def q(self) -> Q:
        return Q(pk__in=list(self.years)) | Q(external_id__in=list(self.foreign))

    def names(self, *, case_id: int, opened_year: int, external_id: str | None) -> bool:
        """Return whether a case, opened in `opened_year` (the site's time zone), is named."""
        if external_id is not None and external_id in self.foreign:
            return True
        year = self.years.get(case_id)
        return year is not None and opened_year % 100 == year


def reference_set(references: list[str]) -> ReferenceSet:
    """Return the cases `references` (public references or imported ids) may name."""
    years: dict[int, int] = {}
    foreign: set[str] = set()
    for ref in references:
        parsed = reference_parse(ref)
        if parsed is None:
            foreign.add(ref.strip())
        else:
            years[parsed[1]] = parsed[0]
    return ReferenceSet(years=years, foreign=frozenset(foreign))


def case_public_timeline(*, case: Case) -> list[CaseEvent]:
    """Return the events a resident may see, oldest first, their personal values attached."""
    return case_events_personal_attach(list(case.events.filter(public=True).order_by("seq")))


def case_events_personal_attach(events: list[CaseEvent]) -> list[CaseEvent]:
    """Attach the kept personal values to `events` (one query, none if no event has any),
    so `event.content` reads them without a query per event. Return `events`."""
    wanted = {e.pk: e for e in events if COMMITMENTS_KEY in (e.data or {})}
    for event in events:
        event._personal_values = {}
    if wanted:
        rows = CaseEventPersonal.objects.filter(event_id__in=list(wanted)).values_list(
            "event_id", "field", "value"
        )
        for event_id, name, value in rows:
            values = wanted[event_id]._personal_values
            if values is not None:
                values[name] = value
    return events


def case_list_open(*, department_id: int | None = None) -> QuerySet[Case]:
    """Return open cases, soonest due first, with what a queue row shows."""
    qs = Case.objects.filter(status__in=OPEN_STATUSES).select_related(
        "service_type", "department", "assignee"
    )
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    return qs.order_by("due_at", "pk")


def case_count_by_status() -> dict[str, int]:
    """Return how many cases are in each status."""
    rows = Case.objects.values_list("status").annotate(n=Count("pk")).order_by()
    return dict(rows)


def ledger_verify(
    *, case_ids: list[int] | None = None, batch: int = 5000
) -> tuple[int, list[ChainBreak]]:
    """Recompute every case's event chain; return (events checked, breaks found)."""
    qs = CaseEvent.objects.order_by("case_id", "seq")
    if case_ids is not None:
        qs = qs.filter(case_id__in=case_ids)
    rows = qs.values_list(
        "case_id", "seq", "kind", "at", "actor_id", "channel", "public", "data", "prev_hash", "hash"
    )
    counted = 0

    def links() -> Iterator[ChainLink]:
        nonlocal counted
        for row in rows.iterator(chunk_size=batch):
            counted += 1
            yield ChainLink(*row)

    breaks = list(chain_verify(links()))
    # Personal values kept apart must still match the commitments their events hold.
    personal = CaseEventPersonal.objects.order_by("case_id", "event__seq")
    if case_ids is not None:
        personal = personal.filter(case_id__in=case_ids)
    for case_id, seq, data, name, value, salt in personal.values_list(
        "case_id", "event__seq", "event__data", "field", "value", "salt"
    ).iterator(chunk_size=batch):
        committed = (data or {}).get(COMMITMENTS_KEY, {}).get(name)
        if committed != personal_commitment(salt, value):
            breaks.append(ChainBreak(case_id, seq, f"personal value {name!r} does not match"))
    # A case whose whole history was deleted has no chain to break: report it too.
    empty = Case.objects.filter(events__isnull=True)
    if case_ids is not None:
        empty = empty.filter(pk__in=case_ids)
    breaks += [
        ChainBreak(case_id, 0, "case has no events")
        for case_id in empty.values_list("pk", flat=True)
    ]
    return counted, breaks


def case_public_text(case: Case) -> str:
    """What may be published of a case's description: the summary staff approved, or the
    resident's words with personal details masked (never the words as received)."""
    return case.public_summary or case.public_description


def service_is_public(service: ServiceType) -> bool:
    """False for services whose reports are about someone's home or household: their
    cases appear in no public list, page or feed."""
    return not service.personal


def service_shows_nearby(service: ServiceType) -> bool:
    """Whether reports of `service` may be shown to others as possibly the same problem
    (the nearby list, "me too"): not for personal services nor with duplicates off."""
    return service_is_public(service) and service.duplicate_radius_m > 0


def _with_supporters(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.annotate(supporters=Count("followers", filter=Q(followers__via=FollowVia.ME_TOO)))


def case_for_token(token: str) -> Case:
    """The case a private link names, with its "me too" count; raise CaseNotFound if the
    link was not signed by us or was replaced since (`case_link_rotate`)."""
    case_id, key = token_parts(token)
    case = (
        _with_supporters(Case.objects.select_related("service_type", "merged_into"))
        .filter(pk=case_id)
        .first()
    )
    if case is None or not token_matches(case, key):
        raise CaseNotFound(_("No such request."))
    return case


def case_public_get(*, reference: str) -> Case:
    """The case a reference names, for its public page, with its "me too" count; raise
    CaseNotFound if there is none or its service is personal (not published)."""
    found = case_get_by_reference(reference=reference)
    case = _with_supporters(
        Case.objects.select_related("service_type", "merged_into").filter(
            pk=found.pk, service_type__personal=False
        )
    ).first()
    if case is None:
        raise CaseNotFound(_("No such request."))
    return case


@dataclass(frozen=True)
class NearbyCase:
    case: Case
    distance_m: float
    supporters: int  # residents who said "this is my problem too"


def case_nearby_open(
    *,
    service_type_id: int,
    lat: float,
    long: float,
    radius_m: float,
    limit: int = 5,
    supporters: bool = True,
) -> list[NearbyCase]:
    """Return open cases of a service within `radius_m` metres of a point, nearest first.

    One query: a bounding box on the partial index of open cases by service and point,
    ordered in SQL by the flat-earth distance (exact enough to rank within a few hundred
    metres), then the great-circle distance of the few rows returned. Without
    `supporters` the "me too" count (a join and a GROUP BY) is left out and given as 0.
    """
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    scale = max(math.cos(math.radians(lat)), 1e-6)
    dlong = dlat / scale
    rows = Case.objects.filter(
        service_type_id=service_type_id,
        status__in=sorted(OPEN_STATUSES),
        lat__gte=lat - dlat,
        lat__lte=lat + dlat,
        long__gte=long - dlong,
        long__lte=long + dlong,
    ).annotate(
        flat=(F("lat") - lat) * (F("lat") - lat)
        + (F("long") - long) * (F("long") - long) * (scale * scale),
    )
    if supporters:
        rows = rows.annotate(
            supporters=Count("followers", filter=Q(followers__via=FollowVia.ME_TOO))
        )
    page = rows.only(
        "id",
        "description",
        "public_description",
        "public_summary",
        "address",
        "lat",
        "long",
        "status",
        "opened_at",
        "expected_on",
    ).order_by("flat", "-opened_at")[:limit]
    found = []
    for case in page:
        d = distance_m(lat, long, case.lat or 0.0, case.long or 0.0)
        if d <= radius_m:
            count = getattr(case, "supporters", 0) if supporters else 0
            found.append(NearbyCase(case=case, distance_m=d, supporters=count))
    return found


def case_list_for_citizen(*, citizen_id: int, limit: int = 200) -> list[tuple[Case, bool]]:
    """Return a resident's cases on every channel, newest first, each with True if they
    reported it (False: they follow it). One query."""
    rows = (
        Case.objects.filter(Q(reporter_id=citizen_id) | Q(followers__citizen_id=citizen_id))
        .select_related("service_type")
        .distinct()
        .order_by("-opened_at", "-id")[:limit]
    )
    return [(case, case.reporter_id == citizen_id) for case in rows]


def case_minutes_spent(*, case_id: int) -> int:
    """Staff minutes recorded on a case."""
    total = TimeEntry.objects.filter(case_id=case_id).aggregate(total=Sum("minutes"))["total"]
    return int(total or 0)


def staff_hours_per_request(*, since: date, until: date) -> float | None:
    """Staff hours recorded per case opened between `since` and `until` (inclusive of
    `since`), over cases that have any time recorded; None if none has."""
    row = TimeEntry.objects.filter(
        case__opened_at__date__gte=since, case__opened_at__date__lt=until
    ).aggregate(minutes=Sum("minutes"), cases=Count("case_id", distinct=True))
    if not row["cases"]:
        return None
    return float(row["minutes"]) / 60.0 / float(row["cases"])


# --- the published seals ---------------------------------------------------------------------


def ledger_seals(*, limit: int = 400) -> list[dict[str, Any]]:
    """The latest seals as published (newest first), each with what checks its signature."""
    rows = LedgerSeal.objects.defer("chunks").order_by("-pk")[:limit]
    return [seal_json(seal) for seal in rows]


def ledger_seal_get(*, seal_id: int) -> dict[str, Any] | None:
    seal = LedgerSeal.objects.defer("chunks").filter(pk=seal_id).first()
    return seal_json(seal) if seal is not None else None


def ledger_proof(*, case_id: int) -> dict[str, Any] | None:
    """The inclusion proof of a case in the latest seal, as published; None if not sealed."""
    proof = inclusion_proof(case_id)
    return proof.as_json() if proof is not None else None


def case_sla_breached_open_count() -> int:
    """Open cases past their due time or marked late (the console's "breached" queue)."""
    return Case.objects.filter(
        Q(due_at__lt=timezone.now()) | Q(breached_at__isnull=False),
        status__in=sorted(OPEN_STATUSES),
    ).count()


def case_opened_count_by_channel() -> dict[str, int]:
    """Cases ever opened, by the channel they came in on (one GROUP BY; for /metrics).

    Every channel is listed, with 0 if none; a value that is not a channel counts as "other".
    """
    counts = dict.fromkeys((str(value) for value in Channel.values), 0)
    rows = Case.objects.order_by().values_list("channel").annotate(n=Count("id"))
    for channel, n in rows:
        label = channel if channel in counts else "other"
        counts[label] = counts.get(label, 0) + n
    return counts
