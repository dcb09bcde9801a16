"""Understanding the two skills of issue 21 (appointments, notices) on held-out phrasings
(townhall/assistant/data/council_test3.jsonl: written apart from the skills' YAML examples,
never tuned on), without taking other skills' messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from townhall.assistant.nlu import understand
from townhall.assistant.skills import skills_load

DATA = Path(__file__).resolve().parents[2] / "townhall/assistant/data"


def rows(name: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in (DATA / name).open(encoding="utf-8") if line.strip()]


def test_held_out_phrasings_are_no_yaml_examples() -> None:
    examples = {
        text.lower()
        for skill in skills_load().values()
        for texts in skill.examples.values()
        for text in texts
    }
    assert not [
        r["utterance"] for r in rows("council_test3.jsonl") if r["utterance"].lower() in examples
    ]


def test_the_new_skills_are_understood_on_held_out_phrasings(db: Any) -> None:
    held = rows("council_test3.jsonl")
    assert {r["expected_skill"] for r in held} == {"appointment", "notices"}
    wrong = [
        (r["utterance"], got.skill)
        for r in held
        if (got := understand(r["utterance"], language=r["language"], entities=False)).skill
        != r["expected_skill"]
    ]
    accuracy = 1 - len(wrong) / len(held)
    assert accuracy >= 0.85, (accuracy, wrong)


@pytest.mark.parametrize(
    ("text", "language", "skill"),
    [
        ("I need an appointment about my housing benefit", "en", "appointment"),
        ("move my appointment", "en", "appointment"),
        ("cancel my appointment", "en", "appointment"),
        ("any road works near me?", "en", "notices"),
        ("is there a recall on eggs?", "en", "notices"),
        ("is my batch code affected?", "en", "notices"),
        # Others keep theirs: a bin day, a pothole, a permit for building works.
        ("when is my bin collected", "en", "waste_schedule"),
        ("there's a pothole on Elm Street", "en", "report_issue"),
        ("what's happening with TH-26-000123", "en", "case_status"),
    ],
)
def test_a_message_goes_to_its_skill(db: Any, text: str, language: str, skill: str) -> None:
    assert understand(text, language=language).skill == skill
