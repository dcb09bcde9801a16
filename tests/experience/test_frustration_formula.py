"""The frustration index as a pure function: the worked examples of docs/frustration.md,
computed by hand, and the weights file's rules."""

from __future__ import annotations

import pytest

from townhall.experience.frustration import (
    SIGNALS,
    frustration_index,
    weights_load,
    weights_parse,
)


def test_worked_example_1_late_and_reopened_reaches_the_threshold() -> None:
    # 12 days late: 0.05 x 12 = 0.60; reopened once: 0.4 x 1 = 0.40; total 1.00.
    index = frustration_index({"waited": 12, "reopened": 1})
    assert index.score == pytest.approx(1.0)
    first, second = index.contributions
    assert (first.signal, first.value, first.weight, first.points) == ("waited", 12, 0.05, 0.6)
    assert first.why == "waited 12 days past the promised date"
    assert (second.signal, second.points, second.why) == ("reopened", 0.4, "reopened once")


def test_worked_example_2_every_kind_of_signal_with_caps() -> None:
    # waited 45 days, capped at 30:        0.05 x 30   = 1.50
    # transferred twice:                   0.15 x 2    = 0.30
    # two repeat contacts:                 0.25 x 2    = 0.50
    # one bounced hand-off:                0.30 x 1    = 0.30
    # negative tone 0.8 + 0.7 = 1.5:       0.50 x 1.5  = 0.75
    # 8 assistant fallbacks, capped at 6:  0.05 x 6    = 0.30
    # one abandoned form:                  0.10 x 1    = 0.10
    # total                                              3.75
    index = frustration_index(
        {
            "waited": 45,
            "transferred": 2,
            "repeat_contact": 2,
            "bounced_handoff": 1,
            "negative_tone": 1.5,
            "assistant_fallback": 8,
            "abandoned_form": 1,
        }
    )
    assert index.score == pytest.approx(3.75)
    points = {c.signal: c.points for c in index.contributions}
    assert points == {
        "waited": 1.5,
        "negative_tone": 0.75,
        "repeat_contact": 0.5,
        "transferred": 0.3,
        "bounced_handoff": 0.3,
        "assistant_fallback": 0.3,
        "abandoned_form": 0.1,
    }
    # Biggest first; ties in the documented signal order.
    assert [c.signal for c in index.contributions] == [
        "waited",
        "negative_tone",
        "repeat_contact",
        "transferred",
        "bounced_handoff",
        "assistant_fallback",
        "abandoned_form",
    ]
    # The value shown is the one observed, before the cap.
    waited = index.contributions[0]
    assert waited.value == 45 and waited.why == "waited 45 days past the promised date"
    assert index.contributions[-2].why == "the assistant did not understand 8 times"


def test_nothing_wrong_scores_zero_and_lists_nothing() -> None:
    assert frustration_index({}).score == 0
    index = frustration_index({"waited": 0, "reopened": 0, "negative_tone": -1})
    assert index.score == 0 and index.contributions == ()


def test_contributions_serialise_with_every_field() -> None:
    (row,) = frustration_index({"transferred": 1}).as_list()
    assert row == {
        "signal": "transferred",
        "value": 1.0,
        "weight": 0.15,
        "points": 0.15,
        "why": "transferred to another department once",
    }


def test_an_unknown_signal_is_an_error_not_silently_ignored() -> None:
    with pytest.raises(KeyError):
        frustration_index({"sunspots": 3})


def test_the_packaged_weights_cover_every_signal() -> None:
    weights = weights_load()
    assert set(weights.signals) == set(SIGNALS)
    assert 0 < weights.negative_tone_min <= 1


@pytest.mark.parametrize(
    "broken",
    [
        {"signals": {}},
        {
            "signals": {s: {"weight": 1, "cap": 1} for s in SIGNALS}
            | {"extra": {"weight": 1, "cap": 1}}
        },
        {"signals": {s: {"weight": -1 if s == "waited" else 1, "cap": 1} for s in SIGNALS}},
        {"signals": {s: {"weight": 1, "cap": 0} for s in SIGNALS}},
        {"signals": {s: {"weight": 1, "cap": 1} for s in SIGNALS}, "negative_tone_min": 2},
    ],
)
def test_weights_out_of_range_are_refused(broken: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="frustration weights"):
        weights_parse(broken)
