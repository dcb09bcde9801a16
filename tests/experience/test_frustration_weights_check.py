"""weights-check: the signals as they stood at the first resolution, the outcomes that
followed, and a regression only when there is enough data to fit one."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from townhall.cases.models import Case
from townhall.cases.services import case_acknowledge, case_open, case_transition
from townhall.experience.frustration_check import (
    MIN_CASES,
    Sample,
    outcome_check,
    samples_collect,
)
from townhall.experience.models import SignalKind, Survey
from townhall.experience.services_frustration import journey_signal_record

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 10, 1, 10, 0, tzinfo=NY)


def _synthetic(n: int, *, seed: int = 7) -> list[Sample]:
    """Reopenings that follow transfers (and not abandoned forms)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        transferred = rng.random() < 0.3
        abandoned = rng.random() < 0.3
        reopened = rng.random() < (0.6 if transferred else 0.1)
        values = {"transferred": 1.0} if transferred else {}
        if abandoned:
            values["abandoned_form"] = 1.0
        out.append(Sample(case_id=i, cutoff=T0, values=values, reopened=reopened))
    return out


def test_the_fit_finds_the_signal_that_precedes_a_reopening() -> None:
    check = outcome_check(_synthetic(600), "reopen")
    assert check.fitted and check.cases == 600 and check.note == ""
    effects = {e.signal: e for e in check.effects}
    assert "reopened" not in effects  # cannot precede the first reopening
    transferred, abandoned = effects["transferred"], effects["abandoned_form"]
    assert transferred.coefficient is not None and transferred.coefficient > 1.0
    assert abandoned.coefficient is not None and abs(abandoned.coefficient) < 0.5
    assert transferred.rate_with is not None and transferred.rate_without is not None
    assert transferred.rate_with > 0.45 and transferred.rate_without < 0.2
    assert effects["waited"].coefficient is None  # nobody waited: not in the fit


def test_too_little_data_is_said_and_not_fitted() -> None:
    check = outcome_check(_synthetic(MIN_CASES - 1), "reopen")
    assert not check.fitted
    assert "needs at least 200 cases" in check.note
    assert all(e.coefficient is None for e in check.effects)
    assert outcome_check(_synthetic(300), "low_csat").cases == 0  # no surveys at all


@pytest.mark.django_db
def test_samples_are_cut_at_the_first_resolution(pothole: Any, resident: Any) -> None:
    case = case_open(
        service_type=pothole,
        channel="web",
        answers={"size": "large"},
        description="Hole",
        reporter=resident,
        opened_at=T0,
    )
    # Promised for Saturday 3 October: late from midnight that night (New York time).
    Case.objects.filter(pk=case.pk).update(expected_on=date(2026, 10, 3))
    case_acknowledge(case_id=case.pk, now=T0)
    case.refresh_from_db()
    journey_signal_record(
        kind=SignalKind.BOUNCED_HANDOFF, channel="assistant", case_id=case.pk, at=T0
    )
    resolved = datetime(2026, 10, 7, 0, 0, tzinfo=NY)  # 3 days late
    case = case_transition(case=case, to="resolved", actor=None, now=resolved)
    # After the resolution: not a signal that preceded it.
    journey_signal_record(
        kind=SignalKind.REPEAT_CONTACT,
        channel="phone",
        case_id=case.pk,
        at=resolved + timedelta(days=1),
    )
    case_transition(case=case, to="reopened", actor=None, now=resolved + timedelta(days=2))
    # The resolution made the survey when there is a reporter; answer it (or make one).
    Survey.objects.update_or_create(
        case=case,
        defaults={"token_hash": "x" * 64, "channel": "web", "csat": 1},
    )
    Survey.objects.filter(case=case).update(sent_at=resolved + timedelta(days=3))
    (sample,) = samples_collect()
    assert sample.reopened is True and sample.low_csat is True
    assert sample.cutoff == resolved
    # For the reopening: what came before the first resolution (3 days past the promise
    # made at acknowledgement, though the reopening made a fresh one since).
    assert sample.values == {"waited": 3.0, "bounced_handoff": 1.0}
    # For the survey, up to when it was sent: the reopening and the repeat contact too.
    assert sample.survey_values == {
        "waited": 3.0,
        "bounced_handoff": 1.0,
        "repeat_contact": 1.0,
        "reopened": 1.0,
    }
    check = outcome_check([sample], "reopen")
    assert not check.fitted and check.positive == 1


@pytest.mark.django_db
def test_the_command_prints_each_signal_beside_its_weight(capsys: Any) -> None:
    call_command("experience", "weights-check")
    out = capsys.readouterr().out
    assert "Reopened after resolution: 0 cases, 0 with the outcome" in out
    assert "not fitted" in out
    assert "transferred" in out and "0.150" in out
