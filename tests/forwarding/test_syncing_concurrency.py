"""Two poll rounds at once on PostgreSQL (a slow round overlapping the next): each remote
change is applied once, each note told once; the forward's row lock decides."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections

from tests.forwarding.fake_remote import FakeRemote, serve
from tests.forwarding.sync_fixtures import body_make, forward_make
from townhall.cases.models import CaseEvent, CaseEventKind
from townhall.cases.selectors import ledger_verify
from townhall.core import clock
from townhall.forwarding.syncing import forwards_poll

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are exercised on PostgreSQL (DATABASE_URL); SQLite has one writer")


@pytest.fixture
def remote() -> Iterator[FakeRemote]:
    yield from serve(FakeRemote(), 8204)


def test_overlapping_rounds_apply_each_change_once(
    town: Any, pothole: Any, remote: FakeRemote
) -> None:
    body = body_make(endpoint=remote.url)
    forwards = [forward_make(body, pothole, f"R-{i}") for i in range(30)]
    for f in forwards:
        remote.status(f.remote_id, "fixed", "Patched.")
    when = clock.now() + timedelta(minutes=1)
    errors: list[BaseException] = []

    def poll() -> None:
        try:
            forwards_poll(now=when)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=poll) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    case_ids = [f.case_id for f in forwards]
    moves = CaseEvent.objects.filter(case_id__in=case_ids, kind=CaseEventKind.STATUS_CHANGED)
    assert moves.count() == 60  # new -> in progress -> resolved, once each
    updates = CaseEvent.objects.filter(case_id__in=case_ids, kind=CaseEventKind.PUBLIC_UPDATE)
    assert updates.count() == 0  # the note went with the change, once
    assert ledger_verify(case_ids=case_ids)[1] == []
