"""Database constraints hold even for writes that bypass the services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from townhall.cases.models import Case, CaseEvent
from townhall.cases.services import case_open

pytestmark = pytest.mark.django_db


def bare_case(service: Any, **fields: Any) -> Case:
    return Case(service_type=service, department=service.department, channel="web", **fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"lat": 91.0, "long": 0.0},
        {"lat": 0.0, "long": -181.0},
        {"status": "duplicate"},  # a duplicate must point at the case it repeats
    ],
)
def test_impossible_cases_are_refused_by_the_database(pothole: Any, fields: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        bare_case(pothole, **fields).save()


def test_two_events_cannot_take_the_same_place_in_a_chain(pothole: Any) -> None:
    case = case_open(
        service_type=pothole, channel="web", answers={"size": "small"}, description="x"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseEvent.objects.create(
            case=case,
            seq=1,
            kind="note",
            at=datetime(2026, 1, 1, tzinfo=UTC),
            channel="web",
            prev_hash="0" * 64,
            hash="f" * 64,
        )


def test_a_case_with_history_cannot_be_deleted(pothole: Any) -> None:
    from django.db.models import ProtectedError

    case = case_open(
        service_type=pothole, channel="web", answers={"size": "small"}, description="x"
    )
    with pytest.raises(ProtectedError):
        case.delete()
