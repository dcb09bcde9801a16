"""Concurrent writers on PostgreSQL: the row lock keeps each case's chain a single line."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from townhall.cases.models import CaseEvent
from townhall.cases.selectors import ledger_verify
from townhall.cases.services import case_note_add, case_open

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are exercised on PostgreSQL (DATABASE_URL); SQLite has one writer")


def test_parallel_notes_on_one_case_form_one_unbroken_chain(pothole: Any, caseworker: Any) -> None:
    case = case_open(
        service_type=pothole, channel="web", answers={"size": "small"}, description="Hole"
    )
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                case_note_add(case=case, text=f"writer {n} note {i}", actor=caseworker)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seqs = list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 42))
    assert ledger_verify(case_ids=[case.pk]) == (41, [])
