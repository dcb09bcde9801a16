"""The lifecycle table: every listed move is allowed, every other move is refused with a code."""

from __future__ import annotations

import itertools

import pytest

from townhall.cases.errors import InvalidTransition
from townhall.cases.lifecycle import TRANSITIONS, CaseStatus, allowed_next, transition_check

S = CaseStatus

ALLOWED = sorted((a, b) for a, targets in TRANSITIONS.items() for b in targets)
FORBIDDEN = sorted(
    (a, b) for a, b in itertools.product(CaseStatus, CaseStatus) if b not in TRANSITIONS[a]
)


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_a_listed_move_is_allowed(source: CaseStatus, target: CaseStatus) -> None:
    assert transition_check(source, target) is target


@pytest.mark.parametrize(("source", "target"), FORBIDDEN)
def test_any_other_move_raises_a_stable_code(source: CaseStatus, target: CaseStatus) -> None:
    with pytest.raises(InvalidTransition) as info:
        transition_check(source, target)
    assert info.value.code == "case.invalid_transition"


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.NEW, S.ACKNOWLEDGED),
        (S.ACKNOWLEDGED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.AWAITING_CITIZEN),
        (S.AWAITING_CITIZEN, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.RESOLVED),
        (S.RESOLVED, S.CLOSED),
        (S.RESOLVED, S.REOPENED),
        (S.REOPENED, S.IN_PROGRESS),
        (S.REJECTED, S.REOPENED),
    ],
)
def test_the_happy_path_and_its_loops_are_in_the_table(
    source: CaseStatus, target: CaseStatus
) -> None:
    assert target in TRANSITIONS[source]


@pytest.mark.parametrize("final", [S.CLOSED, S.DUPLICATE])
def test_closed_and_duplicate_are_final(final: CaseStatus) -> None:
    assert allowed_next(final) == []


def test_every_status_has_a_row() -> None:
    assert set(TRANSITIONS) == set(CaseStatus)


def test_nothing_moves_back_to_new() -> None:
    assert all(S.NEW not in targets for targets in TRANSITIONS.values())
