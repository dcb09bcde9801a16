"""The work-order systems' inbound endpoint: /hooks/workorders/<body-slug>/
(forwarding/inbound.py, docs/forwarding-inbound.md)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import orjson
import pytest
from django.test import Client

from tests.forwarding.fwdwork_fixtures import (
    SECRET,
    body_make,
    case_make,
    forward_make,
    signed_post,
)
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.cases.services import case_transition
from townhall.core import clock
from townhall.forwarding.models import BodyKind, Forward, ForwardSync, InboundEvent, SyncKind

pytestmark = pytest.mark.django_db

SLUG = "county-works"


@pytest.fixture
def body(town: Any) -> Any:
    return body_make(SLUG)


@pytest.fixture
def forwarded(body: Any, pothole: Any) -> Forward:
    return forward_make(case_make(pothole), body, remote_id="WO-1001")


def _event(forward: Forward, **fields: Any) -> dict[str, Any]:
    return {"event_id": "evt-1", "case": forward.case.reference, **fields}


def _post(payload: Any, *, slug: str = SLUG, secret: str | None = None, **kw: Any) -> Any:
    return signed_post(Client(), slug, payload, secret=secret or SECRET + slug, **kw)


def _events(case: Case, kind: str) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind=kind).order_by("seq"))


def test_a_good_event_applies_the_status_the_note_and_the_internal_note(
    forwarded: Forward,
) -> None:
    at = (clock.now() - timedelta(hours=1)).replace(microsecond=0).isoformat()
    answer = _post(
        _event(
            forwarded,
            status="fixed",
            note="Filled this morning.",
            internal_note="Crew 7, 40 kg of asphalt",
            at=at,
        )
    )
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "event_id": "evt-1",
        "case": forwarded.case.reference,
        "outcome": "accepted",
        "repeat": False,
    }
    case = Case.objects.get(pk=forwarded.case_id)
    assert case.status == CaseStatus.RESOLVED  # new -> in progress -> resolved
    changes = _events(case, CaseEventKind.STATUS_CHANGED)
    # The note is told with the change, once.
    assert sum("Filled this morning." in str(e.content) for e in changes) == 1
    assert not _events(case, CaseEventKind.PUBLIC_UPDATE)
    notes = _events(case, CaseEventKind.NOTE)
    assert [n.public for n in notes] == [False]
    assert notes[0].content["text"] == f"{forwarded.body.name}: Crew 7, 40 kg of asphalt"
    forward = Forward.objects.get(pk=forwarded.pk)
    assert forward.remote_status == "fixed"
    assert forward.state == "closed"
    sync = ForwardSync.objects.get(forward=forward)
    assert sync.kind == SyncKind.INBOUND and sync.ok
    assert at in sync.detail
    assert InboundEvent.objects.filter(body=forwarded.body, event_id="evt-1").count() == 1


def test_the_body_s_own_work_order_id_names_the_case_too(forwarded: Forward) -> None:
    answer = _post({"event_id": "e", "case": "WO-1001", "status": "in_progress"})
    assert answer.status_code == 200
    assert answer.json()["case"] == forwarded.case.reference
    assert Case.objects.get(pk=forwarded.case_id).status == CaseStatus.IN_PROGRESS


def test_a_note_alone_is_a_public_update(forwarded: Forward) -> None:
    answer = _post(_event(forwarded, note="We will be there on Tuesday."))
    assert answer.status_code == 200
    updates = _events(forwarded.case, CaseEventKind.PUBLIC_UPDATE)
    assert [u.content["text"] for u in updates] == ["We will be there on Tuesday."]
    assert Case.objects.get(pk=forwarded.case_id).status == CaseStatus.NEW


def test_a_repeated_event_id_applies_nothing_and_answers_the_same(forwarded: Forward) -> None:
    payload = _event(forwarded, status="in_progress", note="On our list.")
    first = _post(payload)
    events_after_first = CaseEvent.objects.filter(case=forwarded.case).count()
    syncs_after_first = ForwardSync.objects.count()
    # The very same request again (a retry after a lost answer), then the same id re-signed
    # later with other content: neither changes anything.
    again = _post(payload)
    other = _post(_event(forwarded, status="fixed", note="Different text"))
    for answer in (again, other):
        assert answer.status_code == 200
        assert answer.json() == {**first.json(), "repeat": True}
    assert CaseEvent.objects.filter(case=forwarded.case).count() == events_after_first
    assert ForwardSync.objects.count() == syncs_after_first
    assert Case.objects.get(pk=forwarded.case_id).status == CaseStatus.IN_PROGRESS


@pytest.mark.parametrize(
    "how",
    ["wrong secret", "no signature", "tampered body", "stale", "future", "bad timestamp", "v0"],
)
def test_an_unsigned_forged_or_stale_event_is_refused_and_changes_nothing(
    forwarded: Forward, how: str
) -> None:
    payload = _event(forwarded, status="fixed")
    raw = orjson.dumps(payload)
    now = int(time.time())
    kw: dict[str, Any] = {}
    if how == "wrong secret":
        kw["secret"] = "not-the-secret"
    elif how == "no signature":
        kw["signature"] = ""
    elif how == "tampered body":
        from townhall.notify.channels.webhook import webhook_signature

        kw["signature"] = webhook_signature(secret=SECRET + SLUG, timestamp=now, body=raw)
        kw["timestamp"] = now
        kw["raw"] = raw.replace(b"fixed", b"rejected")
    elif how == "stale":
        kw["timestamp"] = now - 301
    elif how == "future":
        kw["timestamp"] = now + 301
    elif how == "bad timestamp":
        kw["signature"] = "v1=00"
    elif how == "v0":
        from townhall.notify.channels.webhook import webhook_signature

        good = webhook_signature(secret=SECRET + SLUG, timestamp=now, body=raw)
        kw["signature"] = good.replace("v1=", "sha256=")
        kw["timestamp"] = now
    answer = _post(payload, **kw)
    assert answer.status_code == 401
    assert "X-Townhall-Signature" in answer.json()["errors"][0]["message"]
    assert Case.objects.get(pk=forwarded.case_id).status == CaseStatus.NEW
    assert not ForwardSync.objects.exists()
    assert not InboundEvent.objects.exists()


def test_an_unknown_or_unfit_body_gets_the_same_answer_as_a_bad_signature(
    forwarded: Forward, town: Any
) -> None:
    bad_signature = _post(_event(forwarded, status="fixed"), secret="nope").json()
    body_make("switched-off", active=False)
    body_make("no-secret", inbound_secret="")
    body_make("open311-one", kind=BodyKind.OPEN311)
    for slug in ("nobody-here", "switched-off", "no-secret", "open311-one"):
        # Correctly signed with what would be that body's secret: still refused.
        answer = _post(_event(forwarded, status="fixed"), slug=slug)
        assert answer.status_code == 401, slug
        assert answer.json() == bad_signature
    assert Case.objects.get(pk=forwarded.case_id).status == CaseStatus.NEW


def test_a_body_cannot_touch_another_body_s_case_nor_one_we_kept(
    forwarded: Forward, pothole: Any
) -> None:
    other_body = body_make("district-works")
    theirs = forward_make(case_make(pothole, "Another hole"), other_body, remote_id="WO-1001x")
    kept = case_make(pothole, "A hole we fix ourselves")
    unknown = {
        "errors": [{"field": "case", "message": "No case of that reference was forwarded to you."}]
    }
    for reference in (theirs.case.reference, "WO-1001x", kept.reference, "TH-26-999999", "WO-9"):
        answer = _post({"event_id": f"x-{reference}", "case": reference, "status": "fixed"})
        assert answer.status_code == 404, reference
        assert answer.json() == unknown
    assert Case.objects.get(pk=theirs.case_id).status == CaseStatus.NEW
    assert Case.objects.get(pk=kept.pk).status == CaseStatus.NEW
    assert not InboundEvent.objects.exists()
    # The other body's event id space is its own: the same id is fine for both.
    ok = signed_post(
        Client(),
        "district-works",
        {"event_id": "evt-1", "case": "WO-1001x", "status": "open"},
        secret=SECRET + "district-works",
    )
    assert ok.status_code == 200
    assert _post(_event(forwarded, status="open")).json()["repeat"] is False


def test_a_withdrawn_forward_is_no_longer_the_body_s(forwarded: Forward) -> None:
    Forward.objects.filter(pk=forwarded.pk).update(state="withdrawn")
    answer = _post(_event(forwarded, status="fixed"))
    assert answer.status_code == 404
    assert Case.objects.get(pk=forwarded.case_id).status == CaseStatus.NEW


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (b'"fixed"', "body"),
        (b"\xff\xfe", "body"),
        (b'{"case": "TH-26-000001", "status": "fixed"}', "event_id"),
        (b'{"event_id": "e"}', "case"),
        (b'{"event_id": "e", "case": "x"}', "status"),
        (b'{"event_id": 7, "case": "x", "status": "fixed"}', "event_id"),
        (b'{"event_id": "e", "case": ["x"], "status": "fixed"}', "case"),
        (b'{"event_id": "e", "case": "x", "status": {"a": 1}}', "status"),
        (b'{"event_id": "e", "case": "x", "status": "fixed", "at": "yesterday"}', "at"),
        (b'{"event_id": "e", "case": "x", "status": "fixed", "at": "2026-12-03T09:00:00"}', "at"),
        (b'{"event_id": "e", "case": "x", "status": "fixed", "at": "2099-01-01T00:00:00Z"}', "at"),
        (b'{"event_id": "e", "case": "x", "status": "fixed", "priority": "urgent"}', "priority"),
        (b'{"event_id": "e", "case": "x", "note": "a\\u0000b"}', "note"),
    ],
)
def test_malformed_events_get_400_with_the_field(
    forwarded: Forward, raw: bytes, field: str
) -> None:
    answer = _post(None, raw=raw)
    assert answer.status_code == 400, answer.content
    assert answer["Content-Type"] == "application/json"
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert not ForwardSync.objects.exists()


@pytest.mark.parametrize("name", ["event_id", "case", "status", "note", "internal_note"])
def test_overlong_fields_are_refused(forwarded: Forward, name: str) -> None:
    payload = {**_event(forwarded, status="open"), name: "x" * 5000}
    answer = _post(payload)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == name


def test_a_huge_body_is_refused_before_it_is_read(forwarded: Forward) -> None:
    payload = _event(forwarded, status="fixed", note="x" * 3000)
    raw = orjson.dumps({**payload, "internal_note": "y" * 70_000})
    answer = _post(None, raw=raw)
    assert answer.status_code == 413
    # Bigger than Django's own request limit (2.5 MB): still our JSON 413, never a 400/500.
    answer = _post(None, raw=b"{" + b" " * 3_000_000 + b"}")
    assert answer.status_code == 413
    assert answer.json()["errors"][0]["field"] == "body"
    assert not ForwardSync.objects.exists()


def test_an_unknown_status_is_recorded_and_told_to_staff_not_guessed(
    forwarded: Forward,
) -> None:
    answer = _post(_event(forwarded, status="sent_to_contractor", note="Passed on."))
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "status_unknown"
    case = Case.objects.get(pk=forwarded.case_id)
    assert case.status == CaseStatus.NEW
    sync = ForwardSync.objects.get(forward=forwarded)
    assert not sync.ok and sync.remote_status == "sent_to_contractor"
    internal = [e.content["text"] for e in _events(case, CaseEventKind.NOTE)]
    assert any("sent_to_contractor" in text for text in internal)
    # The note still reaches the resident.
    assert [e.content["text"] for e in _events(case, CaseEventKind.PUBLIC_UPDATE)] == ["Passed on."]
    # A repeat answers the same.
    assert _post(_event(forwarded, status="sent_to_contractor")).json()["outcome"] == (
        "status_unknown"
    )


def test_a_move_the_lifecycle_forbids_is_refused_with_409_and_recorded(
    forwarded: Forward,
) -> None:
    case = Case.objects.get(pk=forwarded.case_id)
    case = case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=None)
    case = case_transition(case=case, to=CaseStatus.RESOLVED, actor=None)
    case_transition(case=case, to=CaseStatus.CLOSED, actor=None)
    events_before = CaseEvent.objects.filter(case=case).count()
    answer = _post(_event(forwarded, status="in_progress", note="Back on it"))
    assert answer.status_code == 409
    assert answer.json()["errors"][0]["field"] == "status"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED
    assert CaseEvent.objects.filter(case=case).count() == events_before  # nothing written
    sync = ForwardSync.objects.get(forward=forwarded)
    assert not sync.ok and sync.detail.startswith("refused:")
    # The event id was not kept: once refused, the same event is refused again, not "repeat".
    assert not InboundEvent.objects.exists()
    assert _post(_event(forwarded, status="in_progress")).status_code == 409


def test_get_and_other_methods_are_not_allowed(forwarded: Forward) -> None:
    assert Client().get(f"/hooks/workorders/{SLUG}/").status_code == 405


def test_the_endpoint_is_rate_limited(forwarded: Forward, settings: Any) -> None:
    settings.TOWNHALL_RATE_LIMITS = {**settings.TOWNHALL_RATE_LIMITS, "hooks": "3/minute"}
    codes = [_post(None, raw=b"{}", secret="bad").status_code for _ in range(5)]
    assert codes[:3] == [401, 401, 401]
    assert codes[3:] == [429, 429]
