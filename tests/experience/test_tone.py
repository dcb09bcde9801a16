"""The frustration score: calm and frustrated lines, Spanish, shouting, rephrasing, speed."""

from __future__ import annotations

import time

import pytest

from townhall.experience.tone import FEATURES, frustration_score, tone_features, tone_threshold

THRESHOLD = tone_threshold()


@pytest.mark.parametrize(
    "text",
    [
        "When is my next bin collection?",
        "Thanks, that's really helpful!",
        "There is a dead rat on the pavement, it's disgusting, can you remove it?",
        "¿Cuándo pasa el camión de la basura?",
        "ok",
    ],
)
def test_calm_lines_stay_under_the_threshold(text: str) -> None:
    assert frustration_score(text) < THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "This is the third time I'm reporting this and nothing has been done",
        "Still not fixed, I'm fed up, I'll go to the ombudsman",
        "Useless. Nobody ever answers.",
        "Es la tercera vez que lo reporto, todavía no lo han arreglado",
        "Estoy harta, esto es una vergüenza",
    ],
)
def test_frustrated_lines_go_over_the_threshold(text: str) -> None:
    assert frustration_score(text) >= THRESHOLD


def test_shouting_and_repeated_punctuation_raise_the_score() -> None:
    calm = frustration_score("why is the bin still there")
    shouted = frustration_score("WHY IS THE BIN STILL THERE???")
    features = dict(zip(FEATURES, tone_features("WHY IS THE BIN STILL THERE???"), strict=True))
    assert features["caps"] > 0.9
    assert features["punct"] == 1.0
    assert shouted > calm
    assert shouted >= THRESHOLD


def test_repeating_oneself_after_fallbacks_is_frustration() -> None:
    first = "when do you collect my bins"
    repeat = "when is my bin collection day"
    assert tone_features(repeat, previous=[first])[FEATURES.index("rephrase")] >= 0.4
    assert frustration_score(repeat, previous=[first], fallbacks=0) < THRESHOLD
    assert frustration_score(repeat, previous=[first], fallbacks=2) >= THRESHOLD


def test_the_same_message_again_is_frustration_a_new_question_is_not() -> None:
    first = "when is my bin day"
    repeat = frustration_score("when is my bin day", previous=[first])
    assert repeat > frustration_score("when is my bin day")
    assert frustration_score("when is my bin day", previous=[first], fallbacks=1) >= THRESHOLD
    follow_up = "and when is the recycling collected?"
    assert tone_features(follow_up, previous=[first])[FEATURES.index("rephrase")] < 0.4
    assert frustration_score(follow_up, previous=[first]) < THRESHOLD


def test_asking_for_a_person_is_a_signal() -> None:
    for text in ("can I speak to a real person", "quiero hablar con una persona"):
        assert tone_features(text)[FEATURES.index("person")] == 1.0
    assert tone_features("I want to report a person dumping")[FEATURES.index("person")] == 0.0


def test_scores_are_between_zero_and_one_for_odd_input() -> None:
    for text in ("", "!!!!", "A" * 100_000, "\x00\x01 binary", "😡😡😡"):
        assert 0.0 <= frustration_score(text, previous=[text], fallbacks=99) <= 1.0


def test_thousands_of_messages_a_second() -> None:
    lines = ["This is ridiculous, still not fixed!!", "When is my bin day?"] * 500
    started = time.perf_counter()
    for line in lines:
        frustration_score(line, previous=["when is my bin day"], fallbacks=1)
    assert len(lines) / (time.perf_counter() - started) > 2000


def test_behaviour_alone_hands_off_only_when_it_is_clear() -> None:
    """One fallback or a new related question is not frustration; three fallbacks are."""
    assert frustration_score("where do I take old paint", fallbacks=1) < THRESHOLD
    assert frustration_score("where do I take old paint", fallbacks=3) >= THRESHOLD
    assert 0.3 <= THRESHOLD <= 0.7
