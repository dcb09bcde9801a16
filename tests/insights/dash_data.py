"""Facts for the dashboard and export tests: live ones (with their case) and imported ones."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from townhall.cases.services import case_open
from townhall.insights.models import CaseFact

NOW = timezone.now()


def fact(service: Any, **extra: Any) -> CaseFact:
    """An imported fact of `service` (its department), opened a day ago unless told."""
    values: dict[str, Any] = {
        "source": "imported",
        "system": "boston",
        "external_id": f"B{CaseFact.objects.count() + 1}",
        "service_type": service,
        "service_name": service.name,
        "department": service.department,
        "department_name": service.department.name,
        "channel": "web",
        "area": "Ward 1",
        "status": "new",
        "opened_at": NOW - dt.timedelta(days=1),
    }
    values.update(extra)
    return CaseFact.objects.create(**values)


def live_fact(service: Any, description: str = "Deep hole", **extra: Any) -> CaseFact:
    """A live case of `service` and its fact."""
    answers = {"size": "small"} if service.code == "pothole" else {}
    case = case_open(
        service_type=service,
        channel=extra.pop("channel", "web"),
        answers=answers,
        description=description,
        lat=extra.get("lat"),
        long=extra.get("long"),
    )
    return fact(
        service,
        source="live",
        case=case,
        system="",
        external_id="",
        channel=case.channel,
        opened_at=case.opened_at,
        **extra,
    )
