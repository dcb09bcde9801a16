"""Reading notices for staff (the console): every notice whatever its status, filtered and a
page at a time, and one notice with its history, as plain values (faces never see models).
Who may read them is the console's check (`notices.view_notice`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator

from townhall.notices.models import Notice, NoticeEvent, NoticeKind, NoticeStatus
from townhall.notify.models import AlertTopic

__all__ = [
    "NOTICE_KINDS",
    "NOTICE_STATUSES",
    "StaffNotice",
    "StaffNoticeEvent",
    "notice_staff_get",
    "notice_topics",
    "notices_staff_page",
]

NOTICE_KINDS: list[tuple[str, Any]] = list(NoticeKind.choices)
NOTICE_STATUSES: list[tuple[str, Any]] = list(NoticeStatus.choices)
PAGE_SIZE = 50


@dataclass(frozen=True)
class StaffNoticeEvent:
    seq: int
    kind: str
    at: datetime
    actor_label: str
    data: dict[str, Any]


@dataclass(frozen=True)
class StaffNotice:
    id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    topic: str
    topic_name: str
    title: str
    body: str
    advice: str
    title_es: str
    body_es: str
    advice_es: str
    starts_at: datetime | None
    ends_at: datetime | None
    published_at: datetime | None
    withdrawn_at: datetime | None
    lat: float | None
    long: float | None
    radius_m: int | None
    drawn_area: bool
    product: str
    product_es: str
    codes_count: int | None
    events: tuple[StaffNoticeEvent, ...] = ()

    @property
    def is_recall(self) -> bool:
        return self.kind == NoticeKind.RECALL

    @property
    def is_draft(self) -> bool:
        return self.status == NoticeStatus.DRAFT

    @property
    def is_open(self) -> bool:
        """Draft or published: it can still be withdrawn."""
        return self.status in (NoticeStatus.DRAFT, NoticeStatus.PUBLISHED)

    @property
    def everywhere(self) -> bool:
        return self.lat is None and not self.drawn_area


def _staff(notice: Notice, events: tuple[StaffNoticeEvent, ...] = ()) -> StaffNotice:
    recall = getattr(notice, "recall", None) if notice.kind == NoticeKind.RECALL else None
    return StaffNotice(
        id=notice.pk,
        kind=notice.kind,
        kind_label=str(NoticeKind(notice.kind).label),
        status=notice.status,
        status_label=str(NoticeStatus(notice.status).label),
        topic=notice.topic.code,
        topic_name=notice.topic.name,
        title=notice.title,
        body=notice.body,
        advice=notice.advice,
        title_es=notice.title_es,
        body_es=notice.body_es,
        advice_es=notice.advice_es,
        starts_at=notice.starts_at,
        ends_at=notice.ends_at,
        published_at=notice.published_at,
        withdrawn_at=notice.withdrawn_at,
        lat=notice.lat,
        long=notice.long,
        radius_m=notice.radius_m,
        drawn_area=bool(notice.polygon),
        product=recall.product if recall is not None else "",
        product_es=recall.product_es if recall is not None else "",
        codes_count=recall.codes_count if recall is not None else None,
        events=events,
    )


def notice_topics() -> list[tuple[str, str]]:
    """The alert topics a notice can have, as (code, name), by name."""
    return list(AlertTopic.objects.order_by("name").values_list("code", "name"))


def notices_staff_page(
    *, kind: str = "", status: str = "", topic: str = "", page: int | str = 1
) -> tuple[Page[Any], list[StaffNotice]]:
    """One page of every notice (any status), newest first, optionally of one kind, status
    or topic code; the page (for its numbers) and its notices."""
    qs = Notice.objects.select_related("topic", "recall").order_by("-created_at", "-id")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if topic:
        qs = qs.filter(topic__code=topic)
    found = Paginator(qs, PAGE_SIZE).get_page(page)
    return found, [_staff(n) for n in found.object_list]


def notice_staff_get(notice_id: int) -> StaffNotice | None:
    """One notice, whatever its status, with its chain's events (newest first); None if
    there is no such notice."""
    notice = Notice.objects.select_related("topic", "recall").filter(pk=notice_id).first()
    if notice is None:
        return None
    events = tuple(
        StaffNoticeEvent(seq=e.seq, kind=e.kind, at=e.at, actor_label=e.actor_label, data=e.data)
        for e in NoticeEvent.objects.filter(notice_id=notice_id).order_by("-seq")[:100]
    )
    return _staff(notice, events)
