"""Reading notices for the public (portal, assistant): only published notices that have
not ended, as plain values (faces never see the models), and the batch-code check, which
answers affected or not and the recall's public advice, nothing more."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from townhall.core import clock, geometry
from townhall.notices.codes import InvalidCode, code_normalise
from townhall.notices.models import Notice, NoticeKind, NoticeStatus, RecallCode
from townhall.notify.geo import Area, area_from, areas_meet
from townhall.places.selectors import place_search

__all__ = [
    "CodeCheck",
    "InvalidCode",
    "PublicNotice",
    "notice_public_get",
    "notices_near",
    "notices_near_address",
    "notices_public",
    "recall_code_check",
]


@dataclass(frozen=True)
class PublicNotice:
    id: int
    kind: str
    kind_label: str
    topic: str
    title: str
    body: str
    advice: str
    product: str
    published_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    everywhere: bool

    @property
    def is_recall(self) -> bool:
        return self.kind == NoticeKind.RECALL


@dataclass(frozen=True)
class CodeCheck:
    """The answer to "is my product affected?": the normalised code, and the advice."""

    code: str
    affected: bool
    product: str
    advice: str


def _visible(now: datetime | None = None) -> QuerySet[Notice]:
    now = now or clock.now()
    return (
        Notice.objects.filter(status=NoticeStatus.PUBLISHED)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("topic", "recall")
    )


def _spanish(language: str) -> bool:
    return language.lower().startswith("es")


def _public(notice: Notice, language: str) -> PublicNotice:
    es = _spanish(language)
    recall = getattr(notice, "recall", None) if notice.kind == NoticeKind.RECALL else None
    product = ""
    if recall is not None:
        product = (recall.product_es if es else "") or recall.product
    return PublicNotice(
        id=notice.pk,
        kind=notice.kind,
        kind_label=str(NoticeKind(notice.kind).label),
        topic=notice.topic.code,
        title=(notice.title_es if es else "") or notice.title,
        body=(notice.body_es if es else "") or notice.body,
        advice=(notice.advice_es if es else "") or notice.advice,
        product=product,
        published_at=notice.published_at,
        starts_at=notice.starts_at,
        ends_at=notice.ends_at,
        everywhere=notice.min_lat is None,
    )


def notices_public(
    *, language: str = "en", kinds: Iterable[str] | None = None, limit: int = 100
) -> list[PublicNotice]:
    """The notices shown to the public now, newest first."""
    qs = _visible()
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return [_public(n, language) for n in qs.order_by("-published_at", "-id")[:limit]]


def notice_public_get(*, notice_id: int, language: str = "en") -> PublicNotice | None:
    """One notice shown to the public now; None for a draft, withdrawn, ended or unknown."""
    notice = _visible().filter(pk=notice_id).first()
    return _public(notice, language) if notice is not None else None


def notices_near(
    *,
    lat: float,
    long: float,
    within_m: float = 0.0,
    topics: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    language: str = "en",
    limit: int = 20,
) -> list[PublicNotice]:
    """The notices shown now whose area covers the point (or comes within `within_m` of
    it), including those for everywhere; optionally only some topic codes or kinds."""
    box = geometry.box_around(lat=lat, long=long, radius_m=within_m)
    qs = _visible().filter(
        Q(min_lat__isnull=True)
        | Q(
            min_lat__lte=box.max_lat,
            max_lat__gte=box.min_lat,
            min_long__lte=box.max_long,
            max_long__gte=box.min_long,
        )
    )
    if topics is not None:
        qs = qs.filter(topic__code__in=list(topics))
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    here = Area(centre=(lat, long), radius_m=within_m)
    found = []
    for notice in qs.order_by("-published_at", "-id")[:1000]:
        area = area_from(
            lat=notice.lat, long=notice.long, radius_m=notice.radius_m, polygon=notice.polygon
        )
        if areas_meet(area, here):
            found.append(_public(notice, language))
            if len(found) >= limit:
                break
    return found


def notices_near_address(
    address: str,
    *,
    topics: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    language: str = "en",
    limit: int = 20,
) -> tuple[str, list[PublicNotice]] | None:
    """For the assistant: the gazetteer's best match for `address` (its address text) and
    the notices shown now that cover it; None if no address matches."""
    matches = place_search(address[:200], limit=1)
    if not matches:
        return None
    place = matches[0].place
    found = notices_near(
        lat=place.lat, long=place.long, topics=topics, kinds=kinds, language=language, limit=limit
    )
    return place.address, found


def recall_code_check(*, notice_id: int, raw_code: str, language: str = "en") -> CodeCheck | None:
    """Whether `raw_code` (typed or scanned) is among the recall's affected codes; None if
    the notice is not a recall shown now. Raise InvalidCode for text that is no code."""
    notice = _visible().filter(pk=notice_id, kind=NoticeKind.RECALL).first()
    if notice is None:
        return None
    code = code_normalise(raw_code)
    affected = RecallCode.objects.filter(recall_id=notice.recall.pk, code=code).exists()
    public = _public(notice, language)
    return CodeCheck(code=code, affected=affected, product=public.product, advice=public.advice)
