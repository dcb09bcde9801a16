"""Case services: each asserts the new state, the event written and the on-commit effects."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from townhall.cases.errors import InvalidCaseInput, InvalidMerge, InvalidTransition
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.cases.selectors import case_get_by_reference, case_list_open, ledger_verify
from townhall.cases.services import (
    case_acknowledge,
    case_acknowledge_pending,
    case_assign,
    case_merge,
    case_note_add,
    case_open,
    case_priority_change,
    case_sla_scan,
    case_transition,
)
from townhall.catalog.models import ServiceType

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
# Monday 2026-11-23, 10:00 in Millbrook.
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=NY)

ACK_TASK = "townhall.cases.tasks.case_acknowledge_pending_task"


def open_pothole(service: ServiceType, **extra: Any) -> Case:
    fields: dict[str, Any] = {
        "service_type": service,
        "channel": "web",
        "description": "Deep hole outside the library",
        "answers": {"size": "large"},
        "lat": 42.36,
        "long": -71.09,
        "address": "12 Elm Street",
        "opened_at": MONDAY_10,
    }
    fields.update(extra)
    return case_open(**fields)


def test_opening_a_case_records_the_event_and_promises_a_date(
    pothole: ServiceType, resident: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a pothole SLA of 16 business hours (two 8-hour days, 09:00-17:00)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        case = open_pothole(pothole, reporter=resident)
    # then
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    assert case.department.code == "dpw"
    assert case.due_at == datetime(2026, 11, 25, 10, 0, tzinfo=NY)
    assert case.expected_on == date(2026, 11, 25)
    assert case.answers == {"size": "large"}
    assert case.reference == f"TH-26-{case.pk:06d}"
    [event] = case.events.all()
    assert (event.seq, event.kind, event.public) == (1, CaseEventKind.OPENED, True)
    assert event.data["expected_on"] == "2026-11-25"
    assert DBTaskResult.objects.filter(task_path=ACK_TASK).count() == 1


def test_business_clock_skips_thanksgiving_and_the_weekend(pothole: ServiceType) -> None:
    # given a case on Wednesday before Thanksgiving at 16:00: 1h Wed, Thu holiday,
    # Fri 8h, weekend, Mon 7h → Monday 16:00.
    wednesday = datetime(2026, 11, 25, 16, 0, tzinfo=NY)
    # when
    case = open_pothole(pothole, opened_at=wednesday)
    # then
    assert case.due_at == datetime(2026, 11, 30, 16, 0, tzinfo=NY)


def test_urgent_priority_uses_its_own_elapsed_target(pothole: ServiceType) -> None:
    case = open_pothole(pothole, priority="urgent")
    assert case.due_at == MONDAY_10 + timedelta(hours=4)


def test_a_rolled_back_open_writes_nothing_and_enqueues_nothing(
    pothole: ServiceType, django_capture_on_commit_callbacks: Any
) -> None:
    # when the surrounding transaction fails after the case was opened
    def open_then_fail() -> None:
        with transaction.atomic():
            open_pothole(pothole)
            raise RuntimeError("the caller failed after opening")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        open_then_fail()
    # then
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0
    assert callbacks == []
    assert DBTaskResult.objects.count() == 0


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"answers": {}}, "size"),
        ({"answers": {"size": "enormous"}}, "size"),
        ({"answers": {"size": "small", "depth_cm": "deep"}}, "depth_cm"),
        ({"answers": {"size": "small", "colour": "red"}}, "colour"),
        ({"lat": 95.0}, "location"),
        ({"lat": 42.0, "long": None}, "location"),
        ({"channel": "pigeon"}, "channel"),
        ({"priority": "whenever"}, "priority"),
        ({"address": "x" * 301}, "address_string"),
        ({"address_id": "x" * 65}, "address_id"),
        ({"description": "x" * 10_001}, "description"),
        ({"lat": float("nan")}, "location"),
    ],
)
def test_bad_input_is_refused_with_field_errors_and_nothing_written(
    pothole: ServiceType, extra: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidCaseInput) as info:
        open_pothole(pothole, **extra)
    assert info.value.code == "case.invalid_input"
    assert field in info.value.details
    assert Case.objects.count() == 0


def test_an_inactive_service_takes_no_new_requests(pothole: ServiceType) -> None:
    pothole.active = False
    with pytest.raises(InvalidCaseInput) as info:
        open_pothole(pothole)
    assert "service_code" in info.value.details


@pytest.mark.django_db(transaction=True)
def test_the_worker_acknowledges_a_new_case(pothole: ServiceType) -> None:
    # given a case whose acknowledgement run was scheduled when its transaction committed
    case = open_pothole(pothole)
    task = DBTaskResult.objects.get(task_path=ACK_TASK)
    assert task.status == "READY"
    # when the real database worker runs before the run is due, it leaves it alone
    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEW
    # and once it is due, the worker drains the new cases
    with time_machine.travel(task.run_after + timedelta(seconds=1), tick=True):
        call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    # then
    case.refresh_from_db()
    assert case.status == CaseStatus.ACKNOWLEDGED
    assert case.acknowledged_at is not None
    assert [e.kind for e in case.events.order_by("seq")] == ["opened", "acknowledged"]
    assert DBTaskResult.objects.get(task_path=ACK_TASK).status == "SUCCESSFUL"


def test_acknowledging_twice_changes_nothing_the_second_time(pothole: ServiceType) -> None:
    case = open_pothole(pothole)
    assert case_acknowledge(case_id=case.pk) is True
    assert case_acknowledge(case_id=case.pk) is False
    assert case.events.count() == 2


def test_awaiting_the_citizen_pauses_the_clock_and_replying_resumes_it(
    pothole: ServiceType, caseworker: Any
) -> None:
    # given a case due Wednesday 10:00
    case = open_pothole(pothole)
    case_acknowledge(case_id=case.pk, now=MONDAY_10)
    # when it waits on the resident from Monday 12:00 to Tuesday 12:00 (8 working hours)
    case_transition(
        case=case,
        to=CaseStatus.AWAITING_CITIZEN,
        actor=caseworker,
        note="Which side of the road?",
        now=MONDAY_10 + timedelta(hours=2),
    )
    assert case.due_at is None
    assert case.sla_paused_remaining == timedelta(hours=14)
    case_transition(
        case=case,
        to=CaseStatus.IN_PROGRESS,
        actor=caseworker,
        now=MONDAY_10 + timedelta(days=1, hours=2),
    )
    # then the promise moves by the paused working time
    assert case.due_at == datetime(2026, 11, 26, 10, 0, tzinfo=NY) + timedelta(
        days=1
    )  # Thanksgiving skipped
    assert case.expected_on == date(2026, 11, 27)
    kinds = [e.kind for e in case.events.order_by("seq")]
    assert kinds == [
        "opened",
        "acknowledged",
        "status_changed",
        "paused",
        "status_changed",
        "resumed",
    ]
    assert case.events.get(seq=3).content == {
        "from": "acknowledged",
        "to": "awaiting_citizen",
        "note": "Which side of the road?",
    }


def test_an_invalid_move_is_refused_and_leaves_no_trace(
    pothole: ServiceType, caseworker: Any
) -> None:
    case = open_pothole(pothole)
    with pytest.raises(InvalidTransition):
        case_transition(case=case, to=CaseStatus.CLOSED, actor=caseworker)
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    assert case.events.count() == 1


def test_resolving_then_reopening_gives_a_fresh_promise(
    pothole: ServiceType, caseworker: Any
) -> None:
    case = open_pothole(pothole)
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=caseworker, now=MONDAY_10)
    case_transition(
        case=case, to=CaseStatus.RESOLVED, actor=caseworker, now=MONDAY_10 + timedelta(hours=1)
    )
    assert case.resolved_at == MONDAY_10 + timedelta(hours=1)
    reopened_at = datetime(2026, 12, 1, 9, 0, tzinfo=NY)
    case_transition(case=case, to=CaseStatus.REOPENED, actor=None, channel="email", now=reopened_at)
    assert case.status == CaseStatus.REOPENED
    assert case.resolved_at is None
    assert case.due_at == datetime(2026, 12, 2, 17, 0, tzinfo=NY)
    assert case.events.order_by("-seq").first().kind == CaseEventKind.REOPENED  # type: ignore[union-attr]


def test_assigning_records_who_from_and_to(pothole: ServiceType, caseworker: Any) -> None:
    case = open_pothole(pothole)
    case_assign(case=case, assignee=caseworker, actor=caseworker)
    assert Case.objects.get(pk=case.pk).assignee == caseworker
    event = case.events.get(kind=CaseEventKind.ASSIGNED)
    assert event.data == {"from": None, "to": caseworker.pk, "to_label": "cw"}


def test_a_finished_case_cannot_be_assigned(pothole: ServiceType, caseworker: Any) -> None:
    case = open_pothole(pothole)
    case_transition(case=case, to=CaseStatus.REJECTED, actor=caseworker)
    with pytest.raises(InvalidCaseInput):
        case_assign(case=case, assignee=caseworker, actor=caseworker)


def test_internal_notes_stay_internal_and_public_updates_are_public(
    pothole: ServiceType, caseworker: Any
) -> None:
    case = open_pothole(pothole)
    note = case_note_add(case=case, text="Needs a second crew", actor=caseworker)
    update = case_note_add(case=case, text="Crew booked for Tuesday", actor=caseworker, public=True)
    assert (note.kind, note.public) == (CaseEventKind.NOTE, False)
    assert (update.kind, update.public) == (CaseEventKind.PUBLIC_UPDATE, True)
    with pytest.raises(InvalidCaseInput):
        case_note_add(case=case, text="   ", actor=caseworker)


def test_merging_marks_the_duplicate_and_records_it_on_both(
    pothole: ServiceType, caseworker: Any
) -> None:
    first = open_pothole(pothole)
    second = open_pothole(pothole, description="Same hole again")
    case_merge(case=second, into=first, actor=caseworker)
    assert second.status == CaseStatus.DUPLICATE
    assert second.merged_into_id == first.pk
    assert second.events.latest("seq").data["into"] == first.reference
    assert first.events.latest("seq").data["duplicate"] == second.reference
    with pytest.raises(InvalidMerge):
        case_merge(case=first, into=first, actor=caseworker)
    with pytest.raises(InvalidMerge):
        case_merge(case=first, into=second, actor=caseworker)
    with pytest.raises(InvalidMerge):
        case_transition(case=first, to=CaseStatus.DUPLICATE, actor=caseworker)


def test_the_sla_scan_records_each_breach_once(pothole: ServiceType, no_heat: ServiceType) -> None:
    late = open_pothole(pothole)
    heat = case_open(
        service_type=no_heat,
        channel="phone",
        description="No heat since Friday",
        opened_at=MONDAY_10,
    )
    later = datetime(2026, 11, 25, 12, 0, tzinfo=NY)
    assert case_sla_scan(now=later) == 2
    assert case_sla_scan(now=later + timedelta(hours=1)) == 0
    late.refresh_from_db()
    heat.refresh_from_db()
    assert late.breached_at == later
    assert late.events.latest("seq").kind == CaseEventKind.SLA_BREACHED
    assert heat.events.latest("seq").data["overdue_s"] == 26 * 3600.0


def test_a_paused_case_never_breaches(pothole: ServiceType, caseworker: Any) -> None:
    case = open_pothole(pothole)
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=caseworker, now=MONDAY_10)
    case_transition(case=case, to=CaseStatus.AWAITING_CITIZEN, actor=caseworker, now=MONDAY_10)
    assert case_sla_scan(now=MONDAY_10 + timedelta(days=30)) == 0


def test_pending_acknowledgement_catches_cases_whose_task_was_lost(pothole: ServiceType) -> None:
    # given two cases whose after-commit enqueue never ran (callbacks not executed)
    first, second = open_pothole(pothole), open_pothole(pothole)
    # when the periodic run drains the new cases, one at a time
    assert case_acknowledge_pending(limit=1) == 1
    assert case_acknowledge_pending() == 1
    assert case_acknowledge_pending() == 0
    # then
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (CaseStatus.ACKNOWLEDGED, CaseStatus.ACKNOWLEDGED)


def test_a_burst_of_openings_schedules_one_run_per_window(
    pothole: ServiceType, django_capture_on_commit_callbacks: Any
) -> None:
    # given a burst of five openings within a second
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(5):
                open_pothole(pothole)
        # then one run is scheduled, a second ahead, which will see all five
        [run] = DBTaskResult.objects.filter(task_path=ACK_TASK)
        assert run.run_after == MONDAY_10 + timedelta(seconds=1)
        # when the window has passed, the next opening schedules the next run
        traveller.shift(timedelta(seconds=0.9))
        with django_capture_on_commit_callbacks(execute=True):
            open_pothole(pothole)
    assert DBTaskResult.objects.filter(task_path=ACK_TASK).count() == 2


def test_a_reference_finds_its_case_and_only_its_case(pothole: ServiceType) -> None:
    case = open_pothole(pothole)
    assert case_get_by_reference(reference=case.reference).pk == case.pk
    assert case_get_by_reference(reference=f" {case.reference.lower()} ").pk == case.pk
    from townhall.cases.errors import CaseNotFound

    for wrong in [f"TH-25-{case.pk:06d}", "TH-26-999999", "XX-26-000001", "nonsense", ""]:
        with pytest.raises(CaseNotFound):
            case_get_by_reference(reference=wrong)


def test_every_service_keeps_the_chain_verifiable(pothole: ServiceType, caseworker: Any) -> None:
    a = open_pothole(pothole)
    b = open_pothole(pothole)
    case_acknowledge(case_id=a.pk)
    case_assign(case=a, assignee=caseworker, actor=caseworker)
    case_transition(case=a, to=CaseStatus.IN_PROGRESS, actor=caseworker)
    case_transition(case=a, to=CaseStatus.AWAITING_CITIZEN, actor=caseworker)
    case_note_add(case=a, text="Called the resident", actor=caseworker)
    case_transition(case=a, to=CaseStatus.RESOLVED, actor=caseworker)
    case_merge(case=b, into=a, actor=caseworker)
    checked, breaks = ledger_verify()
    assert (checked, breaks) == (CaseEvent.objects.count(), [])
    assert checked == 11


def test_raising_the_priority_restarts_the_promise_at_the_new_target(
    pothole: ServiceType, caseworker: Any
) -> None:
    # given a normal pothole (16 business hours) that later turns out to be dangerous
    case = open_pothole(pothole)
    later = MONDAY_10 + timedelta(hours=1)
    # when it becomes urgent (4 elapsed hours)
    case_priority_change(case=case, priority="urgent", actor=caseworker, now=later)
    # then
    assert (case.priority, case.due_at) == ("urgent", later + timedelta(hours=4))
    event = case.events.latest("seq")
    assert (event.kind, event.data["from"], event.data["to"]) == (
        "priority_changed",
        "normal",
        "urgent",
    )
    with pytest.raises(InvalidCaseInput):
        case_priority_change(case=case, priority="asap", actor=caseworker)


def test_a_priority_change_while_waiting_on_the_resident_keeps_the_clock_paused(
    pothole: ServiceType, caseworker: Any
) -> None:
    case = open_pothole(pothole)
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=caseworker, now=MONDAY_10)
    case_transition(case=case, to=CaseStatus.AWAITING_CITIZEN, actor=caseworker, now=MONDAY_10)
    case_priority_change(case=case, priority="urgent", actor=caseworker, now=MONDAY_10)
    assert case.due_at is None
    assert case.sla_paused_remaining == timedelta(hours=4)


def test_the_open_queue_lists_soonest_due_first_in_one_query(
    pothole: ServiceType, no_heat: ServiceType, django_assert_num_queries: Any
) -> None:
    late = open_pothole(pothole)
    soon = case_open(service_type=no_heat, channel="phone", description="Cold", opened_at=MONDAY_10)
    done = open_pothole(pothole)
    case_merge(case=done, into=late, actor=None)
    with django_assert_num_queries(1):
        rows = [(c.reference, c.service_type.name, c.department.code) for c in case_list_open()]
    assert [r[0] for r in rows] == [soon.reference, late.reference]
    assert rows[0][1:] == ("No heat", "isd")
