"""Every KPI on hand-built facts (tests/insights/kpi_data.py), worked out by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.insights.kpi_data import DAY1, DAY2, build
from townhall.insights import kpis as k
from townhall.insights.kpis import KPI_KEYS, KpiFilters, kpi_breakdown, kpi_facts, kpis_compute

PERIOD = KpiFilters(date_from=DAY1, date_to=DAY2)


@pytest.fixture
def facts(pothole: Any, no_heat: Any) -> dict[str, Any]:
    return build(pothole, no_heat)


def test_every_kpi_by_hand(facts: dict[str, Any]) -> None:
    v = kpis_compute(PERIOD, use_rollups=False)
    assert list(v) == list(KPI_KEYS)
    # F1..F5 all opened on DAY1 or DAY2.
    assert v["volume"] == 5
    # Known channels: F1 web, F2 phone, F3 email, F4 counter (F5 "other" left out);
    # digital: web + email = 2 of 4.
    assert v["digital_share"] == 0.5
    # Resolved or closed: F1, F2, F3; only F1 has no transfer, reopen or repeat: 1/3.
    assert v["first_contact_resolution"] == 0.3333
    # Closed with a due date: F1 (10 h <= 24 h) and F3 (50 h > 48 h): 1/2.
    assert v["sla_compliance"] == 0.5
    # Acknowledged after 1, 2, 4 h: p50 = 2nd of 3 (ceil 1.5), p90 = 3rd (ceil 2.7).
    assert v["time_to_acknowledge_p50_hours"] == 2.0
    assert v["time_to_acknowledge_p90_hours"] == 4.0
    # Resolved after 10, 30 (F2 resolved_at), 50 h.
    assert v["time_to_resolve_p50_hours"] == 30.0
    assert v["time_to_resolve_p90_hours"] == 50.0
    # Open: F4 (in progress, DAY2) and F5 (new, DAY1).
    assert v["backlog"] == 2
    age1, age2 = (k.today() - DAY1).days, (k.today() - DAY2).days
    assert v["backlog_age_avg_days"] == round((age1 + age2) / 2, 1)
    assert v["backlog_age_max_days"] == age1
    # Live F1..F4: (30 + 90 + 0 + 60) min = 3 h over 4 requests.
    assert v["staff_hours_per_request"] == 0.75
    # CSAT 5 and 3.
    assert v["csat"] == 4.0
    # NPS 10 and 9 promote, 6 detracts: 100 x (2 - 1) / 3.
    assert v["nps"] == 33.3
    # Resolved at least once: F1, F2, F3; reopened: F3.
    assert v["reopen_rate"] == 0.3333
    # Two forms abandoned in the period; one web report sent: 2 / (2 + 1).
    assert v["abandoned_forms"] == 2
    assert v["abandonment_rate"] == 0.6667
    assert v["chats_abandoned"] == 1
    # No assistant conversation at all.
    assert v["assistant_containment"] is None


def test_the_functions_take_any_queryset(facts: dict[str, Any]) -> None:
    qs = k.CaseFact.objects.all()
    assert k.kpi_sla_compliance(qs) == 0.5
    assert k.kpi_sla_compliance(qs.filter(pk=facts["F3"].pk)) == 0.0
    assert k.kpi_sla_compliance(qs.filter(pk=facts["F2"].pk)) is None  # resolved, not closed
    assert k.kpi_volume(qs.filter(source="imported")) == 1


def test_filters(facts: dict[str, Any], pothole: Any, no_heat: Any) -> None:
    dpw = kpis_compute(KpiFilters(department_id=pothole.department_id), use_rollups=False)
    assert dpw["volume"] == 3  # F1, F2, F5
    assert dpw["sla_compliance"] == 1.0  # only F1 closed with a due date, on time
    service = kpis_compute(KpiFilters(service_type_id=no_heat.pk), use_rollups=False)
    assert service["volume"] == 2 and service["backlog"] == 1  # F3, F4 (open)
    web = kpis_compute(KpiFilters(channel="web"), use_rollups=False)
    assert web["volume"] == 1 and web["digital_share"] == 1.0
    area = kpis_compute(KpiFilters(area="02140"), use_rollups=False)
    assert area["volume"] == 1 and area["reopen_rate"] == 1.0
    # Signals cannot follow a department, service or area: None, not a wrong figure.
    assert area["abandoned_forms"] is None and area["assistant_containment"] is None
    day2 = kpis_compute(KpiFilters(date_from=DAY2, date_to=DAY2), use_rollups=False)
    assert day2["volume"] == 2 and day2["time_to_acknowledge_p50_hours"] == 4.0
    # Everything: the signal 400 days before counts too: 3 / (3 + 1).
    everything = kpis_compute(KpiFilters(), use_rollups=False)
    assert everything["abandoned_forms"] == 3 and everything["abandonment_rate"] == 0.75


def test_days_are_local_days(facts: dict[str, Any], pothole: Any) -> None:
    # 23:30 local on DAY1 is already DAY2 in UTC; it belongs to DAY1.
    late = k.local_midnight(DAY1) + dt.timedelta(hours=23, minutes=30)
    k.CaseFact.objects.create(source="live", status="new", channel="web", opened_at=late)
    assert kpis_compute(KpiFilters(date_from=DAY1, date_to=DAY1), use_rollups=False)["volume"] == 4


def test_an_empty_period_is_none_not_an_error(facts: dict[str, Any]) -> None:
    v = kpis_compute(
        KpiFilters(date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 1, 31)), use_rollups=False
    )
    assert v["volume"] == 0 and v["backlog"] == 0
    for key in KPI_KEYS:
        if key not in ("volume", "backlog", "abandoned_forms", "chats_abandoned"):
            assert v[key] is None, key


def test_breakdowns(facts: dict[str, Any], pothole: Any, no_heat: Any) -> None:
    by_service = kpi_breakdown(PERIOD, "service", use_rollups=False)
    assert [(r["key"], r["label"], r["volume"]) for r in by_service] == [
        (pothole.pk, "Pothole", 3),
        (no_heat.pk, "No heat", 2),
    ]
    assert by_service[1]["sla_compliance"] == 0.0  # F3 late
    by_day = kpi_breakdown(PERIOD, "day", use_rollups=False)
    assert [(r["key"], r["volume"]) for r in by_day] == [
        (DAY1.isoformat(), 3),
        (DAY2.isoformat(), 2),
    ]
    by_week = kpi_breakdown(PERIOD, "week", use_rollups=False)  # DAY1 is a Monday
    assert [(r["key"], r["volume"]) for r in by_week] == [(DAY1.isoformat(), 5)]
    by_channel = kpi_breakdown(PERIOD, "channel", use_rollups=False)
    assert {r["key"]: r["volume"] for r in by_channel} == {
        "web": 1,
        "phone": 1,
        "email": 1,
        "counter": 1,
        "other": 1,
    }
    by_area = kpi_breakdown(PERIOD, "area", use_rollups=False)
    assert [(r["key"], r["volume"]) for r in by_area] == [("02139", 3), ("", 1), ("02140", 1)]
    assert [r["label"] for r in by_area][1] == "(none)"
    with pytest.raises(ValueError, match="cannot break down"):
        kpi_breakdown(PERIOD, "resident")


def test_drill_down(facts: dict[str, Any]) -> None:
    late_or_not = kpi_facts(PERIOD, "sla_compliance")
    assert set(late_or_not) == {facts["F1"], facts["F3"]}
    assert set(kpi_facts(PERIOD, "backlog")) == {facts["F4"], facts["F5"]}
    assert set(kpi_facts(PERIOD, "time_to_resolve_p90_hours")) == {
        facts["F1"],
        facts["F2"],
        facts["F3"],
    }
    with pytest.raises(ValueError, match="no such KPI"):
        kpi_facts(PERIOD, "salary")
    with pytest.raises(ValueError, match="journey signals"):
        kpi_facts(PERIOD, "abandoned_forms")


def test_negative_durations_are_left_out(pothole: Any) -> None:
    # A bad import: acknowledged before it was opened. It is not a duration of -1 h.
    from tests.insights.kpi_data import T1, H, fact

    fact(service_type=pothole, opened_at=T1, acknowledged_at=T1 - H)
    fact(service_type=pothole, opened_at=T1, acknowledged_at=T1 + 3 * H)
    assert k.kpi_time_to_acknowledge_p50_hours(k.CaseFact.objects.all()) == 3.0


def test_each_definition_agrees_with_the_batched_reader(facts: dict[str, Any]) -> None:
    # kpis_compute reads the facts in four queries; each kpi_<key>(qs) is the definition.
    for f in (PERIOD, KpiFilters(date_from=DAY2), KpiFilters(channel="phone"), KpiFilters()):
        qs = k.facts_for(f)
        batched = k.kpis_from_facts(qs)
        assert batched == {key: fn(qs) for key, fn in k.FACT_KPIS.items()}
    assert set(k.FACT_KPIS) | set(k.SIGNAL_KEYS) == set(KPI_KEYS)


def test_hostile_filter_values_match_nothing(facts: dict[str, Any]) -> None:
    # The console passes what a user picked; a forged value is a filter, never SQL.
    odd = KpiFilters(channel="web' OR '1'='1", area="x" * 10_000)
    v = kpis_compute(odd, use_rollups=False)
    assert v["volume"] == 0 and v["sla_compliance"] is None
    assert kpi_breakdown(odd, "area", use_rollups=False) == []
    assert kpis_compute(KpiFilters(department_id=-1), use_rollups=False)["volume"] == 0
