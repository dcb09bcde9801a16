"""Hot-path database helpers: reserved keys and rows written together."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection

from townhall.cases.models import Case, CaseEvent
from townhall.core.db import KeyReservations, rows_insert_together

pytestmark = pytest.mark.django_db


def test_keys_are_reserved_from_the_sequence_only_on_postgresql() -> None:
    first, second = KeyReservations(Case, block=3), KeyReservations(Case, block=3)
    a = [first.take() for _ in range(4)]
    b = [second.take() for _ in range(4)]
    if connection.vendor != "postgresql":
        assert a == b == [None] * 4
        return
    keys = [k for k in a + b if k is not None]
    assert len(set(keys)) == 8
    assert a == sorted(a)  # handed out in ascending order within a process


def test_rows_written_together_land_together(pothole: Any) -> None:
    now = datetime(2026, 11, 23, 15, tzinfo=UTC)
    case = Case(service_type=pothole, department=pothole.department, channel="web", opened_at=now)
    case.pk = KeyReservations(Case).take()
    if case.pk is None:
        case.save()
    event = CaseEvent(case=case, seq=1, kind="note", at=now, channel="web", prev_hash="0", hash="1")
    event.pk = KeyReservations(CaseEvent).take()
    if event.pk is None:
        event.save()
        return
    rows_insert_together(case, event)
    assert Case.objects.get(pk=case.pk).events.get().pk == event.pk
    assert not case._state.adding


def test_rows_without_keys_are_refused_on_postgresql(pothole: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes rows one by one and lets the database assign keys")
    case = Case(service_type=pothole, department=pothole.department, channel="web")
    with pytest.raises(ValueError, match="primary key"):
        rows_insert_together(case)
