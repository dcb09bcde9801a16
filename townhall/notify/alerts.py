"""Proactive alerts: residents subscribe by topic and area; staff publish; a fan-out
queues one notification per subscriber, resumably and at bulk-insert speed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from townhall.core import clock
from townhall.core.bulk import RowsLike
from townhall.core.errors import ValidationFailed
from townhall.core.tasks import enqueue_once_on_commit
from townhall.notify.geo import Area, area_from, areas_meet
from townhall.notify.links import subscription_stop_url
from townhall.notify.models import (
    Alert,
    AlertSubscription,
    AlertTopic,
    Notification,
    NotificationKind,
    NotificationStatus,
    NotifyChannel,
    OptOut,
)
from townhall.notify.rendering import placeholders_used, sms_fit, template_render
from townhall.notify.selectors import notification_template_get
from townhall.people.models import Citizen, ContactKind, ContactPoint

logger = logging.getLogger(__name__)

FANOUT_BATCH = 5000


def area_fields_of(area: Area) -> dict[str, Any]:
    """The AreaMixin fields of an area, with its bounding box (alerts, notices)."""
    box = area.bbox()
    return {
        "lat": area.centre[0] if area.centre else None,
        "long": area.centre[1] if area.centre else None,
        "radius_m": int(area.radius_m) if area.centre else None,
        "polygon": [list(p) for p in area.polygon] or None,
        "min_lat": box[0] if box else None,
        "max_lat": box[1] if box else None,
        "min_long": box[2] if box else None,
        "max_long": box[3] if box else None,
    }


def area_checked(
    *,
    lat: float | None,
    long: float | None,
    radius_m: int | None,
    polygon: Sequence[Sequence[float]] | None,
) -> Area:
    errors: dict[str, list[str]] = {}
    if polygon is not None and (len(polygon) < 3 or any(len(p) != 2 for p in polygon)):
        errors["polygon"] = ["Draw at least three corners, each as [lat, long]."]
    if (lat is None) != (long is None):
        errors["location"] = ["Give both latitude and longitude, or neither."]
    elif lat is not None and long is not None and not (-90 <= lat <= 90 and -180 <= long <= 180):
        errors["location"] = ["Latitude must be within ±90 and longitude within ±180."]
    if radius_m is not None and not 0 <= radius_m <= 50_000:
        errors["radius_m"] = ["Choose a radius between 0 and 50 km."]
    if errors:
        raise ValidationFailed("The area is not valid.", details=errors)
    return area_from(lat=lat, long=long, radius_m=radius_m, polygon=polygon)


def alert_topic_ensure(*, code: str, name: str, description: str = "") -> AlertTopic:
    """Return the topic with `code`, creating it with `name` if it does not exist."""
    topic, _ = AlertTopic.objects.get_or_create(
        code=code, defaults={"name": name, "description": description}
    )
    return topic


def alert_subscribe(
    *,
    citizen: Citizen,
    channel: str,
    topic: AlertTopic | None = None,
    lat: float | None = None,
    long: float | None = None,
    radius_m: int | None = None,
    polygon: Sequence[Sequence[float]] | None = None,
    address: str = "",
) -> AlertSubscription:
    """Subscribe a resident to a topic (None: every topic) in an area (none: everywhere).

    Raise ValidationFailed for a malformed area or a channel we cannot reach them on.
    """
    area = area_checked(lat=lat, long=long, radius_m=radius_m, polygon=polygon)
    kind = {NotifyChannel.EMAIL: ContactKind.EMAIL, NotifyChannel.SMS: ContactKind.PHONE}.get(
        NotifyChannel(channel)
    )
    if kind and not ContactPoint.objects.filter(citizen=citizen, kind=kind).exists():
        raise ValidationFailed(
            "We have no address for that channel.", details={"channel": ["Add it first."]}
        )
    return AlertSubscription.objects.create(
        citizen=citizen, topic=topic, channel=channel, address=address, **area_fields_of(area)
    )


def alert_publish(
    *,
    topic: AlertTopic,
    title: str,
    message: str,
    lat: float | None = None,
    long: float | None = None,
    radius_m: int | None = None,
    polygon: Sequence[Sequence[float]] | None = None,
) -> Alert:
    """Publish an alert and enqueue its fan-out to every matching subscriber.

    Raise ValidationFailed for an empty title or message or a malformed area.
    """
    if not title.strip() or not message.strip():
        raise ValidationFailed(
            "An alert needs a title and a message.",
            details={
                k: ["Write something."]
                for k, v in (("title", title), ("message", message))
                if not v.strip()
            },
        )
    area = area_checked(lat=lat, long=long, radius_m=radius_m, polygon=polygon)
    with transaction.atomic():
        alert = Alert.objects.create(
            topic=topic,
            title=title.strip(),
            message=message.strip(),
            fanout=Alert.FanOut.PENDING,
            published_at=clock.now(),
            **area_fields_of(area),
        )
        from townhall.notify.tasks import alert_fan_out_task  # tasks import this module

        transaction.on_commit(lambda: alert_fan_out_task.enqueue(alert_id=alert.pk))
    return alert


@dataclass(frozen=True)
class _Candidate:
    """What the fan-out reads of a subscription (plain values: 100,000 model instances
    would cost more than the inserts)."""

    pk: int
    citizen_id: int
    channel: str
    area: Area
    language: str
    name: str


def _candidates(alert: Alert, after: int, batch: int) -> list[_Candidate]:
    qs = AlertSubscription.objects.filter(active=True, pk__gt=after).filter(
        Q(topic=alert.topic) | Q(topic__isnull=True)
    )
    if alert.min_lat is not None:
        # Bounding boxes must overlap; subscriptions without one cover everywhere.
        qs = qs.filter(
            Q(min_lat__isnull=True)
            | Q(
                min_lat__lte=alert.max_lat,
                max_lat__gte=alert.min_lat,
                min_long__lte=alert.max_long,
                max_long__gte=alert.min_long,
            )
        )
    rows = qs.order_by("pk").values_list(
        "pk",
        "citizen_id",
        "channel",
        "lat",
        "long",
        "radius_m",
        "polygon",
        "citizen__preferred_language",
        "citizen__display_name",
    )[:batch]
    return [
        _Candidate(
            pk=pk,
            citizen_id=citizen_id,
            channel=channel,
            area=area_from(lat=lat, long=long, radius_m=radius_m, polygon=polygon),
            language=language or settings.LANGUAGE_CODE,
            name=name or "resident",
        )
        for pk, citizen_id, channel, lat, long, radius_m, polygon, language, name in rows
    ]


class _Texts:
    """Rendered alert texts per channel and language; per resident only if personalised."""

    def __init__(self, alert: Alert) -> None:
        self.alert = alert
        self._templates: dict[tuple[str, str], tuple[str, str, str, bool]] = {}
        self._rendered: dict[tuple[str, str], tuple[str, str]] = {}

    def for_(self, candidate: _Candidate) -> tuple[str, str, str]:
        key = (candidate.channel, candidate.language)
        if key not in self._templates:
            t = notification_template_get(
                kind=NotificationKind.ALERT, channel=candidate.channel, language=candidate.language
            )
            used = placeholders_used(t.subject + t.body)
            # A link that stops this one subscription is per resident, as a name is.
            personal = bool({"name", "unsubscribe_url"} & used)
            self._templates[key] = (t.subject, t.body, t.language, personal)
        subject_t, body_t, language, personal = self._templates[key]
        if personal or key not in self._rendered:
            values = {
                "title": self.alert.title,
                "message": self.alert.message,
                "name": candidate.name,
                "unsubscribe_url": subscription_stop_url(what="alerts", pk=candidate.pk),
            }
            body = template_render(body_t, values)
            rendered = (
                template_render(subject_t, values),
                sms_fit(body) if candidate.channel == NotifyChannel.SMS else body,
            )
            if personal:
                return (*rendered, language)
            self._rendered[key] = rendered
        return (*self._rendered[key], language)


def alert_fan_out(*, alert_id: int, batch: int = FANOUT_BATCH) -> int:
    """Queue the alert for every matching subscriber, a batch per transaction; return the
    number queued by this call. Safe to run again after a crash: it resumes at its cursor."""
    alert = Alert.objects.select_related("topic").get(pk=alert_id)
    area = area_from(lat=alert.lat, long=alert.long, radius_m=alert.radius_m, polygon=alert.polygon)
    texts = _Texts(alert)
    queued = 0
    while alert.fanout == Alert.FanOut.PENDING:
        candidates = _candidates(alert, alert.fanout_cursor, batch)
        if not candidates:
            Alert.objects.filter(pk=alert.pk).update(fanout=Alert.FanOut.DONE)
            alert.fanout = Alert.FanOut.DONE
            break
        matching = [c for c in candidates if areas_meet(area, c.area)]
        addresses = _addresses(matching)
        opted_out = set(
            OptOut.objects.filter(citizen_id__in={c.citizen_id for c in matching}).values_list(
                "citizen_id", "channel"
            )
        )
        now = clock.now()
        rows = RowsLike(
            Notification(
                kind=NotificationKind.ALERT,
                status=NotificationStatus.QUEUED,
                next_attempt_at=now,
                created_at=now,
                body="",
            ),
            varying=("key", "channel", "language", "citizen", "to", "subject", "body", "status"),
        )
        for c in matching:
            subject, body, language = texts.for_(c)
            rows.add(
                f"alert:{alert.pk}:citizen:{c.citizen_id}:{c.channel}",
                c.channel,
                language,
                c.citizen_id,
                addresses.get((c.citizen_id, c.channel), str(c.citizen_id)),
                subject,
                body,
                NotificationStatus.SUPPRESSED
                if (c.citizen_id, c.channel) in opted_out
                else NotificationStatus.QUEUED,
            )
        with transaction.atomic():
            rows.insert()
            alert.fanout_cursor = candidates[-1].pk
            alert.recipients += len(rows)
            Alert.objects.filter(pk=alert.pk).update(
                fanout_cursor=alert.fanout_cursor, recipients=alert.recipients
            )
            enqueue_once_on_commit(_send_task())
        queued += len(rows)
    logger.info(
        "alert %s fanned out: %d queued by this run, %d in all", alert.pk, queued, alert.recipients
    )
    return queued


def _send_task() -> Any:
    from townhall.notify.tasks import notification_send_due_task

    return notification_send_due_task


def _addresses(subs: Sequence[_Candidate]) -> dict[tuple[int, str], str]:
    kinds = {NotifyChannel.EMAIL: ContactKind.EMAIL, NotifyChannel.SMS: ContactKind.PHONE}
    wanted = {s.citizen_id for s in subs if s.channel in kinds}
    found: dict[tuple[int, str], str] = {}
    for citizen_id, kind, value in ContactPoint.objects.filter(
        citizen_id__in=wanted, kind__in=[ContactKind.EMAIL, ContactKind.PHONE]
    ).values_list("citizen_id", "kind", "value"):
        channel = NotifyChannel.EMAIL if kind == ContactKind.EMAIL else NotifyChannel.SMS
        found.setdefault((citizen_id, channel), value)
    return found
