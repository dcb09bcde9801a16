"""The permit finder: every path through each tree ends with a result, and answers replay."""

from __future__ import annotations

import pytest

from townhall.core.errors import ValidationFailed
from townhall.rules.library import shipped_permit_trees
from townhall.rules.permits import permit_tree_paths, permit_tree_walk


def test_every_path_through_every_tree_ends_in_a_result() -> None:
    trees = shipped_permit_trees()
    assert trees
    for tree in trees.values():
        ends = list(permit_tree_paths(tree))
        assert len(ends) >= len(tree.questions)
        for step in ends:
            assert step.finished
            assert len(step.answers) <= len(tree.questions)  # no question asked twice: no loop
            assert len({q for q, _ in step.answers}) == len(step.answers)
        used = {p.id for step in ends for p in step.permits}
        assert used == set(tree.permits), "every permit is reachable"
        for permit in tree.permits.values():
            assert permit.documents and permit.source.startswith("https://")
            assert set(permit.name) == {"en", "es"}


def test_walking_part_way_gives_the_next_question() -> None:
    tree = shipped_permit_trees()["home_improvements"]
    step = permit_tree_walk(tree, answers=[("what", "extension")])
    assert step.question is not None and step.question.id == "extension_size"
    assert step.permits == ()


def test_permits_accumulate_along_the_path_without_duplicates() -> None:
    tree = shipped_permit_trees()["home_improvements"]
    step = permit_tree_walk(
        tree, answers=[("what", "extension"), ("extension_size", "large"), ("heritage", "yes")]
    )
    assert [p.id for p in step.permits] == [
        "building_permit",
        "planning_permission",
        "heritage_consent",
    ]
    assert step.total_fee == 712
    assert step.longest_processing_days == 56


@pytest.mark.parametrize(
    "answers",
    [
        [("structural", "yes")],  # out of order
        [("what", "paint")],  # not a choice
        [("what", "fence"), ("fence_height", "no"), ("what", "fence")],  # past the end
    ],
)
def test_tampered_answers_are_refused(answers: list[tuple[str, str]]) -> None:
    tree = shipped_permit_trees()["home_improvements"]
    with pytest.raises(ValidationFailed):
        permit_tree_walk(tree, answers=answers)
