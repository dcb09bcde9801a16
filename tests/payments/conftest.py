"""A service with a fee, and a case that owes it."""

from __future__ import annotations

from typing import Any

import pytest

from townhall.cases.services import case_open
from townhall.payments.models import Fee, FeeKind, Payment


@pytest.fixture
def fee(pothole: Any) -> Fee:
    return Fee.objects.create(
        name="Inspection fee",
        service_type=pothole,
        kind=FeeKind.FIXED,
        amount_minor=2500,
        currency="USD",
    )


def pothole_open(pothole: Any, resident: Any) -> Any:
    """A pothole report by the resident, opened as the portal would."""
    return case_open(
        service_type=pothole,
        channel="web",
        description="Deep hole",
        answers={"size": "large"},
        lat=42.36,
        long=-71.09,
        reporter=resident,
    )


@pytest.fixture
def owed(fee: Fee, pothole: Any, resident: Any) -> Payment:
    return Payment.objects.get(case=pothole_open(pothole, resident))
