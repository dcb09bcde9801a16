"""Status sync against a fake Open311 server over real HTTP: changes applied once, outages
backed off and reported sparingly, malformed answers skipped, the updates extension read
once, and a bounded number of queries per round."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.forwarding.fake_remote import FakeRemote, serve
from tests.forwarding.sync_fixtures import body_make, forward_make
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.core import clock
from townhall.forwarding.models import Body, Forward, ForwardState, ForwardSync, SyncKind
from townhall.forwarding.syncing import (
    ALERT_AFTER,
    MISSING,
    body_updates_pull,
    forwards_poll,
    forwards_poll_due,
    record_parse,
)

pytestmark = pytest.mark.django_db

PORT, OTHER_PORT, DEAD_PORT = 8201, 8202, 8209  # the ports this work was given


@pytest.fixture
def remote() -> Iterator[FakeRemote]:
    yield from serve(FakeRemote(), PORT)


@pytest.fixture
def other_remote() -> Iterator[FakeRemote]:
    yield from serve(FakeRemote(), OTHER_PORT)


@pytest.fixture
def body(town: Any, remote: FakeRemote) -> Body:
    return body_make(endpoint=remote.url)


def later(minutes: float) -> datetime:
    return clock.now() + timedelta(minutes=minutes)


def case_status(forward: Forward) -> str:
    return Case.objects.get(pk=forward.case_id).status


def public_texts(forward: Forward) -> list[str]:
    return [
        e.content["text"]
        for e in CaseEvent.objects.filter(case_id=forward.case_id, kind=CaseEventKind.PUBLIC_UPDATE)
    ]


def syncs(forward: Forward, **filters: Any) -> list[ForwardSync]:
    return list(ForwardSync.objects.filter(forward=forward, **filters).order_by("at", "pk"))


def test_statuses_change_and_are_applied_once(body: Body, remote: FakeRemote, pothole: Any) -> None:
    one, two, gone = (forward_make(body, pothole, f"R-{i}") for i in (1, 2, 3))
    remote.status("R-1", "open")
    remote.status("R-2", "closed", "Filled with asphalt.", "2026-01-01T10:00:00-05:00")
    result = forwards_poll(now=later(1))
    assert (result.read, result.applied, result.failed_bodies) == (3, 2, 0)
    assert case_status(one) == CaseStatus.IN_PROGRESS
    assert case_status(two) == CaseStatus.RESOLVED
    assert case_status(gone) == CaseStatus.NEW
    two.refresh_from_db()
    assert two.state == ForwardState.CLOSED and two.remote_status == "closed"
    [missing] = syncs(gone, ok=False)
    assert missing.detail == MISSING
    # one GET for the three ids
    assert len([c for c in remote.calls if "requests.json" in c]) == 1
    assert "R-1%2CR-2%2CR-3" in remote.calls[0] or "R-1,R-2,R-3" in remote.calls[0]

    # the next round, after poll_seconds: nothing new, nothing written again
    events_before = CaseEvent.objects.count()
    result = forwards_poll(now=later(20))
    assert (result.read, result.applied) == (2, 0)  # the closed forward is no longer read
    assert CaseEvent.objects.count() == events_before
    assert len(syncs(gone, ok=False)) == 1  # missing: recorded once, not each poll

    # a new note with the same status reaches the resident, once
    remote.status("R-1", "open", "Crew booked for Monday.")
    forwards_poll(now=later(40))
    forwards_poll(now=later(60))
    assert public_texts(one) == ["Crew booked for Monday."]

    # the missing one comes back: its standing problem is cleared
    remote.status("R-3", "investigating")
    forwards_poll(now=later(80))
    gone.refresh_from_db()
    assert gone.last_error == "" and case_status(gone) == CaseStatus.IN_PROGRESS


def test_forwards_are_not_read_before_poll_seconds(
    body: Body, remote: FakeRemote, pothole: Any
) -> None:
    forward_make(body, pothole, "R-1")
    remote.status("R-1", "open")
    assert forwards_poll_due(now=later(1)) == 1
    assert forwards_poll_due(now=later(5)) == 0  # 900 s not passed
    assert forwards_poll_due(now=later(16)) == 1
    assert forwards_poll_due(limit=0, now=later(60)) == 0


def test_unknown_status_is_reported_once(body: Body, remote: FakeRemote, pothole: Any) -> None:
    forward = forward_make(body, pothole, "R-1")
    remote.status("R-1", "awaiting_parts")
    forwards_poll(now=later(1))
    forwards_poll(now=later(20))
    failures = syncs(forward, kind=SyncKind.FAILURE)
    assert len(failures) == 1 and "awaiting_parts" in failures[0].detail
    assert case_status(forward) == CaseStatus.NEW
    notes = CaseEvent.objects.filter(case_id=forward.case_id, kind=CaseEventKind.NOTE)
    assert notes.count() == 1


@pytest.mark.parametrize("mode", ["refused", "500", "garbage", "object", "slow", "404"])
def test_outage_backs_off_reports_sparingly_and_spares_other_bodies(
    town: Any, pothole: Any, remote: FakeRemote, other_remote: FakeRemote, mode: str
) -> None:
    endpoint = f"http://127.0.0.1:{DEAD_PORT}/open311/v2/" if mode == "refused" else remote.url
    down = body_make("down", endpoint=endpoint, timeout_seconds=0.3)
    up = body_make("up", endpoint=other_remote.url)
    remote.mode, remote.slow_seconds = mode, 1.0
    lost = [forward_make(down, pothole, f"D-{i}") for i in range(3)]
    fine = forward_make(up, pothole, "U-1")
    other_remote.status("U-1", "fixed")

    result = forwards_poll(now=later(1))
    assert result.failed_bodies == 1 and result.read == 1
    assert case_status(fine) == CaseStatus.RESOLVED  # the other body carried on
    down.refresh_from_db()
    assert down.sync_failures == 1 and down.sync_retry_at is not None and down.sync_error
    for forward in lost:
        [retry] = syncs(forward)
        assert retry.kind == SyncKind.RETRY and not retry.ok
        assert case_status(forward) == CaseStatus.NEW
        forward.refresh_from_db()
        assert forward.state == ForwardState.SENT  # never lost, never half-done

    # backing off: not asked again before its retry time
    calls = len(remote.calls)
    forwards_poll(now=later(1.5))
    assert len(remote.calls) == calls
    # each later failure backs off further; one alert when the outage lasts ALERT_AFTER polls
    when = later(1)
    for n in range(2, ALERT_AFTER + 3):
        down.refresh_from_db()
        assert down.sync_retry_at is not None
        when = down.sync_retry_at + timedelta(seconds=1)
        forwards_poll(now=when)
        down.refresh_from_db()
        assert down.sync_failures == n
    for forward in lost:
        assert len(syncs(forward, kind=SyncKind.RETRY)) == 1
        assert len(syncs(forward, kind=SyncKind.FAILURE)) == 1
    assert down.sync_retry_at is not None
    assert down.sync_retry_at - when <= timedelta(hours=1)

    # the body answers again: the outage is over, statuses flow
    remote.mode = "ok"
    Body.objects.filter(pk=down.pk).update(endpoint=remote.url)  # "refused": it moved
    remote.status("D-0", "open")
    forwards_poll(now=down.sync_retry_at + timedelta(seconds=1))
    down.refresh_from_db()
    assert (down.sync_failures, down.sync_retry_at, down.sync_error) == (0, None, "")
    assert case_status(lost[0]) == CaseStatus.IN_PROGRESS


def test_malformed_records_are_skipped_and_reported(
    body: Body, remote: FakeRemote, pothole: Any
) -> None:
    good, bad_status, bad_date, bad_note = (forward_make(body, pothole, f"R-{i}") for i in range(4))
    remote.requests = {
        "R-0": {"service_request_id": "R-0", "status": "open"},
        "R-1": {"service_request_id": "R-1", "status": {"nested": True}},
        "R-2": {"service_request_id": "R-2", "status": "closed", "updated_datetime": "yesterday"},
        "R-3": {"service_request_id": "R-3", "status": "open", "status_notes": ["x"]},
        "junk": "not a record",  # type: ignore[dict-item]
    }
    # the fake answers only the ids asked for; add records with no id and not objects
    original = remote.answer

    def answer(path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        status, body_bytes = original(path, query)
        items = json.loads(body_bytes)
        items += ["a string", 42, {"status": "open"}, {"service_request_id": None}]
        return status, json.dumps(items).encode()

    remote.answer = answer  # type: ignore[method-assign]
    result = forwards_poll(now=later(1))
    assert result.failed_bodies == 0 and result.applied == 1
    assert case_status(good) == CaseStatus.IN_PROGRESS
    for forward in (bad_status, bad_date, bad_note):
        assert case_status(forward) == CaseStatus.NEW
        [problem] = syncs(forward, ok=False)
        assert problem.detail.startswith("the body's record is malformed")
    forwards_poll(now=later(20))
    for forward in (bad_status, bad_date, bad_note):
        assert len(syncs(forward, ok=False)) == 1  # reported once


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ({}, "no service_request_id"),
        ({"service_request_id": ""}, "no service_request_id"),
        ({"service_request_id": True, "status": "open"}, "no service_request_id"),
        ({"service_request_id": "1", "status": 3}, "status"),
        ({"service_request_id": "1", "status": "x" * 61}, "status"),
        ({"service_request_id": "1", "status": "open", "updated_datetime": "2026-13-45"}, "date"),
        ({"service_request_id": "1", "status": "open", "updated_datetime": 1700000000}, "date"),
        (
            {"service_request_id": "1", "status": "open", "updated_datetime": "2026-01-01T10:00"},
            "zone",
        ),
    ],
)
def test_record_parse_refuses_malformed(raw: dict[str, Any], why: str) -> None:
    problem = record_parse(raw)
    assert isinstance(problem, str) and why in problem


def test_record_parse_takes_numeric_ids_and_null_notes() -> None:
    record = record_parse({"service_request_id": 12, "status": "open", "status_notes": None})
    assert not isinstance(record, str)
    assert (record.remote_id, record.status, record.note) == ("12", "open", "")


def update(uid: str, rid: str, status: str, text: str, at: str) -> dict[str, Any]:
    return {
        "update_id": uid,
        "service_request_id": rid,
        "status": status,
        "description": text,
        "updated_datetime": at,
    }


def test_updates_extension_applies_each_update_once_in_time_order(
    body: Body, remote: FakeRemote, pothole: Any
) -> None:
    body.supports_updates = True
    body.save()
    forward = forward_make(body, pothole, "R-1")
    base = clock.now() - timedelta(minutes=30)
    t1, t2 = (base + timedelta(minutes=m) for m in (1, 2))
    # served newest first, one repeated, one for a request that is not ours, one malformed
    remote.updates = [
        update("u2", "R-1", "fixed", "All done.", t2.isoformat()),
        update("u1", "R-1", "investigating", "Inspector on the way.", t1.isoformat()),
        update("u1", "R-1", "investigating", "Inspector on the way.", t1.isoformat()),
        update("u9", "NOT-OURS", "fixed", "Someone else's.", t1.isoformat()),
        {"update_id": "u3", "service_request_id": "R-1", "status": "open"},  # no time
    ]
    remote.status("R-1", "fixed", "All done.")
    assert body_updates_pull(body, now=clock.now()) == 2
    moves = [
        e.data["to"]
        for e in CaseEvent.objects.filter(
            case_id=forward.case_id, kind=CaseEventKind.STATUS_CHANGED
        )
    ]
    assert moves == ["in_progress", "resolved"]
    body.refresh_from_db()
    assert body.updates_cursor is not None and body.updates_cursor >= t2
    # read again (the overlap brings them back): nothing applied twice
    events_before = CaseEvent.objects.count()
    assert body_updates_pull(body, now=clock.now()) == 0
    assert CaseEvent.objects.count() == events_before
    forward.refresh_from_db()
    assert forward.updates_after == t2 and forward.state == ForwardState.CLOSED
    assert len(syncs(forward, kind=SyncKind.UPDATE)) == 2
    call = [c for c in remote.calls if "servicerequestupdates" in c][-1]
    assert "start_date=" in call and "end_date=" in call


def test_updates_and_polling_in_one_round_do_not_repeat_the_note(
    body: Body, remote: FakeRemote, pothole: Any
) -> None:
    body.supports_updates = True
    body.save()
    forward = forward_make(body, pothole, "R-1")
    at = (clock.now() - timedelta(minutes=5)).isoformat()
    remote.updates = [update("u1", "R-1", "investigating", "Inspector booked.", at)]
    remote.status("R-1", "investigating", "Inspector booked.")
    result = forwards_poll(now=clock.now())
    assert result.applied == 1
    changes = CaseEvent.objects.filter(case_id=forward.case_id, kind=CaseEventKind.STATUS_CHANGED)
    assert [e.content.get("note") for e in changes] == ["Inspector booked."]
    assert public_texts(forward) == []


def test_a_body_with_nothing_sent_is_not_asked_for_updates(body: Body, remote: FakeRemote) -> None:
    body.supports_updates = True
    body.save()
    assert body_updates_pull(body) == 0
    assert remote.calls == []


def test_token_becomes_an_id(body: Body, remote: FakeRemote, pothole: Any) -> None:
    forward = forward_make(body, pothole, "", remote_token="tok/../1")
    original = remote.answer

    def answer(path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        if "/tokens/" in path:
            assert path.endswith("/tokens/tok%2F..%2F1.json")
            return 200, b'[{"service_request_id": "R-77", "token": "tok/../1"}]'
        return original(path, query)

    remote.answer = answer  # type: ignore[method-assign]
    remote.status("R-77", "open")
    forwards_poll(now=later(1))
    forward.refresh_from_db()
    assert forward.remote_id == "R-77"
    forwards_poll(now=later(20))
    assert case_status(forward) == CaseStatus.IN_PROGRESS


def test_inactive_and_work_order_bodies_are_not_polled(
    town: Any, remote: FakeRemote, pothole: Any
) -> None:
    off = body_make("off", endpoint=remote.url, active=False)
    wo = body_make("wo", endpoint=remote.url, kind="work_order")
    forward_make(off, pothole, "R-1")
    forward_make(wo, pothole, "R-2")
    assert forwards_poll_due(now=later(1)) == 0
    assert remote.calls == []


def test_queries_per_round_are_bounded(
    body: Body, remote: FakeRemote, pothole: Any, django_assert_max_num_queries: Any
) -> None:
    forwards = [forward_make(body, pothole, f"R-{i}") for i in range(200)]
    for f in forwards:
        remote.status(f.remote_id, "open")
    Forward.objects.filter(body=body).update(remote_status="open")  # already applied
    # 200 unchanged forwards, 4 calls: a fixed number of queries, not one per forward
    with django_assert_max_num_queries(12):
        assert forwards_poll_due(now=later(1)) == 200
    assert len([c for c in remote.calls if "requests.json" in c]) == 4
    # 20 changes among 200: the cost grows with the changes, not with the forwards
    for f in forwards[:20]:
        remote.status(f.remote_id, "fixed", "Done.")
    with CaptureQueriesContext(connection) as changed:
        assert forwards_poll_due(now=later(20)) == 200
    with CaptureQueriesContext(connection) as idle:
        assert forwards_poll_due(now=later(40)) == 180
    per_change = (len(changed) - len(idle)) / 20
    assert per_change < 40, per_change


def test_real_boston_answers_are_applied(body: Body, remote: FakeRemote, pothole: Any) -> None:
    """City of Boston GeoReport v2 records as served (tests/open311/data/boston): "open" and
    "closed" with the city's status_notes, ids like "H323401-101003193368"."""
    page = Path(__file__).parents[1] / "open311" / "data" / "boston" / "dangerous.json.gz"
    records = json.loads(gzip.decompress(page.read_bytes()))
    opened = [r for r in records if r["status"] == "open"][:20]
    closed = [r for r in records if r["status"] == "closed" and r.get("status_notes")][:20]
    forwards = {
        r["service_request_id"]: forward_make(body, pothole, r["service_request_id"])
        for r in opened + closed
    }
    remote.requests = {r["service_request_id"]: r for r in opened + closed}
    result = forwards_poll(now=later(1))
    assert (result.read, result.applied, result.failed_bodies) == (40, 40, 0)
    for r in opened:
        assert case_status(forwards[r["service_request_id"]]) == CaseStatus.IN_PROGRESS
    for r in closed:
        forward = forwards[r["service_request_id"]]
        assert case_status(forward) == CaseStatus.RESOLVED
        last = CaseEvent.objects.filter(
            case_id=forward.case_id, kind=CaseEventKind.STATUS_CHANGED
        ).latest("seq")
        assert last.content["note"] == r["status_notes"].strip() and last.public
        forward.refresh_from_db()
        assert forward.state == ForwardState.CLOSED
    # read again after poll_seconds: the open ones cost nothing more
    events_before = CaseEvent.objects.count()
    assert forwards_poll(now=later(20)).applied == 0
    assert CaseEvent.objects.count() == events_before
