"""The eligibility of an appointment's case, checked when the caseworker opens it.

Eligibility checks are not stored anywhere (the portal's /check/ pages keep answers for
minutes, in the cache): so the programme the meeting names is evaluated now, on the
case's own answers (those named like the programme's inputs), with the explanation of
each condition. A programme that does not apply to these answers says so, never breaks
the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from townhall.appointments.models import Appointment
from townhall.core.errors import DomainError, ValidationFailed
from townhall.rules.evaluation import Decision, input_coerce, programme_evaluate
from townhall.rules.schema import Input
from townhall.rules.selectors import programme_get


@dataclass(frozen=True)
class Eligibility:
    programme: str
    decision: Decision | None
    problem: str = ""
    used: tuple[str, ...] = ()


def _value(spec: Input, raw: Any) -> Any:
    """An answer as the programme's input takes it ("yes" a truth, "45000" a number, a
    date's text a date: answers come from forms and Open311 as text); None if it does not
    fit (the input is then unanswered)."""
    if isinstance(raw, float):
        try:
            raw = Decimal(str(raw))
        except InvalidOperation:
            return None
    try:
        return input_coerce(spec, raw)
    except ValidationFailed:
        return None


def eligibility_for(
    appointment: Appointment, *, on: dt.date, language: str = "en"
) -> Eligibility | None:
    """The decision of the meeting's programme on the case's answers; None if none is set."""
    rule_id = appointment.slot.service.programme
    if not rule_id:
        return None
    try:
        programme = programme_get(rule_id=rule_id)
    except DomainError:
        return Eligibility(rule_id, None, "The programme set for this meeting does not exist.")
    answers = appointment.case.answers or {}
    inputs = {
        name: _value(spec, answers[name])
        for name, spec in programme.inputs.items()
        if name in answers
    }
    inputs = {name: value for name, value in inputs.items() if value is not None}
    try:
        decision = programme_evaluate(programme, inputs=inputs, on=on, language=language)
    except DomainError as exc:
        return Eligibility(rule_id, None, f"Could not check on these answers: {exc}", tuple(inputs))
    return Eligibility(rule_id, decision, "", tuple(inputs))
