"""Fixtures shared by the notices tests: topics, residents, a road works notice and a
recall with a few codes, all made through the services."""

from __future__ import annotations

from typing import Any

import pytest

from townhall.notices.imports import recall_codes_import
from townhall.notices.services import notice_create, notice_publish
from townhall.notify.alerts import alert_topic_ensure
from townhall.notify.models import AlertTopic
from townhall.people.services import citizen_resolve

HOME = (42.3601, -71.0942)
FAR = (42.41, -71.19)
RECALL_CODES = ["AB-123 45", "ab12346", "LOT 2024-07-X9"]


def person(n: int, **extra: Any) -> Any:
    return citizen_resolve(name=f"Resident {n}", email=f"r{n}@example.org", **extra)


@pytest.fixture
def roadworks(db: None) -> AlertTopic:
    return alert_topic_ensure(code="roadworks", name="Road works")


@pytest.fixture
def recalls(db: None) -> AlertTopic:
    return alert_topic_ensure(code="recalls", name="Product recalls")


def road_works_draft(topic: AlertTopic, **extra: Any) -> Any:
    values: dict[str, Any] = {
        "kind": "road_works",
        "topic": topic,
        "title": "Main Street closed",
        "body": "Closed between Elm and Oak for resurfacing.",
        "advice": "Use Oak Avenue instead.",
        "title_es": "Calle Mayor cerrada",
        "lat": HOME[0],
        "long": HOME[1],
        "radius_m": 200,
    }
    return notice_create(**{**values, **extra})


@pytest.fixture
def recall(recalls: AlertTopic) -> Any:
    """A published recall of peanut butter with three affected codes."""
    notice = notice_create(
        kind="recall",
        topic=recalls,
        title="Peanut butter recall",
        body="Some jars of Smooth Peanut Butter 340 g may contain glass.",
        advice="Do not eat it. Return it to the shop for a full refund.",
        advice_es="No lo coma. Devuélvalo a la tienda y le devolverán el dinero.",
        product="Smooth Peanut Butter 340 g",
        product_es="Crema de cacahuete 340 g",
    )
    recall_codes_import(notice.pk, enumerate(RECALL_CODES, start=1))
    return notice_publish(notice.pk)
