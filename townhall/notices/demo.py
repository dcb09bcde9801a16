"""The demo town's notices (`townhall demo`): road works on one of its streets, a product
recall with a few batch codes, and a draft for the console. Made through the services
(so chained); a notice whose title is already there is not made again."""

from __future__ import annotations

from datetime import timedelta

from townhall.core import clock
from townhall.notices.imports import recall_codes_import
from townhall.notices.models import Notice
from townhall.notices.services import notice_create, notice_publish
from townhall.notify.alerts import alert_topic_ensure

ROAD_WORKS_TITLE = "Main Street resurfacing"
RECALL_TITLE = "Millbrook Dairy whole milk recall"
DRAFT_TITLE = "Water off on Elm Street"
# Batch codes of the demo recall; `MB-2026-0412` is the one to try on its page.
RECALL_CODES = ["MB-2026-0412", "MB-2026-0413", "MB-2026-0414", "L2026-118A", "L2026-119A"]


def demo_notices_load(*, near: tuple[float, float], elsewhere: tuple[float, float]) -> int:
    """Make the demo notices that are missing: road works in a 300 m circle around `near`,
    a recall for everywhere (published, with RECALL_CODES), a water notice draft around
    `elsewhere`. Return how many were made."""
    if Notice.objects.filter(title__in=[ROAD_WORKS_TITLE, RECALL_TITLE, DRAFT_TITLE]).exists():
        return 0
    now = clock.now()
    roadworks = alert_topic_ensure(code="roadworks", name="Road works and closures")
    recalls = alert_topic_ensure(code="recalls", name="Product recalls and safety notices")
    works = notice_create(
        kind="road_works",
        topic=roadworks,
        title=ROAD_WORKS_TITLE,
        body="Main Street is resurfaced one lane at a time; expect delays near the works.",
        advice="Allow extra time, or use Elm Street. Parking is suspended on the works.",
        title_es="Repavimentación de Main Street",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=14),
        lat=near[0],
        long=near[1],
        radius_m=300,
    )
    notice_publish(works.pk)
    recall = notice_create(
        kind="recall",
        topic=recalls,
        title=RECALL_TITLE,
        body="Some cartons of Millbrook Dairy whole milk, 1 gallon, may not be pasteurised.",
        advice="Do not drink it. Pour it away and take the carton back for a refund.",
        product="Millbrook Dairy whole milk, 1 gallon",
        product_es="Leche entera Millbrook Dairy, 1 galón",
    )
    recall_codes_import(recall.pk, enumerate(RECALL_CODES, start=1))
    notice_publish(recall.pk)
    notice_create(
        kind="disruption",
        topic=roadworks,
        title=DRAFT_TITLE,
        body="The water main on Elm Street is replaced; the water is off from 9am to 3pm.",
        advice="Fill a kettle and a few bottles the evening before.",
        starts_at=now + timedelta(days=7),
        ends_at=now + timedelta(days=7, hours=6),
        lat=elsewhere[0],
        long=elsewhere[1],
        radius_m=250,
    )
    return 3
