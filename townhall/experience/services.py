"""Writes of the experience app: surveys, journey signals, flags, the frustration scan.

The survey's writes live in `surveys.py` and are re-exported here, so `services` stays the
one door the faces (portal, hooks, the assistant) call.
"""

from __future__ import annotations

from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent
from townhall.experience.surveys import (
    Answer,
    SurveyAlreadyAnswered,
    survey_answer,
    survey_answer_by_sms,
    survey_answer_for_case,
    survey_create,
    survey_opt_out,
    survey_opt_out_by_token,
)

__all__ = [
    "Answer",
    "SurveyAlreadyAnswered",
    "survey_answer",
    "survey_answer_by_sms",
    "survey_answer_for_case",
    "survey_create",
    "survey_for_case_event",
    "survey_opt_out",
    "survey_opt_out_by_token",
]


def survey_for_case_event(event: CaseEvent) -> None:
    """Create the survey a resolved case owes its reporter (a case-event subscriber, in
    the event's transaction): once per case, so a case reopened and resolved again is not
    asked twice."""
    if event.data.get("to") != CaseStatus.RESOLVED:
        return
    case = Case.objects.select_related("reporter").filter(pk=event.case_id).first()
    if case is None:
        return
    survey_create(case=case)
