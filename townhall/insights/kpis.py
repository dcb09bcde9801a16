"""Every KPI, one function each, over `CaseFact` (docs/kpis.md defines them).

The public interface other modules (console dashboards, exports, the CLI) use:

- `KpiFilters`: period, department, service, channel, area (all optional);
- `kpis_compute(filters) -> dict[str, float | int | None]`: every KPI by its documented
  key (`volume`, `digital_share`, `sla_compliance`, ...);
- `kpi_breakdown(filters, by) -> list[dict]`: the same KPIs per department, service,
  channel, area or day (`by` one of BREAKDOWNS);
- `kpi_facts(filters, key)`: the facts behind one KPI's figure (the drill-down).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from townhall.insights.models import CaseFact

BREAKDOWNS = ("department", "service", "channel", "area", "day", "week", "month")


@dataclass(frozen=True)
class KpiFilters:
    """Which requests count: opened in [date_from, date_to] and matching every filter set."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    department_id: int | None = None
    service_type_id: int | None = None
    channel: str = ""
    area: str = ""


def kpis_compute(filters: KpiFilters) -> dict[str, Any]:
    """Return every KPI for `filters`, keyed as in docs/kpis.md."""
    raise NotImplementedError  # the KPI owner replaces this


def kpi_breakdown(filters: KpiFilters, by: str) -> list[dict[str, Any]]:
    """Return one row per group (`by` in BREAKDOWNS): {"key", "label", **kpis}."""
    raise NotImplementedError


def kpi_facts(filters: KpiFilters, key: str) -> QuerySet[CaseFact]:
    """Return the facts counted by KPI `key` under `filters` (the drill-down)."""
    raise NotImplementedError
