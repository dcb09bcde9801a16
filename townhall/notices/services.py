"""Writing notices: create, edit, publish (pushed through notify's alerts), withdraw,
expire. Every change locks the notice, saves it and appends its chain event in one
transaction (notices/chain.py). Recall codes are imported in notices/imports.py."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.notices.chain import event_append
from townhall.notices.models import Notice, NoticeKind, NoticeStatus, Recall
from townhall.notify.alerts import alert_publish, area_checked, area_fields_of
from townhall.notify.links import public_url
from townhall.notify.models import AlertTopic

logger = logging.getLogger(__name__)

Actor = AbstractBaseUser | None
TEXT_FIELDS = ("title", "body", "advice", "title_es", "body_es", "advice_es")
EDITABLE = (*TEXT_FIELDS, "starts_at", "ends_at", "topic")
AREA_FIELDS = ("lat", "long", "radius_m", "polygon")


class NoticeNotFound(ValidationFailed):
    """No notice with that id."""


def area_fields(
    *,
    lat: float | None,
    long: float | None,
    radius_m: int | None,
    polygon: Sequence[Sequence[float]] | None,
) -> dict[str, Any]:
    """The AreaMixin fields of an area (with its bounding box); ValidationFailed if bad."""
    return area_fields_of(area_checked(lat=lat, long=long, radius_m=radius_m, polygon=polygon))


def _check_text(values: dict[str, Any]) -> None:
    missing = {f: ["Write something."] for f in ("title", "body") if not str(values[f]).strip()}
    if missing:
        raise ValidationFailed("A notice needs a title and a text.", details=missing)
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if starts and ends and ends <= starts:
        raise ValidationFailed(
            "The notice must end after it starts.", details={"ends_at": ["Choose a later end."]}
        )


def notice_create(
    *,
    kind: str,
    topic: AlertTopic,
    title: str,
    body: str,
    advice: str = "",
    title_es: str = "",
    body_es: str = "",
    advice_es: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    lat: float | None = None,
    long: float | None = None,
    radius_m: int | None = None,
    polygon: Sequence[Sequence[float]] | None = None,
    product: str = "",
    product_es: str = "",
    actor: Actor = None,
) -> Notice:
    """Create a draft notice (with its recall, for a product recall); nothing is shown or
    sent until `notice_publish`. Raise ValidationFailed for bad input."""
    if kind not in NoticeKind.values:
        raise ValidationFailed("Unknown kind of notice.", details={"kind": ["Choose a kind."]})
    values = {
        "title": title.strip(),
        "body": body.strip(),
        "advice": advice.strip(),
        "title_es": title_es.strip(),
        "body_es": body_es.strip(),
        "advice_es": advice_es.strip(),
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
    _check_text(values)
    if kind == NoticeKind.RECALL and not product.strip():
        raise ValidationFailed(
            "A recall names its product.", details={"product": ["Name the product."]}
        )
    area = area_fields(lat=lat, long=long, radius_m=radius_m, polygon=polygon)
    with transaction.atomic():
        notice = Notice.objects.create(
            kind=kind,
            topic=topic,
            created_by_id=actor.pk if actor is not None else None,
            **values,
            **area,
        )
        if kind == NoticeKind.RECALL:
            Recall.objects.create(
                notice=notice, product=product.strip(), product_es=product_es.strip()
            )
        event_append(notice, "created", at=clock.now(), actor=actor)
    return notice


def notice_lock(notice_id: int) -> Notice:
    try:
        return Notice.objects.select_for_update().get(pk=notice_id)
    except Notice.DoesNotExist as exc:
        raise NoticeNotFound("No such notice.") from exc


def notice_update(
    notice_id: int,
    *,
    actor: Actor = None,
    product: str | None = None,
    product_es: str | None = None,
    **changes: Any,
) -> Notice:
    """Change a draft or published notice's text, period, topic or area (a published one
    is not pushed again). Raise ValidationFailed for bad input or a closed notice."""
    unknown = set(changes) - set(EDITABLE) - set(AREA_FIELDS)
    if unknown:
        raise ValidationFailed(
            "Those fields cannot be changed.", details={"fields": sorted(unknown)}
        )
    with transaction.atomic():
        notice = notice_lock(notice_id)
        if notice.status not in (NoticeStatus.DRAFT, NoticeStatus.PUBLISHED):
            raise ValidationFailed("A withdrawn or expired notice cannot be changed.")
        for name in EDITABLE:
            if name in changes:
                value = changes[name]
                setattr(notice, name, value.strip() if name in TEXT_FIELDS else value)
        _check_text({f: getattr(notice, f) for f in (*TEXT_FIELDS, "starts_at", "ends_at")})
        if set(AREA_FIELDS) & set(changes):
            area = {f: changes.get(f, getattr(notice, f)) for f in AREA_FIELDS}
            for name, value in area_fields(**area).items():
                setattr(notice, name, value)
        notice.save()
        if product is not None or product_es is not None:
            recall = Recall.objects.filter(notice=notice).first()
            if recall is not None:
                recall.product = (product if product is not None else recall.product).strip()
                recall.product_es = (
                    product_es if product_es is not None else recall.product_es
                ).strip()
                recall.save(update_fields=["product", "product_es", "updated_at"])
        event_append(
            notice, "edited", at=clock.now(), actor=actor, data={"fields": sorted(changes)}
        )
    return notice


def _alert_message(notice: Notice) -> str:
    parts = [notice.body, notice.advice, public_url(f"/notices/{notice.pk}/")]
    return "\n\n".join(p for p in parts if p)


def notice_publish(notice_id: int, *, actor: Actor = None) -> Notice:
    """Publish a draft: it shows on the portal and in the assistant, and one notify alert
    is queued to the subscribers of its topic in its area (notify's fan-out, after commit).
    Raise ValidationFailed unless it is a draft that has not already ended."""
    now = clock.now()
    with transaction.atomic():
        notice = notice_lock(notice_id)
        if notice.status != NoticeStatus.DRAFT:
            raise ValidationFailed("Only a draft can be published.")
        if notice.ends_at is not None and notice.ends_at <= now:
            raise ValidationFailed(
                "This notice has already ended.", details={"ends_at": ["Choose a later end."]}
            )
        alert = alert_publish(
            topic=notice.topic,
            title=notice.title,
            message=_alert_message(notice),
            lat=notice.lat,
            long=notice.long,
            radius_m=notice.radius_m,
            polygon=notice.polygon,
        )
        notice.status = NoticeStatus.PUBLISHED
        notice.published_at = now
        notice.alert = alert
        notice.save(update_fields=["status", "published_at", "alert", "updated_at"])
        event_append(notice, "published", at=now, actor=actor, data={"alert": alert.pk})
    logger.info("notice %s published, alert %s", notice.pk, alert.pk)
    return notice


def notice_withdraw(notice_id: int, *, actor: Actor = None, reason: str = "") -> Notice:
    """Withdraw a draft or published notice: it is no longer shown anywhere. Alerts already
    sent stay sent. Raise ValidationFailed if it is already withdrawn or expired."""
    now = clock.now()
    with transaction.atomic():
        notice = notice_lock(notice_id)
        if notice.status not in (NoticeStatus.DRAFT, NoticeStatus.PUBLISHED):
            raise ValidationFailed("This notice is already withdrawn or expired.")
        notice.status = NoticeStatus.WITHDRAWN
        notice.withdrawn_at = now
        notice.save(update_fields=["status", "withdrawn_at", "updated_at"])
        event_append(notice, "withdrawn", at=now, actor=actor, data={"reason": reason[:500]})
    return notice


def notices_expire(*, now: datetime | None = None) -> int:
    """Mark published notices whose end has passed as expired; return how many. (They are
    hidden from the public at their end already; this records it in their chains.)"""
    now = now or clock.now()
    done = 0
    ids = Notice.objects.filter(status=NoticeStatus.PUBLISHED, ends_at__lte=now)
    for notice_id in list(ids.values_list("pk", flat=True)):
        with transaction.atomic():
            notice = notice_lock(notice_id)
            if notice.status != NoticeStatus.PUBLISHED:
                continue
            notice.status = NoticeStatus.EXPIRED
            notice.save(update_fields=["status", "updated_at"])
            event_append(notice, "expired", at=now, actor=None)
            done += 1
    return done


def notice_draft_edit(
    notice_id: int, *, topic_code: str, actor: Actor = None, **changes: Any
) -> Notice:
    """The console's edit of a draft: its text, period, topic (by code), circle and product
    (`notice_update`'s fields). Raise ValidationFailed for bad input or a notice that is no
    longer a draft (a published notice is edited in the admin, withdrawn or left as it is)."""
    topic = AlertTopic.objects.filter(code=topic_code).first()
    if topic is None:
        raise ValidationFailed("Unknown topic.", details={"topic": ["Choose a topic."]})
    with transaction.atomic():
        if notice_lock(notice_id).status != NoticeStatus.DRAFT:
            raise ValidationFailed("Only a draft can be edited here.")
        return notice_update(notice_id, actor=actor, topic=topic, **changes)
