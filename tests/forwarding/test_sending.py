"""Sending forwards to a real local Open311 server: success, tokens, retries with backoff,
refusals, timeouts, unreadable answers, refused connections, concurrency, and privacy."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from tests.forwarding.conftest import API_KEY, INSIDE, OUTSIDE, FakeOpen311, Reply
from townhall.cases.models import CaseEvent, CaseEventKind
from townhall.cases.services import case_open, case_watch
from townhall.core import clock
from townhall.forwarding import sending
from townhall.forwarding.models import (
    Body,
    BodyKind,
    Forward,
    ForwardState,
    ForwardSync,
    RoutingRule,
    ServiceMapping,
    SyncKind,
)
from townhall.forwarding.sending import (
    ForwardingRefused,
    backoff_seconds,
    forward_on_case_opened,
    forward_resend,
    forward_send,
    forward_to,
    forward_withdraw,
    forwards_send_due,
    request_fields,
)
from townhall.notify.models import Notification
from townhall.people.models import Channel
from townhall.people.roles import StaffRole
from townhall.people.services import staff_user_create

pytestmark = pytest.mark.django_db


def _open(service: Any, place: dict[str, float], **extra: Any) -> Any:
    return case_open(
        service_type=service,
        channel=Channel.OPEN311,
        description=extra.pop("description", "Deep hole by the school"),
        answers=extra.pop("answers", {"size": "large"}),
        **place,
        **extra,
    )


def _forward(case: Any) -> Forward:
    return Forward.objects.select_related("body").get(case=case)


def _notes(case: Any, kind: str = CaseEventKind.NOTE) -> list[str]:
    return [e.content["text"] for e in CaseEvent.objects.filter(case=case, kind=kind)]


# -- opening ---------------------------------------------------------------------------------


def test_a_case_opened_inside_the_boundary_gets_one_pending_forward(
    county_rule: RoutingRule, pothole: Any
) -> None:
    case = _open(pothole, INSIDE)
    forward = _forward(case)
    assert forward.state == ForwardState.PENDING and forward.body_id == county_rule.body_id
    assert forward.next_attempt_at == case.opened_at
    task = DBTaskResult.objects.get(task_path="townhall.forwarding.tasks.forward_send_task")
    assert task.args_kwargs["args"] == [forward.pk]
    assert Forward.objects.count() == 1


def test_a_case_outside_the_boundary_or_of_another_service_is_not_forwarded(
    county_rule: RoutingRule, pothole: Any, no_heat: Any
) -> None:
    _open(pothole, OUTSIDE)
    _open(no_heat, INSIDE, answers={})
    assert not Forward.objects.exists()


def test_an_imported_case_is_never_forwarded(county_rule: RoutingRule, pothole: Any) -> None:
    from townhall.cases.services import case_import

    now = clock.now()
    case_import(
        service_type=pothole,
        external_id="old-1",
        finished=False,
        opened_at=now,
        updated_at=now,
        **INSIDE,
    )
    assert not Forward.objects.exists()


def test_the_subscriber_costs_no_query_without_rules(
    pothole: Any, django_assert_num_queries: Any
) -> None:
    case = _open(pothole, INSIDE)  # warms the (empty) rules
    event = CaseEvent(case=case, kind=CaseEventKind.OPENED, at=case.opened_at, data={})
    with django_assert_num_queries(0):
        forward_on_case_opened(event)
    assert not Forward.objects.exists()


def test_the_subscriber_with_a_rule_only_writes_the_forward_and_its_task(
    county_rule: RoutingRule, pothole: Any, django_assert_num_queries: Any
) -> None:
    case = _open(pothole, OUTSIDE)
    event = CaseEvent(case=case, kind=CaseEventKind.OPENED, at=case.opened_at, data={})
    with django_assert_num_queries(0):
        forward_on_case_opened(event)  # outside: no query
    case.lat, case.long = INSIDE["lat"], INSIDE["long"]
    with django_assert_num_queries(2):  # the forward, the task row
        forward_on_case_opened(event)


# -- what is sent ----------------------------------------------------------------------------


def test_fields_are_mapped_and_personal_data_stays_home(
    county_rule: RoutingRule, pothole: Any, resident: Any, remote: FakeOpen311
) -> None:
    ServiceMapping.objects.create(
        body=county_rule.body,
        service_type=pothole,
        remote_code="ROAD-POT",
        attributes={"size": {"code": "pothole_size", "values": {"large": "L"}}, "depth_cm": ""},
    )
    case = _open(
        pothole,
        INSIDE,
        reporter=resident,
        description="Big hole, call me on 617-555-0199 or rosa@example.org",
        answers={"size": "large", "depth_cm": 12},
        address="1 Main St",
    )
    fields = request_fields(_forward(case))
    assert fields["service_code"] == "ROAD-POT"
    assert fields["attribute[pothole_size]"] == "L"
    assert not any("depth" in k for k in fields)
    assert fields["lat"] == "42.36" and fields["address_string"] == "1 Main St"
    for personal in ("email", "phone", "first_name", "last_name"):
        assert personal not in fields
    assert "617-555-0199" not in fields["description"]
    assert "rosa@example.org" not in fields["description"]
    forward_send(_forward(case).pk)
    sent = remote.posts()[0].form
    assert not {"email", "phone", "first_name"} & set(sent)
    assert "617-555-0199" not in str(sent) and "rosa@example.org" not in str(sent)


def test_a_trusted_body_gets_the_reporters_name_and_contacts(
    county_rule: RoutingRule, pothole: Any, resident: Any
) -> None:
    Body.objects.filter(pk=county_rule.body_id).update(send_personal_data=True)
    case = _open(pothole, INSIDE, reporter=resident, description="call 617-555-0199")
    fields = request_fields(_forward(case))
    assert fields["first_name"] == "Rosa" and fields["last_name"] == "Reporter"
    assert fields["email"] == "rosa@example.org" and fields["phone"].endswith("5550199")
    assert "617-555-0199" in fields["description"]
    assert fields["service_code"] == "pothole"  # no mapping: our code


# -- sending ---------------------------------------------------------------------------------


def test_a_send_stores_the_id_and_tells_the_resident(
    county_rule: RoutingRule, pothole: Any, remote: FakeOpen311
) -> None:
    remote.replies.append(Reply(201, [{"service_request_id": "KCC-42"}]))
    case = _open(pothole, INSIDE)
    forward = forward_send(_forward(case).pk)
    assert forward.state == ForwardState.SENT and forward.remote_id == "KCC-42"
    assert forward.sent_at is not None and forward.attempts == 1
    sync = ForwardSync.objects.get(forward=forward)
    assert sync.kind == SyncKind.SEND and sync.ok and sync.elapsed_ms is not None
    (update,) = _notes(case, CaseEventKind.PUBLIC_UPDATE)
    assert "the County" in update and "KCC-42" in update
    # Sending again does nothing: it is not pending any more.
    assert forward_send(forward.pk).state == ForwardState.SENT
    assert len(remote.posts()) == 1
    case.refresh_from_db()
    assert case.status != "closed"


def test_a_token_becomes_an_id_on_the_sweep(
    county_rule: RoutingRule, pothole: Any, remote: FakeOpen311
) -> None:
    remote.replies.append(Reply(200, [{"token": "T-1"}]))
    case = _open(pothole, INSIDE)
    forward = forward_send(_forward(case).pk)
    assert forward.state == ForwardState.SENT and forward.remote_token == "T-1"
    assert forward.remote_id == ""
    remote.replies.append(Reply(200, [{"service_request_id": "KCC-7", "token": "T-1"}]))
    later = clock.now() + timedelta(minutes=10)
    assert forwards_send_due(now=later) == 0
    forward.refresh_from_db()
    assert forward.remote_id == "KCC-7"
    assert remote.seen[-1].path.endswith("/tokens/T-1.json")


def test_a_server_error_is_retried_with_backoff_then_sent(
    county_rule: RoutingRule, pothole: Any, remote: FakeOpen311
) -> None:
    remote.replies += [
        Reply(500, b"oops"),
        Reply(503, b""),
        Reply(200, [{"service_request_id": "9"}]),
    ]
    case = _open(pothole, INSIDE)
    started = clock.now()
    forward = forward_send(_forward(case).pk)
    assert forward.state == ForwardState.PENDING and forward.attempts == 1
    assert forward.next_attempt_at is not None
    wait = (forward.next_attempt_at - started).total_seconds()
    assert 60 <= wait <= 75 + 1
    # Not due yet: the sweep leaves it.
    assert forwards_send_due(now=started + timedelta(seconds=30)) == 0
    assert len(remote.posts()) == 1
    assert forwards_send_due(now=started + timedelta(seconds=80)) == 0
    forward.refresh_from_db()
    assert forward.attempts == 2
    wait = (forward.next_attempt_at - (started + timedelta(seconds=80))).total_seconds()
    assert 120 <= wait <= 150 + 1
    assert forwards_send_due(now=started + timedelta(hours=1)) == 1
    forward.refresh_from_db()
    assert forward.state == ForwardState.SENT and forward.remote_id == "9"
    kinds = list(
        ForwardSync.objects.filter(forward=forward).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == [SyncKind.RETRY, SyncKind.RETRY, SyncKind.SEND]


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    assert [backoff_seconds(n, rand=lambda: 0.0) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff_seconds(1, rand=lambda: 1.0) == 75
    assert backoff_seconds(30, rand=lambda: 1.0) == 6 * 3600


def _staff_watching(case: Any) -> Any:
    user = staff_user_create(
        username="watcher",
        role=StaffRole.CASEWORKER,
        password="pw-for-tests-1",
        email="w@example.org",
    )
    case_watch(case=case, user=user)
    return user


def test_a_refusal_fails_at_once_notes_the_case_and_mails_staff(
    county_rule: RoutingRule, pothole: Any, remote: FakeOpen311
) -> None:
    remote.replies.append(Reply(400, [{"code": 400, "description": f"bad api_key {API_KEY}"}]))
    case = _open(pothole, INSIDE)
    _staff_watching(case)
    forward = forward_send(_forward(case).pk)
    assert forward.state == ForwardState.FAILED and forward.next_attempt_at is None
    assert API_KEY not in forward.last_error and "***" in forward.last_error
    (note,) = _notes(case)
    assert "Kent County Council" in note and API_KEY not in note
    mail = Notification.objects.get(kind="forward_failed")
    assert mail.to == "w@example.org" and case.reference in mail.body
    assert API_KEY not in mail.body
    assert not _notes(case, CaseEventKind.PUBLIC_UPDATE)
    case.refresh_from_db()
    assert case.status == "new"  # the case itself is untouched
    # A failed forward is not retried by the sweep.
    assert forwards_send_due(now=clock.now() + timedelta(days=1)) == 0
    assert len(remote.posts()) == 1


@override_settings(TOWNHALL_FORWARDING={"MAX_ATTEMPTS": 2})
def test_too_many_failures_end_in_failed(
    county_rule: RoutingRule, pothole: Any, remote: FakeOpen311
) -> None:
    remote.default = Reply(502, b"")
    case = _open(pothole, INSIDE)
    forward = forward_send(_forward(case).pk)
    assert forward.state == ForwardState.PENDING
    forwards_send_due(now=clock.now() + timedelta(hours=1))
    forward.refresh_from_db()
    assert forward.state == ForwardState.FAILED and forward.attempts == 2
    assert "2 attempts" in _notes(case)[0]


def test_a_slow_server_is_retried(
    county_rule: RoutingRule, pothole: Any, remote: FakeOpen311
) -> None:
    Body.objects.filter(pk=county_rule.body_id).update(timeout_seconds=0.3)
    remote.replies.append(Reply(200, [{"service_request_id": "late"}], delay=1.5))
    forward = forward_send(_forward(_open(pothole, INSIDE)).pk)
    assert forward.state == ForwardState.PENDING and forward.attempts == 1
    assert ForwardSync.objects.get(forward=forward).kind == SyncKind.RETRY


def test_an_unreadable_answer_fails_without_a_second_post(
    county_rule: RoutingRule, pothole: Any, remote: FakeOpen311
) -> None:
    remote.replies.append(Reply(200, b"{'not': json"))
    forward = forward_send(_forward(_open(pothole, INSIDE)).pk)
    assert forward.state == ForwardState.FAILED
    assert "may have been made" in forward.last_error


def test_a_refused_connection_is_retried(county_rule: RoutingRule, pothole: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    Body.objects.filter(pk=county_rule.body_id).update(endpoint=f"http://127.0.0.1:{port}/")
    forward = forward_send(_forward(_open(pothole, INSIDE)).pk)
    assert forward.state == ForwardState.PENDING and "could not reach" in forward.last_error


def test_a_redirect_is_not_followed_and_fails(
    county_rule: RoutingRule, pothole: Any, remote: FakeOpen311
) -> None:
    remote.replies.append(Reply(301, b"", headers={"Location": "http://169.254.169.254/latest"}))
    forward = forward_send(_forward(_open(pothole, INSIDE)).pk)
    assert forward.state == ForwardState.FAILED and len(remote.seen) == 1


def test_the_key_never_reaches_logs_or_syncs(
    county_rule: RoutingRule, pothole: Any, remote: FakeOpen311, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    remote.replies += [
        Reply(500, [{"code": 500, "description": f"key {API_KEY} is busy"}]),
        Reply(200, [{"token": f"tok-{API_KEY}"}]),
    ]
    case = _open(pothole, INSIDE)
    forward_send(_forward(case).pk)
    forwards_send_due(now=clock.now() + timedelta(hours=1))
    assert remote.posts()[0].form["api_key"] == [API_KEY]  # it was sent, in the body
    details = " ".join(ForwardSync.objects.values_list("detail", flat=True))
    assert API_KEY not in details and "***" in details
    assert API_KEY not in caplog.text
    assert all(API_KEY not in str(e.data) for e in CaseEvent.objects.filter(case=case))


def test_a_work_order_body_is_marked_sent_without_a_post(
    pothole: Any, town: Any, remote: FakeOpen311
) -> None:
    body = Body.objects.create(name="Works", slug="works", kind=BodyKind.WORK_ORDER)
    RoutingRule.objects.create(body=body).service_types.add(pothole)
    forward = forward_send(_forward(_open(pothole, INSIDE)).pk)
    assert forward.state == ForwardState.SENT and not remote.seen


def test_the_sweep_uses_one_client_per_body(
    county_rule: RoutingRule, pothole: Any, remote: FakeOpen311, monkeypatch: Any
) -> None:
    made: list[int] = []
    real = sending.client_for

    def counting(body: Body, transport: Any = None) -> Any:
        made.append(body.pk)
        return real(body, transport)

    monkeypatch.setattr(sending, "client_for", counting)
    remote.default = Reply(200, [{"token": "t"}])
    for _ in range(3):
        _open(pothole, INSIDE)
    assert forwards_send_due() == 3
    assert made == [county_rule.body_id]


# -- by hand ---------------------------------------------------------------------------------


def test_staff_forward_resend_and_withdraw(
    county: Body, pothole: Any, caseworker: Any, remote: FakeOpen311
) -> None:
    case = _open(pothole, INSIDE)
    assert not Forward.objects.exists()
    forward = forward_to(case=case, body=county, actor=caseworker)
    with pytest.raises(ForwardingRefused):
        forward_to(case=case, body=county, actor=caseworker)  # one live forward per case
    with pytest.raises(ForwardingRefused):
        forward_resend(forward=forward, actor=caseworker)  # not failed
    remote.replies.append(Reply(422, [{"description": "no"}]))
    assert forward_send(forward.pk).state == ForwardState.FAILED
    forward = forward_resend(forward=forward, actor=caseworker)
    assert forward.state == ForwardState.PENDING and forward.attempts == 0
    with pytest.raises(ForwardingRefused):
        forward_withdraw(forward=forward, actor=caseworker, reason="  ")
    forward = forward_withdraw(forward=forward, actor=caseworker, reason="we will fix it")
    assert forward.state == ForwardState.WITHDRAWN
    assert any("we will fix it" in n for n in _notes(case))
    assert forward_send(forward.pk).state == ForwardState.WITHDRAWN
    assert len(remote.posts()) == 1
    # Withdrawn: the case can go to a body again.
    assert forward_to(case=case, body=county, actor=caseworker).state == ForwardState.PENDING
    county.active = False
    county.save()
    with pytest.raises(ForwardingRefused):
        forward_to(case=_open(pothole, INSIDE), body=county, actor=caseworker)


# -- concurrency (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_post_the_same_forward_twice(
    county_rule: RoutingRule, pothole: Any, remote: FakeOpen311
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) are exercised on PostgreSQL (DATABASE_URL)")
    remote.default = Reply(200, [{"service_request_id": "once"}], delay=0.5)
    forward_id = _forward(_open(pothole, INSIDE)).pk
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            forward_send(forward_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(remote.posts()) == 1
    assert Forward.objects.get(pk=forward_id).state == ForwardState.SENT


def test_an_open311_post_inside_the_boundary_is_forwarded_once(
    client: Any, county_rule: RoutingRule, remote: FakeOpen311
) -> None:
    from townhall.open311.keys import api_key_issue

    key = api_key_issue(name="FixMyStreet")[1]
    fields = {"api_key": key, "service_code": "pothole", "attribute[size]": "large"}
    inside = client.post("/open311/v2/requests.json", {**fields, "lat": "42.36", "long": "-71.09"})
    outside = client.post("/open311/v2/requests.json", {**fields, "lat": "42.5", "long": "-71.3"})
    assert inside.status_code == outside.status_code == 200
    forward = Forward.objects.get()
    assert forward.case.reference == inside.json()[0]["service_request_id"]
    remote.replies.append(Reply(200, [{"service_request_id": "KCC-1"}]))
    assert forwards_send_due() == 1
    assert remote.posts()[0].form["service_code"] == ["pothole"]
    assert remote.posts()[0].form["api_key"] == [API_KEY]
