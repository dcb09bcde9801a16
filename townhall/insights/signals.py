"""The KPIs the facts do not hold: abandonment (journey signals) and assistant containment.

Signals and conversations know when and through which channel, not the department,
service or area of a request never sent: with any of those filters these KPIs are None.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q

from townhall.assistant.selectors import assistant_metrics
from townhall.experience.models import JourneySignal, SignalKind
from townhall.people.models import Channel

if TYPE_CHECKING:
    from townhall.insights.kpis import KpiFilters

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def signal_kpis(filters: KpiFilters, web_volume: int | None) -> dict[str, Any]:
    """abandoned_forms, chats_abandoned, abandonment_rate and assistant_containment.

    `web_volume` is the number of reports sent through the web portal under `filters`:
    abandonment_rate = abandoned forms / (abandoned forms + reports sent on the web).
    """
    from townhall.insights.kpis import local_midnight, period_q, share, today

    none: dict[str, Any] = dict.fromkeys(
        ("abandoned_forms", "chats_abandoned", "abandonment_rate", "assistant_containment")
    )
    if filters.has_case_filters:
        return none
    signals = JourneySignal.objects.filter(period_q(filters, "at"))
    if filters.channel:
        signals = signals.filter(channel=filters.channel)
    counts = signals.aggregate(
        forms=Count("id", filter=Q(kind=SignalKind.ABANDONED_FORM)),
        chats=Count("id", filter=Q(kind=SignalKind.CHAT_ABANDONED)),
    )
    values = dict(none)
    values["abandoned_forms"] = counts["forms"]
    values["chats_abandoned"] = counts["chats"]
    if not filters.channel or filters.channel == Channel.WEB:
        values["abandonment_rate"] = share(counts["forms"], counts["forms"] + (web_volume or 0))
    if not filters.channel or filters.channel == Channel.ASSISTANT:
        since = local_midnight(filters.date_from) if filters.date_from else EPOCH
        last = filters.date_to or today()
        until = local_midnight(last + dt.timedelta(days=1))
        metrics = assistant_metrics(since=since, until=until)
        values["assistant_containment"] = metrics["containment_rate"]
    return values
