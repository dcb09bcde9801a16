"""Opening a case asks whether its service has a fee: no query when it has none, and a fee
added or switched off takes effect at once in this process."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.payments.conftest import pothole_open
from townhall.payments.fees import service_has_fee
from townhall.payments.models import Fee, FeeKind, Payment

pytestmark = pytest.mark.django_db


def test_a_case_without_a_fee_asks_nothing_of_payments(pothole: Any, resident: Any) -> None:
    pothole_open(pothole, resident)  # the process learns which services have fees
    with CaptureQueriesContext(connection) as queries:
        case = pothole_open(pothole, resident)
    assert not [q for q in queries.captured_queries if "payments_" in q["sql"]]
    assert not Payment.objects.filter(case=case).exists()


def test_a_fee_added_or_switched_off_is_seen_by_the_next_case(pothole: Any, resident: Any) -> None:
    assert not service_has_fee(pothole.pk)
    fee = Fee.objects.create(
        name="Inspection fee", service_type=pothole, kind=FeeKind.FIXED, amount_minor=2500
    )
    assert service_has_fee(pothole.pk)
    owed = Payment.objects.get(case=pothole_open(pothole, resident))
    assert owed.amount_minor == 2500
    fee.active = False
    fee.save()
    assert not service_has_fee(pothole.pk)
    assert not Payment.objects.filter(case=pothole_open(pothole, resident)).exists()
