"""Evaluating a programme: outcomes, explanations in en and es, amounts and effective dates."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from townhall.core.errors import ValidationFailed
from townhall.rules.evaluation import (
    NotInForce,
    Outcome,
    input_coerce,
    inputs_coerce,
    pick,
    programme_evaluate,
)
from townhall.rules.library import PROGRAMMES_DIR, rules_file_load
from townhall.rules.schema import Programme, programme_compile

JUNE = date(2026, 6, 1)

GRANT: dict[str, Any] = {
    "id": "grant",
    "title": {"en": "Grant", "es": "Ayuda"},
    "inputs": {
        "resident": {"type": "boolean", "question": {"en": "Resident?", "es": "¿Residente?"}},
        "income": {"type": "money", "question": {"en": "Income?", "es": "¿Ingresos?"}},
        "size": {"type": "integer", "min": 1, "question": "People?"},
        "cost": {"type": "money", "question": "Cost?"},
    },
    "versions": [
        {
            "effective_from": "2026-01-01",
            "effective_to": "2026-12-31",
            "source": "https://example.org/grant",
            "tables": {"limit": {1: 20000, 2: 30000}},
            "values": {"cap": "limit[min(size, 2)]"},
            "conditions": [
                {
                    "id": "resident",
                    "when": "resident",
                    "explain": {
                        "pass": {"en": "You live here.", "es": "Vive aquí."},
                        "fail": {"en": "You must live here.", "es": "Debe vivir aquí."},
                    },
                },
                {
                    "id": "income",
                    "when": "income <= cap",
                    "explain": {
                        "pass": {
                            "en": "{income} is within {cap}.",
                            "es": "{income} no supera {cap}.",
                        },
                        "fail": {"en": "{income} is above {cap}.", "es": "{income} supera {cap}."},
                    },
                },
            ],
            "amount": {
                "expression": "min(1000, 30% * cost)",
                "explain": {"en": "You get {amount}.", "es": "Recibe {amount}."},
            },
        }
    ],
}


@pytest.fixture
def grant() -> Programme:
    return programme_compile(copy.deepcopy(GRANT))


def decide(programme: Programme, language: str = "en", on: date = JUNE, **raw: object) -> Any:
    return programme_evaluate(
        programme, inputs=inputs_coerce(programme, raw), on=on, language=language
    )


def test_every_condition_passing_makes_a_resident_eligible_with_the_amount(
    grant: Programme,
) -> None:
    decision = decide(grant, resident="yes", income="15000", size="1", cost="2000")
    assert decision.outcome is Outcome.ELIGIBLE
    assert decision.amount == Decimal("600.00")
    assert decision.decided_by == ("resident", "income")
    assert decision.explanation == "You live here. $15,000 is within $20,000. You get $600."


def test_the_amount_is_capped(grant: Programme) -> None:
    decision = decide(grant, resident="yes", income="0", size="2", cost="99999")
    assert decision.amount == Decimal("1000.00")


def test_a_failed_condition_decides_even_with_answers_missing(grant: Programme) -> None:
    decision = decide(grant, resident="no")
    assert decision.outcome is Outcome.NOT_ELIGIBLE
    assert decision.decided_by == ("resident",)
    assert decision.missing == ()
    assert decision.not_needed == ("income", "size")
    assert decision.explanation == "You must live here."
    income = next(c for c in decision.conditions if c.id == "income")
    assert income.status == "not_needed"
    assert "would not change the outcome" in income.explanation


def test_missing_answers_that_could_change_the_outcome_are_asked_for(grant: Programme) -> None:
    decision = decide(grant, resident="yes", size="2")
    assert decision.outcome is Outcome.NEED_MORE_INFORMATION
    assert decision.decided_by == ("income",)
    assert decision.missing == ("income",)
    assert decision.explanation == "We need your answer to: Income?"


def test_the_amount_inputs_are_asked_for_once_every_condition_passes(grant: Programme) -> None:
    decision = decide(grant, resident="yes", size="2", income="1")
    assert decision.outcome is Outcome.NEED_MORE_INFORMATION
    assert decision.missing == ("cost",)


def test_explanations_are_in_spanish_with_english_fallback(grant: Programme) -> None:
    decision = decide(grant, "es", resident="yes", income="25000", size="1")
    assert decision.explanation == "$25,000 supera $20,000."
    # a text without a Spanish version falls back to English
    decision = decide(grant, "es-MX", resident="yes")
    assert decision.explanation == "Necesitamos su respuesta a: ¿Ingresos?; People?"
    assert pick({"en": "Hello"}, "pt") == "Hello"


def test_a_date_outside_every_version_is_not_in_force(grant: Programme) -> None:
    with pytest.raises(NotInForce):
        decide(grant, on=date(2027, 1, 1), resident="yes")


def test_the_version_in_force_on_the_date_is_used() -> None:
    energy = rules_file_load(PROGRAMMES_DIR / "energy_subsidy.yaml")
    assert isinstance(energy, Programme)
    answers = {
        "lives_in_town": "yes",
        "owner_occupier": "yes",
        "household_size": "2",
        "household_income": "51000",
        "year_built": "1970",
        "work_type": "insulation",
        "cost": "10000",
    }
    before = decide(energy, on=date(2025, 12, 31), **answers)
    after = decide(energy, on=date(2026, 1, 1), **answers)
    assert before.outcome is Outcome.NOT_ELIGIBLE
    assert before.source.endswith("/2025")
    assert after.outcome is Outcome.ELIGIBLE
    assert after.amount == Decimal("3500.00")


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("boolean", "Yes", True),
        ("boolean", "sí", True),
        ("boolean", "no", False),
        ("integer", "3", Decimal(3)),
        ("money", "$1,200.50", Decimal("1200.50")),
        ("date", "2026-02-03", date(2026, 2, 3)),
        ("integer", "", None),
    ],
)
def test_answers_are_coerced_to_their_type(kind: str, raw: str, expected: object) -> None:
    from townhall.rules.schema import Input

    assert input_coerce(Input("x", kind, {"en": "?"}), raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [("two", "must be a number"), ("1.5", "must be a whole number"), ("0", "at least 1")],
)
def test_bad_answers_are_validation_errors_keyed_by_input(
    grant: Programme, raw: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        inputs_coerce(grant, {"size": raw, "nonsense": "1"})
    assert message in raised.value.details["size"][0]
    assert raised.value.details["nonsense"] == ["is not an input of this programme"]


def test_choice_labels_render_in_the_explanation() -> None:
    parking = rules_file_load(PROGRAMMES_DIR / "resident_parking_permit.yaml")
    assert isinstance(parking, Programme)
    decision = decide(parking, "es", zone="b")
    zone = next(c for c in decision.conditions if c.id == "in_zone")
    assert zone.explanation == "Su vivienda está en la Zona B (estación)."
