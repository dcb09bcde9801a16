"""Alerts: subscribe by topic and area, publish, fan out once to each matching resident."""

from __future__ import annotations

from typing import Any

import pytest

from townhall.core.errors import ValidationFailed
from townhall.notify.alerts import alert_fan_out, alert_publish, alert_subscribe
from townhall.notify.models import Alert, AlertTopic, Notification, OptOut
from townhall.people.services import citizen_resolve

pytestmark = pytest.mark.django_db
HOME = (42.3601, -71.0942)
FAR = (42.41, -71.19)


@pytest.fixture
def roadworks(db: None) -> AlertTopic:
    return AlertTopic.objects.create(code="roadworks", name="Road works")


@pytest.fixture
def recalls(db: None) -> AlertTopic:
    return AlertTopic.objects.create(code="recalls", name="Product recalls")


def person(n: int, **extra: Any) -> Any:
    return citizen_resolve(name=f"Resident {n}", email=f"r{n}@example.org", **extra)


def test_an_alert_reaches_matching_topic_and_area_only(
    roadworks: AlertTopic, recalls: AlertTopic, django_capture_on_commit_callbacks: Any
) -> None:
    near, far, other_topic, everything = person(1), person(2), person(3), person(4)
    alert_subscribe(
        citizen=near, channel="email", topic=roadworks, lat=HOME[0], long=HOME[1], radius_m=300
    )
    alert_subscribe(
        citizen=far, channel="email", topic=roadworks, lat=FAR[0], long=FAR[1], radius_m=300
    )
    alert_subscribe(citizen=other_topic, channel="email", topic=recalls)
    alert_subscribe(citizen=everything, channel="email")
    with django_capture_on_commit_callbacks(execute=False):
        alert = alert_publish(
            topic=roadworks,
            title="Main Street closed",
            message="Closed between Elm and Oak until 6pm.",
            lat=HOME[0],
            long=HOME[1],
            radius_m=200,
        )
    assert alert_fan_out(alert_id=alert.pk) == 2
    messages = Notification.objects.order_by("to")
    assert [m.to for m in messages] == ["r1@example.org", "r4@example.org"]
    assert all("Main Street closed" in m.subject + m.body for m in messages)
    alert.refresh_from_db()
    assert (alert.fanout, alert.recipients) == ("done", 2)


def test_fan_out_resumes_where_it_stopped_and_never_repeats(roadworks: AlertTopic) -> None:
    people = [person(i) for i in range(7)]
    for p in people:
        alert_subscribe(citizen=p, channel="email", topic=roadworks)
    alert = alert_publish(topic=roadworks, title="Water off", message="Until noon.")
    # a worker that handled the first batch and died before finishing
    Alert.objects.filter(pk=alert.pk).update(fanout="pending")
    alert_fan_out(alert_id=alert.pk, batch=3)
    Alert.objects.filter(pk=alert.pk).update(fanout="pending", fanout_cursor=0)
    alert_fan_out(alert_id=alert.pk, batch=3)  # run again from scratch: keys forbid repeats
    assert Notification.objects.count() == 7
    assert Notification.objects.values("citizen").distinct().count() == 7


def test_opted_out_subscribers_are_recorded_but_not_sent(roadworks: AlertTopic) -> None:
    quiet = person(1)
    alert_subscribe(citizen=quiet, channel="email", topic=roadworks)
    OptOut.objects.create(citizen=quiet, channel="email", via="link")
    alert = alert_publish(topic=roadworks, title="T", message="M")
    alert_fan_out(alert_id=alert.pk)
    assert Notification.objects.get().status == "suppressed"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"polygon": [[1, 2], [3, 4]]}, "polygon"),
        ({"lat": 95.0, "long": 0.0}, "location"),
        ({"lat": 42.0}, "location"),
        ({"lat": 42.0, "long": -71.0, "radius_m": 90_000}, "radius_m"),
    ],
)
def test_a_malformed_area_is_refused(
    roadworks: AlertTopic, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as info:
        alert_publish(topic=roadworks, title="T", message="M", **kwargs)
    assert field in info.value.details
    assert not Alert.objects.exists()


def test_subscribing_by_text_needs_a_phone(roadworks: AlertTopic) -> None:
    with pytest.raises(ValidationFailed):
        alert_subscribe(citizen=person(1), channel="sms", topic=roadworks)
    texter = citizen_resolve(name="T", phone="617-555-0177")
    assert alert_subscribe(citizen=texter, channel="sms", topic=roadworks).pk
