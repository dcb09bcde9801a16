"""Notices: draft → published → withdrawn/expired, pushed once through notify's alerts to
the subscribers of the topic in the area only, and shown to the public only while live."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.notices.conftest import FAR, HOME, person, road_works_draft
from townhall.core import clock
from townhall.core.errors import ValidationFailed
from townhall.notices.models import Notice, NoticeEvent
from townhall.notices.selectors import notice_public_get, notices_near, notices_public
from townhall.notices.services import (
    notice_publish,
    notice_update,
    notice_withdraw,
    notices_expire,
)
from townhall.notify.alerts import alert_fan_out, alert_subscribe
from townhall.notify.models import AlertTopic, Notification

pytestmark = pytest.mark.django_db


def test_publishing_pushes_to_subscribers_in_the_area_only(
    roadworks: AlertTopic, recalls: AlertTopic, django_capture_on_commit_callbacks: Any
) -> None:
    near, far, other_topic = person(1), person(2), person(3)
    alert_subscribe(
        citizen=near, channel="email", topic=roadworks, lat=HOME[0], long=HOME[1], radius_m=300
    )
    alert_subscribe(
        citizen=far, channel="email", topic=roadworks, lat=FAR[0], long=FAR[1], radius_m=300
    )
    alert_subscribe(citizen=other_topic, channel="email", topic=recalls)
    draft = road_works_draft(roadworks)
    assert Notification.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notice = notice_publish(draft.pk)
    assert len(callbacks) == 1  # the fan-out task, after commit
    assert notice.alert is not None
    assert alert_fan_out(alert_id=notice.alert.pk) == 1
    (sent,) = Notification.objects.all()
    assert sent.to == "r1@example.org"
    assert "Main Street closed" in sent.subject + sent.body
    assert f"/notices/{notice.pk}/" in sent.body
    # Publishing again is refused: one notice, one push.
    with pytest.raises(ValidationFailed):
        notice_publish(draft.pk)


def test_drafts_are_invisible_and_withdrawn_notices_disappear(roadworks: AlertTopic) -> None:
    draft = road_works_draft(roadworks)
    assert notices_public() == []
    assert notice_public_get(notice_id=draft.pk) is None
    assert notices_near(lat=HOME[0], long=HOME[1]) == []
    notice_publish(draft.pk)
    assert [n.title for n in notices_public()] == ["Main Street closed"]
    assert [n.title for n in notices_near(lat=HOME[0], long=HOME[1])] == ["Main Street closed"]
    assert notices_near(lat=FAR[0], long=FAR[1]) == []
    assert notices_near(lat=HOME[0], long=HOME[1], topics=["recalls"]) == []
    assert notice_public_get(notice_id=draft.pk, language="es").title == "Calle Mayor cerrada"  # type: ignore[union-attr]
    notice_withdraw(draft.pk, reason="Works postponed")
    assert notices_public() == []
    assert notice_public_get(notice_id=draft.pk) is None
    with pytest.raises(ValidationFailed):
        notice_update(draft.pk, title="Changed")
    kinds = list(NoticeEvent.objects.filter(notice=draft).values_list("kind", flat=True))
    assert kinds == ["created", "published", "withdrawn"]


def test_ended_notices_are_hidden_and_expire(roadworks: AlertTopic) -> None:
    now = clock.now()
    notice = road_works_draft(roadworks, ends_at=now + timedelta(hours=1))
    notice_publish(notice.pk)
    assert len(notices_public()) == 1
    assert notices_expire(now=now + timedelta(hours=2)) == 1
    assert Notice.objects.get(pk=notice.pk).status == "expired"
    assert notices_public() == []


def test_a_notice_for_everywhere_is_near_every_address(roadworks: AlertTopic) -> None:
    notice = road_works_draft(roadworks, lat=None, long=None, radius_m=None, title="Water off")
    notice_publish(notice.pk)
    assert [n.title for n in notices_near(lat=FAR[0], long=FAR[1])] == ["Water off"]


@pytest.mark.parametrize(
    "bad",
    [
        {"title": "  "},
        {"lat": 91.0},
        {"lat": HOME[0], "long": None},
        {"polygon": [[1.0, 2.0]]},
        {"kind": "nonsense"},
        {"kind": "recall"},  # without a product
    ],
)
def test_bad_notices_are_refused(roadworks: AlertTopic, bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        road_works_draft(roadworks, **bad)
    assert Notice.objects.count() == 0


def test_expiry_is_scheduled(settings: Any) -> None:
    from django.utils.module_loading import import_string

    paths = [path for path, _every in settings.TOWNHALL_PERIODIC_TASKS]
    assert "townhall.notices.tasks.notices_expire_task" in paths
    assert import_string("townhall.notices.tasks.notices_expire_task").call() == 0
