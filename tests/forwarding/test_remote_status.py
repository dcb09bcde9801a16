"""Remote statuses applied to our cases: the default map, a body's own, the lifecycle's
rules, public updates, alerts for unknown statuses, all-or-nothing writes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest

from tests.forwarding.sync_fixtures import body_make, forward_make
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.cases.services import case_transition
from townhall.core import clock
from townhall.forwarding import remote_status as rs
from townhall.forwarding.models import Forward, ForwardState, ForwardSync, SyncKind
from townhall.forwarding.remote_status import (
    DEFAULT_STATUS_MAP,
    path_to,
    remote_status_apply,
    status_target,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def body(town: Any) -> Any:
    return body_make()


@pytest.fixture
def forward(body: Any, pothole: Any) -> Forward:
    return forward_make(body, pothole, "R-1")


def status_of(forward: Forward) -> str:
    return Case.objects.get(pk=forward.case_id).status


def events(forward: Forward, kind: CaseEventKind) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case_id=forward.case_id, kind=kind).order_by("seq"))


@pytest.mark.parametrize(("remote", "ours"), sorted(DEFAULT_STATUS_MAP.items()))
def test_each_default_mapping_moves_a_new_case_there(
    forward: Forward, remote: str, ours: str
) -> None:
    sync = remote_status_apply(forward, remote_status=remote)
    assert sync.ok and sync.kind == SyncKind.POLL
    assert status_of(forward) == ours
    forward.refresh_from_db()
    assert forward.remote_status == remote
    finished = ours in (CaseStatus.RESOLVED, CaseStatus.REJECTED)
    assert forward.state == (ForwardState.CLOSED if finished else ForwardState.SENT)


def test_status_is_matched_whatever_its_case_and_spaces(forward: Forward) -> None:
    remote_status_apply(forward, remote_status="  In_Progress ")
    assert status_of(forward) == CaseStatus.IN_PROGRESS


def test_new_case_the_body_fixed_steps_through_in_progress(forward: Forward) -> None:
    assert status_of(forward) == CaseStatus.NEW
    sync = remote_status_apply(forward, remote_status="fixed", note="Filled the hole.")
    assert status_of(forward) == CaseStatus.RESOLVED
    moves = [e.data["to"] for e in events(forward, CaseEventKind.STATUS_CHANGED)]
    assert moves == ["in_progress", "resolved"]
    # the note goes with the last move, once, and is public
    last = events(forward, CaseEventKind.STATUS_CHANGED)[-1]
    assert last.content["note"] == "Filled the hole." and last.public
    assert not events(forward, CaseEventKind.PUBLIC_UPDATE)
    assert sync.detail == "new -> resolved"


def test_body_map_overrides_default_and_adds_its_own(body: Any, forward: Forward) -> None:
    body.status_map = {"Closed": "rejected", "WITH_CONTRACTOR": "in_progress"}
    body.save()
    assert status_target(forward, "closed") == CaseStatus.REJECTED
    assert status_target(forward, "with_contractor") == CaseStatus.IN_PROGRESS
    assert status_target(forward, "fixed") == CaseStatus.RESOLVED  # default still there
    remote_status_apply(forward, remote_status="with_contractor")
    assert status_of(forward) == CaseStatus.IN_PROGRESS


def test_empty_target_records_without_changing_the_case(body: Any, forward: Forward) -> None:
    body.status_map = {"open": ""}
    body.save()
    sync = remote_status_apply(forward, remote_status="open", note="Logged.")
    assert sync.ok and status_of(forward) == CaseStatus.NEW
    forward.refresh_from_db()
    assert forward.remote_status == "open" and forward.state == ForwardState.SENT
    assert [e.content["text"] for e in events(forward, CaseEventKind.PUBLIC_UPDATE)] == ["Logged."]


@pytest.mark.parametrize("bad", ["duplicate", "new", "nonsense", 7, None, ["resolved"]])
def test_body_map_naming_a_status_a_body_may_not_set_is_unknown(
    body: Any, forward: Forward, bad: Any
) -> None:
    body.status_map = {"weird": bad}
    body.save()
    expected = "" if bad is None else None
    assert status_target(forward, "weird") == expected


def test_a_body_map_that_is_not_an_object_is_ignored(body: Any, forward: Forward) -> None:
    body.status_map = ["fixed"]
    body.save()
    assert status_target(forward, "fixed") == CaseStatus.RESOLVED


def test_unknown_status_alerts_staff_once_and_keeps_the_note(forward: Forward) -> None:
    sync = remote_status_apply(forward, remote_status="gone_fishing", note="We will look.")
    assert not sync.ok and sync.kind == SyncKind.FAILURE
    assert "gone_fishing" in sync.detail
    assert status_of(forward) == CaseStatus.NEW
    notes = events(forward, CaseEventKind.NOTE)
    assert len(notes) == 1 and not notes[0].public and "gone_fishing" in notes[0].content["text"]
    assert [e.content["text"] for e in events(forward, CaseEventKind.PUBLIC_UPDATE)] == [
        "We will look."
    ]
    # read again: recorded, no second alert, no second public update
    again = remote_status_apply(forward, remote_status="gone_fishing", note="We will look.")
    assert not again.ok and again.kind == SyncKind.POLL
    assert len(events(forward, CaseEventKind.NOTE)) == 1
    assert len(events(forward, CaseEventKind.PUBLIC_UPDATE)) == 1


def test_same_status_twice_is_one_change(forward: Forward) -> None:
    remote_status_apply(forward, remote_status="investigating", note="Looking at it.")
    remote_status_apply(forward, remote_status="investigating", note="Looking at it.")
    assert len(events(forward, CaseEventKind.STATUS_CHANGED)) == 1
    assert not events(forward, CaseEventKind.PUBLIC_UPDATE)
    assert ForwardSync.objects.filter(forward=forward).count() == 2


def test_a_new_note_with_the_same_status_is_a_public_update(forward: Forward) -> None:
    remote_status_apply(forward, remote_status="investigating", note="Looking at it.")
    remote_status_apply(forward, remote_status="investigating", note="Crew booked for Monday.")
    updates = events(forward, CaseEventKind.PUBLIC_UPDATE)
    assert [e.content["text"] for e in updates] == ["Crew booked for Monday."]
    assert all(e.public for e in updates)


def test_closed_case_is_not_reopened(forward: Forward, caseworker: Any) -> None:
    case = Case.objects.get(pk=forward.case_id)
    for to in ("in_progress", "resolved", "closed"):
        case_transition(case=case, to=to, actor=caseworker)
    sync = remote_status_apply(forward, remote_status="open", note="Reopened by us.")
    assert sync.ok and "not applied" in sync.detail
    assert status_of(forward) == CaseStatus.CLOSED
    # the body's note is still told
    assert [e.content["text"] for e in events(forward, CaseEventKind.PUBLIC_UPDATE)] == [
        "Reopened by us."
    ]


def test_resolved_by_staff_then_closed_by_body_closes_the_forward(
    forward: Forward, caseworker: Any
) -> None:
    case = Case.objects.get(pk=forward.case_id)
    case_transition(case=case, to="in_progress", actor=caseworker)
    case_transition(case=case, to="resolved", actor=caseworker)
    remote_status_apply(forward, remote_status="closed")
    forward.refresh_from_db()
    assert forward.state == ForwardState.CLOSED and status_of(forward) == CaseStatus.RESOLVED
    assert len(events(forward, CaseEventKind.STATUS_CHANGED)) == 2


def test_remote_time_is_used_but_never_before_the_case_or_in_the_future(
    forward: Forward,
) -> None:
    case = Case.objects.get(pk=forward.case_id)
    remote_status_apply(forward, remote_status="open", at=case.updated_at - timedelta(days=30))
    first = events(forward, CaseEventKind.STATUS_CHANGED)[-1]
    assert first.at == case.updated_at
    later = first.at + (clock.now() - first.at) / 2
    remote_status_apply(forward, remote_status="fixed", at=later)
    assert events(forward, CaseEventKind.STATUS_CHANGED)[-1].at == later
    forward.refresh_from_db()
    assert forward.last_synced_at is not None and forward.last_synced_at > later
    assert Case.objects.get(pk=forward.case_id).resolved_at == later
    future = clock.now() + timedelta(days=3)
    f2 = forward_make(forward.body, forward.case.service_type, "R-2")
    remote_status_apply(f2, remote_status="open", at=future)
    assert events(f2, CaseEventKind.STATUS_CHANGED)[-1].at <= clock.now()


def test_a_failure_inside_leaves_nothing_half_written(forward: Forward) -> None:
    before_events = CaseEvent.objects.filter(case_id=forward.case_id).count()
    with (
        mock.patch.object(rs.ForwardSync.objects, "create", side_effect=RuntimeError("disk")),
        pytest.raises(RuntimeError),
    ):
        remote_status_apply(forward, remote_status="fixed", note="Done.")
    assert CaseEvent.objects.filter(case_id=forward.case_id).count() == before_events
    assert status_of(forward) == CaseStatus.NEW
    forward.refresh_from_db()
    assert forward.remote_status == "" and forward.state == ForwardState.SENT
    assert forward.remote_note_digest == ""


def test_the_second_step_failing_undoes_the_first(forward: Forward) -> None:
    real = rs.case_transition
    calls = {"n": 0}

    def second_fails(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            from townhall.cases.errors import InvalidTransition

            raise InvalidTransition("raced")
        return real(**kwargs)

    with mock.patch.object(rs, "case_transition", side_effect=second_fails):
        sync = remote_status_apply(forward, remote_status="fixed", note="Done.")
    assert status_of(forward) == CaseStatus.NEW  # not left half-way in progress
    assert "not applied" in sync.detail
    assert [e.content["text"] for e in events(forward, CaseEventKind.PUBLIC_UPDATE)] == ["Done."]


def test_long_and_hostile_remote_text_is_bounded(forward: Forward) -> None:
    status = "x" * 500
    sync = remote_status_apply(forward, remote_status=status, note="<script>alert(1)</script>")
    forward.refresh_from_db()
    assert len(forward.remote_status) == 60 and len(sync.remote_status) <= 60
    # stored as text; escaping is the page's job (the case page renders autoescaped)
    texts = [e.content["text"] for e in events(forward, CaseEventKind.PUBLIC_UPDATE)]
    assert texts == ["<script>alert(1)</script>"]


def test_path_to() -> None:
    s = CaseStatus
    assert path_to(s.NEW, s.RESOLVED) == [s.IN_PROGRESS, s.RESOLVED]
    assert path_to(s.NEW, s.IN_PROGRESS) == [s.IN_PROGRESS]
    assert path_to(s.ACKNOWLEDGED, s.RESOLVED) == [s.RESOLVED]
    assert path_to(s.CLOSED, s.IN_PROGRESS) == []
    assert path_to(s.RESOLVED, s.IN_PROGRESS) == []
