"""The lock–change–append step (`case_change`), notes on finished cases, the named SLA and
case errors in the reader's language."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from townhall.cases.errors import CaseNotFound, InvalidCaseInput, InvalidTransition
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEventKind
from townhall.cases.selectors import ledger_verify
from townhall.cases.services import (
    case_acknowledge,
    case_change,
    case_merge,
    case_note_add,
    case_open,
    case_sla,
    case_sla_scan,
    case_transition,
)
from townhall.cases.sla import CaseSla, SlaClock, sla_start
from townhall.catalog.models import ServiceType

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=NY)

# The columns a note must leave alone: status, finish and the whole SLA clock.
UNTOUCHED = (
    "status",
    "resolved_at",
    "closed_at",
    "due_at",
    "sla_paused_remaining",
    "expected_on",
    "breached_at",
)


def open_pothole(service: ServiceType) -> Case:
    return case_open(
        service_type=service,
        channel="web",
        description="Deep hole outside the library",
        answers={"size": "large"},
        address="12 Elm Street",
        opened_at=MONDAY_10,
    )


def snapshot(case: Case) -> dict[str, Any]:
    case.refresh_from_db()
    return {field: getattr(case, field) for field in UNTOUCHED}


# --- notes on finished cases (issue 16: "no notes once a case is resolved") ---------------


@pytest.mark.parametrize(
    "finish", [[CaseStatus.RESOLVED], [CaseStatus.RESOLVED, CaseStatus.CLOSED]]
)
def test_staff_add_notes_to_resolved_and_closed_cases_without_reopening_them(
    pothole: ServiceType, caseworker: Any, finish: list[CaseStatus]
) -> None:
    # given a case past its due date (breached), then finished
    case = open_pothole(pothole)
    case_acknowledge(case_id=case.pk, now=MONDAY_10)
    assert case_sla_scan(now=MONDAY_10 + timedelta(days=5)) == 1
    for n, status in enumerate(finish, start=6):
        case_transition(case=case, to=status, actor=caseworker, now=MONDAY_10 + timedelta(days=n))
    before = snapshot(case)
    assert before["status"] == finish[-1] and before["breached_at"] is not None
    # when staff add an internal note and a public update a week later
    later = MONDAY_10 + timedelta(days=14)
    note = case_note_add(case=case, text="Crew checked it again", actor=caseworker, now=later)
    update = case_note_add(
        case=case, text="All done", actor=caseworker, public=True, now=later + timedelta(hours=1)
    )
    # then both are on the record and the case stays finished, its clock untouched
    assert (note.kind, note.public, note.content) == (
        CaseEventKind.NOTE,
        False,
        {"text": "Crew checked it again"},
    )
    assert (update.kind, update.public) == (CaseEventKind.PUBLIC_UPDATE, True)
    assert snapshot(case) == before
    assert case.updated_at == later + timedelta(hours=1)
    kinds = list(case.events.order_by("seq").values_list("kind", flat=True))
    assert kinds[-2:] == [CaseEventKind.NOTE, CaseEventKind.PUBLIC_UPDATE]
    assert ledger_verify(case_ids=[case.pk])[1] == []


def test_a_merged_duplicate_takes_notes_too(pothole: ServiceType, caseworker: Any) -> None:
    first, second = open_pothole(pothole), open_pothole(pothole)
    case_merge(case=second, into=first, actor=caseworker)
    before = snapshot(second)
    case_note_add(case=second, text="Resident called about this one", actor=caseworker)
    assert snapshot(second) == before
    assert second.events.filter(kind=CaseEventKind.NOTE).count() == 1


def test_an_empty_note_is_still_refused_on_a_finished_case(
    pothole: ServiceType, caseworker: Any
) -> None:
    case = open_pothole(pothole)
    case_transition(case=case, to=CaseStatus.REJECTED, actor=caseworker)
    count = case.events.count()
    with pytest.raises(InvalidCaseInput):
        case_note_add(case=case, text="  ", actor=caseworker)
    assert case.events.count() == count


# --- case_change: the one lock–change–append step ----------------------------------------


def test_a_change_saves_its_fields_and_event_together_and_refreshes_the_callers_copy(
    pothole: ServiceType, caseworker: Any
) -> None:
    case = open_pothole(pothole)
    at = MONDAY_10 + timedelta(hours=1)
    with case_change(case.pk, at=at, actor=caseworker, refresh=case) as change:
        change.set(public_summary="A pothole on Elm Street")
        assert change.unsaved == {"public_summary"}
        event = change.append(CaseEventKind.SUMMARY_CHANGED, {"summary": "x"})
        assert change.unsaved == frozenset()
        second = change.append(CaseEventKind.NOTE, {"text": "and a note"})
    stored = Case.objects.get(pk=case.pk)
    assert (stored.public_summary, stored.updated_at) == ("A pothole on Elm Street", at)
    assert (case.public_summary, case.updated_at) == ("A pothole on Elm Street", at)
    assert (event.seq, second.seq, second.prev_hash) == (2, 3, event.hash)
    assert (event.actor_id, event.channel, event.public) == (caseworker.pk, "staff", False)
    assert ledger_verify(case_ids=[case.pk])[1] == []


def test_fields_set_without_an_event_are_refused_and_nothing_is_written(
    pothole: ServiceType, caseworker: Any
) -> None:
    case = open_pothole(pothole)

    def forgetful_change() -> None:
        with case_change(case.pk, at=MONDAY_10, actor=caseworker, refresh=case) as change:
            change.append(CaseEventKind.NOTE, {"text": "recorded"})
            change.set(public_summary="never recorded")

    with pytest.raises(RuntimeError, match="public_summary"):
        forgetful_change()
    case.refresh_from_db()
    assert case.public_summary == ""
    assert case.events.count() == 1  # the note rolled back with the rest


def test_a_refusal_inside_a_change_rolls_back_what_it_appended(
    pothole: ServiceType, caseworker: Any
) -> None:
    case = open_pothole(pothole)

    def refused_change() -> None:
        with case_change(case.pk, at=MONDAY_10, actor=caseworker, refresh=case) as change:
            change.set(public_summary="half a change")
            change.append(CaseEventKind.SUMMARY_CHANGED, {"summary": "half a change"})
            raise InvalidCaseInput("refused after the event")

    with pytest.raises(InvalidCaseInput):
        refused_change()
    assert Case.objects.get(pk=case.pk).public_summary == ""
    assert case.public_summary == ""  # the caller's copy is refreshed only on success
    assert case.events.count() == 1


def test_a_change_to_a_missing_case_is_case_not_found(caseworker: Any) -> None:
    with pytest.raises(CaseNotFound), case_change(999_999, at=MONDAY_10, actor=caseworker):
        pass


# --- the SLA a case is held to, by name ----------------------------------------------------


def test_a_cases_sla_names_its_target_and_calendar(pothole: ServiceType) -> None:
    case = open_pothole(pothole)
    sla = case_sla(case)
    assert isinstance(sla, CaseSla)
    assert (sla.target.target, sla.target.clock) == (timedelta(hours=16), SlaClock.BUSINESS)
    assert sla.calendar.tz == NY
    assert sla.start(MONDAY_10) == sla_start(
        received_at=MONDAY_10, target=sla.target, calendar=sla.calendar
    )
    assert sla.start(MONDAY_10).due_at == case.due_at


# --- errors in the reader's language -------------------------------------------------------


def test_case_errors_are_translated(pothole: ServiceType, caseworker: Any) -> None:
    case = open_pothole(pothole)
    with translation.override("es"):
        with pytest.raises(InvalidCaseInput) as empty:
            case_note_add(case=case, text="", actor=caseworker)
        with pytest.raises(InvalidTransition) as move:
            case_transition(case=case, to=CaseStatus.CLOSED, actor=caseworker)
        with pytest.raises(InvalidCaseInput) as bad:
            case_open(service_type=pothole, channel="web", lat=91.0, long=0.0)
    assert (empty.value.message, empty.value.details) == (
        "Una nota necesita algún texto.",
        {"text": ["Escriba algo."]},
    )
    assert move.value.message == "Un caso no puede pasar de Nueva a Cerrada."
    assert bad.value.message == "No se pudo aceptar la solicitud."
    assert bad.value.details["location"] == [
        "La latitud debe estar entre ±90 y la longitud entre ±180."
    ]
    with translation.override("en"), pytest.raises(InvalidCaseInput) as english:
        case_note_add(case=case, text="", actor=caseworker)
    assert english.value.message == "A note needs some text."
