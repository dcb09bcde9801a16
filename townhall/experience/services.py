"""Writes of the experience app: surveys, journey signals, flags, the frustration scan."""

from __future__ import annotations

from townhall.cases.models import CaseEvent


def survey_for_case_event(event: CaseEvent) -> None:
    """Create the survey a resolved case owes its reporter (a case-event subscriber)."""
    return None  # the survey owner fills this in
