"""Walk a permit tree: from the answers so far to the next question or the permits needed. Pure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from townhall.core.errors import ValidationFailed
from townhall.rules.schema import Permit, PermitTree, Question


@dataclass(frozen=True)
class Step:
    """Where a resident is: the answers given, then a question to ask or the permits needed."""

    answers: tuple[tuple[str, str], ...]
    question: Question | None
    permits: tuple[Permit, ...]

    @property
    def finished(self) -> bool:
        return self.question is None

    @property
    def total_fee(self) -> Decimal:
        return sum((p.fee for p in self.permits), Decimal(0))

    @property
    def longest_processing_days(self) -> int:
        return max((p.processing_days for p in self.permits), default=0)


def permit_tree_walk(tree: PermitTree, *, answers: Sequence[tuple[str, str]]) -> Step:
    """Replay `answers` (question id, choice id) from the start and return the step reached.

    Raise ValidationFailed if an answer does not belong to the question asked at that point.
    """
    question: Question | None = tree.questions[tree.start]
    needed: list[str] = []
    given: list[tuple[str, str]] = []
    for i, (qid, cid) in enumerate(answers):
        if question is None:
            raise ValidationFailed(
                "Too many answers", details={f"answers[{i}]": ["no question is left to answer"]}
            )
        if qid != question.id:
            raise ValidationFailed(
                "Answer out of order",
                details={f"answers[{i}]": [f"expected an answer to {question.id!r}"]},
            )
        choice = next((c for c in question.choices if c.id == cid), None)
        if choice is None:
            raise ValidationFailed(
                "Unknown answer", details={f"answers[{i}]": [f"{cid!r} is not a choice"]}
            )
        given.append((qid, cid))
        needed.extend(p for p in choice.permits if p not in needed)
        question = tree.questions[choice.next] if choice.next is not None else None
    permits = tuple(tree.permits[p] for p in needed) if question is None else ()
    return Step(tuple(given), question, permits)


def permit_tree_paths(tree: PermitTree) -> Iterator[Step]:
    """Yield the final step of every path through the tree (the tree is checked acyclic)."""

    def walk(answers: tuple[tuple[str, str], ...]) -> Iterator[Step]:
        step = permit_tree_walk(tree, answers=answers)
        if step.question is None:
            yield step
            return
        for choice in step.question.choices:
            yield from walk((*answers, (step.question.id, choice.id)))

    yield from walk(())
