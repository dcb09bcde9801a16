"""Live cases copied into the facts: counts, times, scores, area, incrementally."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from townhall.cases.lifecycle import CaseStatus
from townhall.cases.services import (
    case_acknowledge,
    case_merge,
    case_open,
    case_time_log,
    case_transfer,
    case_transition,
)
from townhall.experience.models import JourneySignal, SignalKind, Survey
from townhall.insights.facts import area_of, facts_build, facts_refresh
from townhall.insights.kpis import KPI_KEYS
from townhall.insights.models import CaseFact
from townhall.places.models import Place

T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def opened(service: Any, **kw: Any) -> Any:
    values: dict[str, Any] = {"channel": "web", "description": "A hole", "opened_at": T0}
    if service.code == "pothole":
        values["answers"] = {"size": "large"}
    values.update(kw)
    return case_open(service_type=service, **values)


@pytest.fixture
def place(db: None) -> Place:
    return Place.objects.create(
        property_id="P-1",
        address="1 Main St",
        postcode="02139-4307",
        lat=42.36,
        long=-71.09,
        search_text="1 main street",
    )


def test_area_is_the_postcode_sector() -> None:
    assert area_of("SW1A 1AA") == "SW1A 1"
    assert area_of(" sw1a  1aa ") == "SW1A 1"
    assert area_of("02139-4307") == "02139"
    assert area_of("") == ""


def test_a_case_and_its_history_become_one_fact(
    pothole: Any, no_heat: Any, caseworker: Any, resident: Any, place: Place
) -> None:
    case = opened(pothole, address_id="P-1", lat=42.361234, long=-71.091234, reporter=resident)
    case_acknowledge(case_id=case.pk, now=T0 + 2 * H)
    case.refresh_from_db()
    case_transfer(
        case=case, department=no_heat.department, reason="theirs", actor=caseworker, now=T0 + 3 * H
    )
    case_time_log(case=case, user=caseworker, minutes=45, now=T0 + 4 * H)
    case_time_log(case=case, user=caseworker, minutes=15, now=T0 + 5 * H)
    twin = opened(pothole, opened_at=T0 + H)
    case_merge(case=twin, into=case, actor=caseworker, now=T0 + 6 * H)
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=caseworker, now=T0 + 7 * H)
    case_transition(case=case, to=CaseStatus.RESOLVED, actor=caseworker, now=T0 + 8 * H)
    case_transition(case=case, to=CaseStatus.REOPENED, actor=caseworker, now=T0 + 9 * H)
    # The resolution made the case's survey (it has a reporter); its answer:
    Survey.objects.update_or_create(
        case=case,
        defaults={"token_hash": "x" * 64, "channel": "web", "csat": 4, "nps": 9},
    )
    Survey.objects.filter(case=case).update(answered_at=T0 + 9 * H)
    JourneySignal.objects.create(kind=SignalKind.REPEAT_CONTACT, case=case, channel="phone")

    result = facts_refresh()
    assert result.cases_seen == 2 and result.facts_created == 2
    fact = CaseFact.objects.get(case=case)
    assert fact.source == "live" and fact.status == "reopened"
    assert fact.department_id == no_heat.department_id  # where it is now
    assert fact.service_type_id == pothole.pk and fact.service_name == "Pothole"
    assert fact.opened_at == T0 and fact.acknowledged_at == T0 + 2 * H
    assert (fact.reopen_count, fact.transfer_count) == (1, 1)
    # First contact, the merged duplicate and the repeat-contact signal.
    assert fact.contact_count == 3
    assert fact.staff_minutes == 60
    assert (fact.csat, fact.nps) == (4, 9)
    assert fact.area == "02139"
    assert (fact.lat, fact.long) == (42.361, -71.091)  # about 100 m, not the doorstep
    assert not fact.personal
    assert CaseFact.objects.get(case=twin).status == "duplicate"


def test_refresh_is_incremental_and_idempotent(pothole: Any, caseworker: Any) -> None:
    case = opened(pothole)
    assert facts_refresh().facts_created == 1
    again = facts_refresh()  # nothing new: the overlap re-reads, nothing is rewritten
    assert (again.facts_created, again.facts_updated) == (0, 0)
    stamp = CaseFact.objects.get(case=case).updated_at
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=caseworker)
    changed = facts_refresh()
    assert (changed.facts_created, changed.facts_updated) == (0, 1)
    fact = CaseFact.objects.get(case=case)
    assert fact.status == "in_progress" and fact.updated_at > stamp
    assert CaseFact.objects.count() == 1


def test_time_logged_later_is_picked_up(pothole: Any, caseworker: Any) -> None:
    case = opened(pothole)
    facts_refresh()
    case_time_log(case=case, user=caseworker, minutes=20)  # no case event for this
    facts_refresh()
    assert CaseFact.objects.get(case=case).staff_minutes == 20


def test_personal_services_are_flagged(no_heat: Any) -> None:
    no_heat.personal = True
    no_heat.save(update_fields=["personal"])
    case = opened(no_heat, description="No heat in my flat")
    facts_refresh()
    assert CaseFact.objects.get(case=case).personal is True


def test_batches_do_not_query_per_case(pothole: Any) -> None:
    ids = [opened(pothole).pk for _ in range(3)]
    with CaptureQueriesContext(connection) as few:
        facts_build(ids[:1])
    with CaptureQueriesContext(connection) as many:
        facts_build(ids)
    assert len(many.captured_queries) == len(few.captured_queries) <= 8


def test_imported_facts_are_left_alone(pothole: Any) -> None:
    CaseFact.objects.create(
        source="imported", system="boston", external_id="1", status="closed", opened_at=T0
    )
    opened(pothole)
    facts_refresh(full=True)
    assert CaseFact.objects.filter(source="imported").count() == 1
    assert CaseFact.objects.count() == 2


def test_command_refresh_and_kpis(pothole: Any) -> None:
    opened(pothole)
    out = StringIO()
    call_command("insights", "refresh", stdout=out)
    assert "1 created" in out.getvalue()
    out = StringIO()
    call_command("insights", "kpis", "--from", "2026-03-01", "--to", "2026-03-31", stdout=out)
    text = out.getvalue()
    assert "volume" in text and "sla_compliance" in text
    out = StringIO()
    call_command("insights", "kpis", "--json", stdout=out)
    values = json.loads(out.getvalue())
    assert list(values) == list(KPI_KEYS)
    assert values["volume"] == 1 and values["sla_compliance"] is None
    assert values["backlog"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "yesterday"], "--from must be a date as YYYY-MM-DD"),
        (["--to", "2026-02-30"], "--to must be a date"),
        (["--from", "2026-03-02", "--to", "2026-03-01"], "must not be after"),
        (["--from", "x" * 5000], "must be a date"),
    ],
)
def test_bad_dates_are_a_clear_error(db: None, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message) as raised:
        call_command("insights", "kpis", *args)
    assert len(str(raised.value)) < 200  # a huge input is not echoed back whole


def test_the_task_refreshes(pothole: Any) -> None:
    from townhall.insights.tasks import facts_refresh_task

    opened(pothole)
    assert facts_refresh_task.call() == 1
    assert CaseFact.objects.count() == 1
    assert timezone.now()


def test_a_second_refresh_at_once_does_nothing(db: None) -> None:
    from townhall.insights.facts import REFRESH_LOCK, insights_refresh

    if connection.vendor != "postgresql":
        pytest.skip("the refresh lock is PostgreSQL's advisory lock")
    import psycopg

    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [REFRESH_LOCK])
        with pytest.raises(CommandError, match="Another refresh is running"):
            call_command("insights", "refresh")
        assert insights_refresh() is None
        other.execute("SELECT pg_advisory_unlock(%s)", [REFRESH_LOCK])
        assert insights_refresh() is not None
