"""The tamper-evident history: a clean chain verifies; any edit or removal is reported."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.tamper import as_database_owner
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent
from townhall.cases.selectors import ledger_verify
from townhall.cases.services import case_acknowledge, case_note_add, case_open, case_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(pothole: Any, caseworker: Any) -> Case:
    case = case_open(
        service_type=pothole, channel="sms", description="Hole", answers={"size": "small"}
    )
    case_acknowledge(case_id=case.pk)
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=caseworker)
    case_note_add(case=case, text="Crew on the way", actor=caseworker, public=True)
    return case


def test_each_event_carries_the_hash_of_the_one_before(history: Case) -> None:
    events = list(history.events.order_by("seq"))
    assert events[0].prev_hash == "0" * 64
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert len({e.hash for e in events}) == len(events)


def test_an_untouched_history_verifies(history: Case, capsys: Any) -> None:
    call_command("ledger", "verify")
    assert "OK: 4 events verified, no breaks." in capsys.readouterr().out


@pytest.mark.parametrize(
    "tamper",
    [
        {"data": {"text": "Nothing to see here"}},
        {"kind": "note"},
        {"public": False},
        {"channel": "web"},
    ],
)
def test_editing_an_event_is_detected(history: Case, tamper: dict[str, Any]) -> None:
    # given someone edits a stored event behind the services' back
    with as_database_owner():
        CaseEvent.objects.filter(case=history, seq=4).update(**tamper)
    # when / then
    checked, breaks = ledger_verify()
    assert checked == 4
    assert [(b.case_id, b.seq, b.reason) for b in breaks][:1] == [
        (history.pk, 4, "content does not match its hash")
    ]
    # (replacing the payload also drops the commitment the kept text was checked against)
    assert {(b.case_id, b.seq) for b in breaks} == {(history.pk, 4)}
    with pytest.raises(CommandError, match="break"):
        call_command("ledger", "verify")


def test_editing_a_middle_event_and_rehashing_it_still_breaks_the_next_link(history: Case) -> None:
    event = CaseEvent.objects.get(case=history, seq=2)
    from townhall.cases.ledger import event_hash

    forged = event_hash(
        prev_hash=event.prev_hash,
        case_id=history.pk,
        seq=2,
        kind=event.kind,
        at=event.at,
        actor_id=event.actor_id,
        channel="phone",
        public=event.public,
        data=event.data,
    )
    with as_database_owner():
        CaseEvent.objects.filter(pk=event.pk).update(channel="phone", hash=forged)
    _, breaks = ledger_verify()
    assert [(b.seq, b.reason) for b in breaks] == [
        (3, "prev_hash does not match the previous event")
    ]


def test_removing_an_event_is_detected(history: Case) -> None:
    with as_database_owner():
        CaseEvent.objects.filter(case=history, seq=2).delete()
    _, breaks = ledger_verify()
    assert {b.seq for b in breaks} == {3}
    assert any("expected event #2" in b.reason for b in breaks)


def test_a_case_stripped_of_its_whole_history_is_reported(history: Case) -> None:
    with as_database_owner():
        CaseEvent.objects.filter(case=history).delete()
    _, breaks = ledger_verify()
    assert [(b.case_id, b.reason) for b in breaks] == [(history.pk, "case has no events")]


def test_two_cases_chain_independently(history: Case, pothole: Any) -> None:
    other = case_open(
        service_type=pothole, channel="web", answers={"size": "large"}, description="x"
    )
    assert other.events.get().prev_hash == "0" * 64
    assert ledger_verify(case_ids=[other.pk]) == (1, [])
