"""Hand-built facts whose KPIs are worked out by hand in tests/insights/test_kpis.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from townhall.experience.models import JourneySignal, SignalKind
from townhall.insights.kpis import local_midnight
from townhall.insights.models import CaseFact

DAY1 = dt.date(2026, 3, 2)
DAY2 = dt.date(2026, 3, 3)
T1 = local_midnight(DAY1) + dt.timedelta(hours=9)  # 09:00 local on DAY1
T2 = T1 + dt.timedelta(days=1)  # 09:00 local on DAY2
H = dt.timedelta(hours=1)


def fact(**values: Any) -> CaseFact:
    row: dict[str, Any] = {"source": "live", "status": "new", "channel": "web"}
    row.update(values)
    return CaseFact.objects.create(**row)


def build(pothole: Any, no_heat: Any) -> dict[str, CaseFact]:
    """F1..F5 (see test_kpis for every figure) and three journey signals."""
    p = {"service_type": pothole, "department": pothole.department}
    n = {"service_type": no_heat, "department": no_heat.department}
    facts = {
        # web, closed on time (10 h < due 24 h), acknowledged after 1 h: first contact.
        "F1": fact(
            **p,
            channel="web",
            area="02139",
            status="closed",
            opened_at=T1,
            acknowledged_at=T1 + 1 * H,
            resolved_at=T1 + 10 * H,
            closed_at=T1 + 10 * H,
            due_at=T1 + 24 * H,
            staff_minutes=30,
            csat=5,
            nps=10,
        ),
        # phone, resolved (not closed) after 30 h, transferred once: not first contact.
        "F2": fact(
            **p,
            channel="phone",
            area="02139",
            status="resolved",
            opened_at=T1,
            acknowledged_at=T1 + 2 * H,
            resolved_at=T1 + 30 * H,
            due_at=T1 + 24 * H,
            transfer_count=1,
            staff_minutes=90,
            csat=3,
            nps=6,
        ),
        # e-mail, DAY2, closed late (50 h > due 48 h), reopened once.
        "F3": fact(
            **n,
            channel="email",
            area="02140",
            status="closed",
            opened_at=T2,
            acknowledged_at=T2 + 4 * H,
            resolved_at=T2 + 50 * H,
            closed_at=T2 + 50 * H,
            due_at=T2 + 48 * H,
            reopen_count=1,
            nps=9,
        ),
        # at the counter, DAY2, still in progress, never acknowledged.
        "F4": fact(**n, channel="counter", status="in_progress", opened_at=T2, staff_minutes=60),
        # imported, channel unknown, DAY1, still new.
        "F5": fact(
            **p,
            source="imported",
            system="boston",
            external_id="b-1",
            channel="other",
            area="02139",
            status="new",
            opened_at=T1,
        ),
    }
    JourneySignal.objects.create(kind=SignalKind.ABANDONED_FORM, at=T1, channel="web")
    JourneySignal.objects.create(kind=SignalKind.ABANDONED_FORM, at=T1 + H, channel="web")
    JourneySignal.objects.create(kind=SignalKind.CHAT_ABANDONED, at=T2, channel="assistant")
    # Outside every period the tests ask for, except "everything".
    JourneySignal.objects.create(
        kind=SignalKind.ABANDONED_FORM, at=T1 - dt.timedelta(days=400), channel="web"
    )
    return facts
