"""Reads of townhall.forwarding for the faces: a case's forwards with every sync (staff),
where a report will go and where a case went (residents), bodies to forward to.

Residents see a body's public name, its note and the day the case was sent; never the
remote id, remote statuses, errors or syncs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import F, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce, NullIf

from townhall.forwarding.models import Body, Forward, ForwardState, ForwardSync
from townhall.forwarding.routing import route_body_id

SYNCS_SHOWN = 50
# A forward that is still (or was) with the body; withdrawn ones are staff history only.
_SHOWN_TO_RESIDENTS = (ForwardState.SENT, ForwardState.CLOSED)
_LIVE = (ForwardState.PENDING, ForwardState.SENT, ForwardState.FAILED)


@dataclass(frozen=True)
class SyncView:
    at: datetime
    kind: str
    kind_label: str
    ok: bool
    remote_status: str
    detail: str
    elapsed_ms: int | None


@dataclass(frozen=True)
class ForwardView:
    """One forward as the staff case page shows it."""

    id: int
    body_name: str
    body_kind: str
    state: str
    state_label: str
    remote_id: str
    remote_status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_synced_at: datetime | None
    last_error: str
    syncs: list[SyncView]

    @property
    def can_resend(self) -> bool:
        return self.state == ForwardState.FAILED

    @property
    def can_withdraw(self) -> bool:
        return self.state in _LIVE


def _public_name(body: Body) -> str:
    return body.public_name or body.name


def forwards_for_case(case_id: int) -> list[ForwardView]:
    """Every forward of the case, newest first, each with its latest syncs newest first
    (at most SYNCS_SHOWN each); two queries whatever the count."""
    syncs = ForwardSync.objects.order_by("-at", "-pk")[:SYNCS_SHOWN]
    forwards = (
        Forward.objects.filter(case_id=case_id)
        .select_related("body")
        .prefetch_related(Prefetch("syncs", queryset=syncs, to_attr="syncs_shown"))
        .order_by("-created_at", "-pk")
    )
    return [
        ForwardView(
            id=f.pk,
            body_name=f.body.name,
            body_kind=f.body.get_kind_display(),
            state=f.state,
            state_label=str(f.get_state_display()),
            remote_id=f.remote_id,
            remote_status=f.remote_status,
            attempts=f.attempts,
            created_at=f.created_at,
            sent_at=f.sent_at,
            last_synced_at=f.last_synced_at,
            last_error=f.last_error,
            syncs=[
                SyncView(
                    at=s.at,
                    kind=s.kind,
                    kind_label=str(s.get_kind_display()),
                    ok=s.ok,
                    remote_status=s.remote_status,
                    detail=s.detail,
                    elapsed_ms=s.elapsed_ms,
                )
                for s in f.syncs_shown
            ],
        )
        for f in forwards
    ]


@dataclass(frozen=True)
class BodyChoice:
    id: int
    name: str


BODIES_CACHE_KEY = "forwarding:bodies-to-forward-to"
BODIES_CACHE_SECONDS = 60


def bodies_to_forward_to() -> list[BodyChoice]:
    """Active bodies staff may forward a case to, by name; cached for a minute (shared by
    processes through the cache), so the case page pays no query for them. `forward_to`
    checks the body chosen again."""
    cached = cache.get(BODIES_CACHE_KEY)
    if cached is not None:
        return [BodyChoice(id=pk, name=name) for pk, name in cached]
    rows = list(Body.objects.filter(active=True).order_by("name").values_list("pk", "name"))
    cache.set(BODIES_CACHE_KEY, rows, BODIES_CACHE_SECONDS)
    return [BodyChoice(id=pk, name=name) for pk, name in rows]


@dataclass(frozen=True)
class RouteShown:
    """Where a report of this service at this place will go, as the resident is told."""

    name: str
    note: str


def route_shown(
    *, service_type_id: int, lat: float | None, long: float | None
) -> RouteShown | None:
    """The body a report would be forwarded to, or None if the council handles it."""
    body_id = route_body_id(service_type_id=service_type_id, lat=lat, long=long)
    if body_id is None:
        return None
    body = Body.objects.filter(pk=body_id, active=True).first()
    if body is None:
        return None
    return RouteShown(name=_public_name(body), note=body.public_note)


@dataclass(frozen=True)
class ForwardPublic:
    """Where the resident's case went and since when: nothing of the remote's internals."""

    name: str
    note: str
    since: datetime


def forward_public(case_id: int) -> ForwardPublic | None:
    """The body the case was sent to (the latest forward actually sent), or None."""
    forward = (
        Forward.objects.filter(case_id=case_id, state__in=_SHOWN_TO_RESIDENTS)
        .exclude(sent_at=None)
        .select_related("body")
        .order_by("-sent_at", "-pk")
        .first()
    )
    if forward is None or forward.sent_at is None:
        return None
    body = forward.body
    return ForwardPublic(name=_public_name(body), note=body.public_note, since=forward.sent_at)


def forward_of_case(*, case_id: int, forward_id: int) -> Forward | None:
    """The forward `forward_id` if it is one of this case's (for staff actions on it)."""
    return (
        Forward.objects.select_related("body", "case")
        .filter(pk=forward_id, case_id=case_id)
        .first()
    )


def body_active_get(body_id: int) -> Body | None:
    """An active body, for "Forward to..." (None if there is no such active body)."""
    return Body.objects.filter(pk=body_id, active=True).first()


def forwarded_to_annotation(case_ref: str = "pk") -> Subquery:
    """A subquery for a query of cases: the public name of the body each case was sent to
    (sent, or closed by the body; the latest), or NULL. For Open311's
    `agency_responsible`, so a page of requests stays one query."""
    return Subquery(
        Forward.objects.filter(case_id=OuterRef(case_ref), state__in=_SHOWN_TO_RESIDENTS)
        .exclude(sent_at=None)
        .order_by("-sent_at", "-pk")
        .annotate(shown=Coalesce(NullIf(F("body__public_name"), Value("")), F("body__name")))
        .values("shown")[:1]
    )
