"""Fixtures of the experience tests: a resolved case of a reporter, on each channel."""

from __future__ import annotations

from typing import Any

import pytest

from tests.notify.conftest import sms_provider
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.services import case_open, case_transition
from townhall.people.services import citizen_resolve

__all__ = ["resolved_for", "sms_provider"]


def resolved_for(service: Any, reporter: Any, actor: Any, *, channel: str = "web") -> Any:
    """A case of `reporter` opened on `channel`, then resolved by `actor`."""
    case = case_open(
        service_type=service,
        channel=channel,
        answers={"size": "large"},
        description="Hole by the library",
        reporter=reporter,
    )
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=actor)
    case_transition(case=case, to=CaseStatus.RESOLVED, actor=actor, note="Filled it in.")
    return case


@pytest.fixture
def texter(db: None) -> Any:
    return citizen_resolve(name="Tomás", phone="617-555-0142", channel="sms", language="es")
