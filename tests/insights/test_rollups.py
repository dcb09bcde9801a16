"""The roll-ups give the facts' figures: exactly, except percentiles (within 2^(1/4))."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.utils import timezone

from tests.insights.kpi_data import DAY1, DAY2, T2, H, build
from townhall.insights.kpis import KPI_KEYS, KpiFilters, kpi_breakdown, kpis_compute
from townhall.insights.models import ROLLUP_EDGES, CaseFact, DailyRollup
from townhall.insights.rollups import (
    bucket_percentile,
    rollups_built,
    rollups_cover,
    rollups_refresh,
)

PERCENTILES = {k for k in KPI_KEYS if k.endswith("_hours")}
ERROR = 2**0.25  # the stated bucket error: a factor of 1.19 either way


def assert_same(exact: dict[str, Any], rolled: dict[str, Any]) -> None:
    for key in KPI_KEYS:
        if key in PERCENTILES and exact[key] is not None:
            assert exact[key] / ERROR - 0.01 <= rolled[key] <= exact[key] * ERROR + 0.01, key
        else:
            assert rolled[key] == exact[key], key


@pytest.fixture
def facts(pothole: Any, no_heat: Any) -> dict[str, Any]:
    built = build(pothole, no_heat)
    assert not rollups_built()
    rollups_refresh()
    assert rollups_built()
    return built


def test_rollups_match_the_facts_for_every_filter(
    facts: dict[str, Any], pothole: Any, no_heat: Any
) -> None:
    dep, svc = pothole.department_id, no_heat.pk
    # Every grouping (no filter, each one alone, pairs, all four) over four periods.
    dims: list[dict[str, Any]] = [
        {},
        {"department_id": dep},
        {"service_type_id": svc},
        {"channel": "web"},
        {"channel": "other"},
        {"area": "02139"},
        {"department_id": dep, "area": "02139"},
        {"service_type_id": svc, "channel": "email"},
        {"department_id": no_heat.department_id, "channel": "counter", "area": ""},
        {"department_id": dep, "service_type_id": pothole.pk, "channel": "web", "area": "02139"},
        {"department_id": dep, "service_type_id": svc},  # matches nothing
    ]
    periods = [(None, None), (DAY1, DAY1), (DAY2, DAY2), (DAY1, DAY2)]
    for (first, last), chosen in itertools.product(periods, dims):
        f = KpiFilters(date_from=first, date_to=last, **chosen)
        assert_same(kpis_compute(f, use_rollups=False), kpis_compute(f, use_rollups=True))


def test_percentiles_read_off_buckets(facts: dict[str, Any]) -> None:
    rolled = kpis_compute(KpiFilters(), use_rollups=True)
    # 2 h = 7200 s is edge 6 exactly (900 x 2^3), so it falls in bucket 7, [2 h, 2.83 h):
    # read as its geometric middle 2 h x 2^(1/4) = 2.38 h.
    assert rolled["time_to_acknowledge_p50_hours"] == 2.38
    # 30 h = 0.25 h x 2^6.91 lies between edges 13 and 14, [0.25 h x 2^6.5, 0.25 h x 2^7)
    # = [22.63 h, 32 h): read as 22.63 h x 2^(1/4) = 26.91 h (10 % under the exact 30 h).
    assert rolled["time_to_resolve_p50_hours"] == 26.91
    assert bucket_percentile([0] * 32, 0, 0.5) is None
    assert bucket_percentile([1] * 32, 1, 0.5) == 0.12  # under 15 min: 7.5 min
    assert bucket_percentile([0] * 32, 1, 0.9) == round(ROLLUP_EDGES[-1] / 3600, 2)


def test_breakdowns_match(facts: dict[str, Any]) -> None:
    period = KpiFilters(date_from=DAY1, date_to=DAY2)
    for by in ("department", "service", "channel", "area", "day", "week", "month"):
        exact = kpi_breakdown(period, by, use_rollups=False)
        rolled = kpi_breakdown(period, by, use_rollups=True)
        assert [r["key"] for r in rolled] == [r["key"] for r in exact], by
        assert [r["label"] for r in rolled] == [r["label"] for r in exact], by
        for e, r in zip(exact, rolled, strict=True):
            assert_same(e, r)


def test_incremental_refresh_rebuilds_only_the_days_touched(
    facts: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from townhall.insights import rollups

    monkeypatch.setattr(rollups, "OVERLAP_IDS", 0)
    monkeypatch.setattr(rollups, "OVERLAP_TIME", dt.timedelta(0))
    CaseFact.objects.update(updated_at=timezone.now() - dt.timedelta(days=1))
    assert rollups_refresh() == 0  # nothing changed since
    day1_rows = set(DailyRollup.objects.filter(day=DAY1).values_list("id", flat=True))
    day2_rows = set(DailyRollup.objects.filter(day=DAY2).values_list("id", flat=True))
    # F4 (DAY2) is closed within its due time.
    CaseFact.objects.filter(pk=facts["F4"].pk).update(
        status="closed",
        closed_at=T2 + 20 * H,
        due_at=T2 + 24 * H,
        updated_at=timezone.now() + dt.timedelta(seconds=1),
    )
    assert rollups_refresh() == 1
    assert set(DailyRollup.objects.filter(day=DAY1).values_list("id", flat=True)) == day1_rows
    assert not set(DailyRollup.objects.filter(day=DAY2).values_list("id", flat=True)) & day2_rows
    exact = kpis_compute(KpiFilters(), use_rollups=False)
    assert exact["sla_compliance"] == round(2 / 3, 4)  # F1 and now F4 on time, F3 late
    assert exact["backlog"] == 1
    assert_same(exact, kpis_compute(KpiFilters(), use_rollups=True))


def test_new_facts_are_picked_up_and_full_rebuild_is_the_same(facts: dict[str, Any]) -> None:
    CaseFact.objects.create(
        source="imported", system="boston", external_id="b-2", status="new", opened_at=T2
    )
    rollups_refresh()
    assert kpis_compute(KpiFilters(), use_rollups=True)["volume"] == 6
    before = sorted(DailyRollup.objects.values_list("grouping", "day", "volume", "open"))
    rollups_refresh(full=True)
    assert sorted(DailyRollup.objects.values_list("grouping", "day", "volume", "open")) == before
    # One all-dimensions-summed row a day; no grouping of three or four dimensions.
    assert DailyRollup.objects.filter(grouping=0).count() == 2
    assert set(DailyRollup.objects.values_list("grouping", flat=True)) == {
        0,
        1,
        2,
        4,
        8,
        3,
        5,
        6,
        9,
        10,
        12,
    }


def test_three_dimensions_read_the_facts(facts: dict[str, Any], pothole: Any) -> None:
    three = KpiFilters(department_id=pothole.department_id, channel="web", area="02139")
    assert not rollups_cover(three)
    assert rollups_cover(KpiFilters(department_id=pothole.department_id, channel="web"))
    assert not rollups_cover(KpiFilters(department_id=1, channel="web"), "area")
    # F1 only: its exact 1 h, not a bucket's middle.
    assert kpis_compute(three, use_rollups=True)["time_to_acknowledge_p50_hours"] == 1.0
    by_area = kpi_breakdown(
        KpiFilters(department_id=pothole.department_id, channel="web"), "area", use_rollups=True
    )
    assert [(r["key"], r["time_to_acknowledge_p50_hours"]) for r in by_area] == [("02139", 1.0)]


def test_kpis_compute_reads_rollups_once_built(facts: dict[str, Any]) -> None:
    # A fact written after the last refresh is not seen until the next one (stale by at
    # most the refresh interval, 5 min), which shows which reader answered.
    CaseFact.objects.create(source="live", status="new", channel="web", opened_at=T2)
    assert kpis_compute(KpiFilters())["volume"] == 5
    assert kpis_compute(KpiFilters(), use_rollups=False)["volume"] == 6


def test_an_empty_period_from_the_rollups_is_none(facts: dict[str, Any]) -> None:
    empty = KpiFilters(date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 1, 31))
    rolled = kpis_compute(empty, use_rollups=True)
    assert_same(kpis_compute(empty, use_rollups=False), rolled)
    assert rolled["volume"] == 0 and rolled["sla_compliance"] is None
    assert rolled["time_to_resolve_p90_hours"] is None and rolled["backlog_age_max_days"] is None
    assert kpi_breakdown(empty, "month", use_rollups=True) == []
