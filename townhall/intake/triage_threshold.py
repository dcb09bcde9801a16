"""When triage may route a report by itself: the confidence threshold, chosen on data the
classifier was not trained on, and the honest splits it is measured on.

Pure NumPy, no Django. The rule (issue 17): the threshold is the lowest confidence at which
the reports routed automatically are still right at least `TARGET_PRECISION` of the time on a
tuning split, never on the held-out split it is then measured on. One threshold for every
service, or one per proposed service when that routes more of the tuning split at the same
precision (calibration is not equally good for every service); `thresholds_choose` tries both.

Splits: past reports repeat themselves (templated form texts, "sidewalk not shoveled"), so a
text seen in training says little about new texts. `split_three` keeps every normalised text
in one part only (a later copy of a text seen earlier is dropped from the later part), and,
when the reports carry dates, holds out each service's latest reports (per service, because
exports often cover different periods per service, see docs/benchmarks.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

TARGET_PRECISION = 0.98
# A service needs this many tuning texts proposed for it to get a threshold of its own;
# below that, its precision on the tuning split is too uncertain and it uses the global one.
MIN_FOR_OWN_THRESHOLD = 100
# "Never route": above any probability (JSON has no infinity).
NEVER = 2.0

Array = np.ndarray[Any, np.dtype[Any]]


@dataclass(frozen=True)
class Thresholds:
    """The confidence a proposal needs to be routed: `overall`, or per label when set."""

    overall: float
    per_label: Mapping[str, float] | None = None
    target: float = TARGET_PRECISION

    def for_label(self, label: str) -> float:
        if self.per_label is None:
            return self.overall
        return self.per_label.get(label, self.overall)

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall,
            "per_label": dict(self.per_label) if self.per_label is not None else None,
            "target": self.target,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Thresholds:
        per_label = data.get("per_label")
        return cls(
            overall=float(data["overall"]),
            per_label={str(k): float(v) for k, v in per_label.items()} if per_label else None,
            target=float(data.get("target", TARGET_PRECISION)),
        )

    def describe(self) -> str:
        if self.per_label is None:
            return f"{self.overall:.4f} (one for all services)"
        shown = ", ".join(f"{k}: {v:.4f}" for k, v in sorted(self.per_label.items()))
        return f"per service ({shown}; others {self.overall:.4f})"


def threshold_lowest(confidence: Array, correct: Array, target: float) -> float:
    """The lowest confidence t such that the texts with confidence ≥ t are right at least
    `target` of the time; NEVER when no t is (texts of equal confidence go together)."""
    if len(confidence) == 0:
        return NEVER
    order = np.argsort(-confidence, kind="stable")
    conf, ok = confidence[order], correct[order].astype(np.float64)
    precision = np.cumsum(ok) / np.arange(1, len(ok) + 1)
    # Only the last text of a run of equal confidences is a real cut.
    cut = np.append(conf[1:] != conf[:-1], True)
    good = np.flatnonzero(cut & (precision >= target))
    return float(conf[good.max()]) if len(good) else NEVER


def routed(probs: Array, labels: Sequence[str], thresholds: Thresholds) -> Array:
    """Which rows of `probs` are routed: their best label's probability reaches its threshold."""
    best = probs.argmax(axis=1)
    needed = np.array([thresholds.for_label(label) for label in labels])
    return np.asarray(probs.max(axis=1) >= needed[best]) if len(probs) else np.zeros(0, bool)


def thresholds_candidates(
    probs: Array, truth: Array, labels: Sequence[str], *, target: float = TARGET_PRECISION
) -> tuple[Thresholds, Thresholds | None]:
    """One threshold for all, and one per proposed label (each meeting `target` on its
    own, so together they do too; None when no label has enough tuning texts), for `probs`
    (tuning texts by labels) given the true label indexes."""
    confidence = probs.max(axis=1)
    best = probs.argmax(axis=1)
    correct = best == truth
    overall = Thresholds(threshold_lowest(confidence, correct, target), None, target)
    per_label: dict[str, float] = {}
    for j, label in enumerate(labels):
        mine = best == j
        if mine.sum() >= MIN_FOR_OWN_THRESHOLD:
            per_label[label] = threshold_lowest(confidence[mine], correct[mine], target)
    return overall, (Thresholds(overall.overall, per_label, target) if per_label else None)


def thresholds_choose(
    probs: Array, truth: Array, labels: Sequence[str], *, target: float = TARGET_PRECISION
) -> Thresholds:
    """Of `thresholds_candidates`, the one that routes more tuning texts at `target`
    precision; the single threshold on a tie."""
    overall, each = thresholds_candidates(probs, truth, labels, target=target)
    if each is None:
        return overall
    correct = probs.argmax(axis=1) == truth
    routed_each = routed(probs, labels, each)
    if routed_each.sum() > routed(probs, labels, overall).sum() and (
        correct[routed_each].mean() >= target
    ):
        return each
    return overall


@dataclass(frozen=True)
class Routing:
    """How many texts were routed automatically and how many of those were right."""

    rows: int
    routed: int
    right: int

    @property
    def share(self) -> float:
        return self.routed / self.rows if self.rows else 0.0

    @property
    def precision(self) -> float:
        return self.right / self.routed if self.routed else 0.0


def routing_measure(
    probs: Array, truth: Array, labels: Sequence[str], thresholds: Thresholds
) -> Routing:
    mask = routed(probs, labels, thresholds)
    right = (probs.argmax(axis=1) == truth) & mask
    return Routing(rows=len(probs), routed=int(mask.sum()), right=int(right.sum()))


def precision_at_coverage(
    probs: Array, truth: Array, coverages: Sequence[float]
) -> list[tuple[float, float, float]]:
    """(coverage, precision, threshold) when the `coverage` most confident texts are routed:
    the precision/coverage curve, for the report."""
    confidence = probs.max(axis=1)
    order = np.argsort(-confidence, kind="stable")
    ok = (probs.argmax(axis=1) == truth)[order]
    precision = np.cumsum(ok) / np.arange(1, len(ok) + 1)
    points = []
    for coverage in coverages:
        k = max(1, min(len(ok), round(coverage * len(ok)))) - 1
        points.append((coverage, float(precision[k]), float(confidence[order][k])))
    return points


# --- splits ----------------------------------------------------------------------------


@dataclass
class Split:
    """Row indexes of the training, tuning and held-out parts, and how many rows were
    dropped from the later parts because their text already occurs in an earlier one."""

    train: list[int]
    tune: list[int]
    test: list[int]
    dropped_tune: int
    dropped_test: int
    by_time: bool


def split_three(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    tune: float,
    holdout: float,
    seed: int,
    dates: Sequence[str] | None = None,
    normalise: Callable[[str], str],
) -> Split:
    """Training, tuning and held-out parts of labelled texts.

    With `dates` (ISO 8601 strings, which sort in time order when they share a format),
    each label's rows are sorted by date and its last `holdout` share is held out, the
    `tune` share before that tunes; without, each label's rows are shuffled (`seed`) and cut
    the same way. Labels with fewer than 3 rows stay in training. Then every tuning row
    whose normalised text occurs in training, and every held-out row whose text occurs in
    training or tuning, is dropped: the held-out part measures texts never seen before.
    """
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    train: list[int] = []
    tuning: list[int] = []
    test: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        if dates is not None:
            rows = sorted(rows, key=lambda i: (dates[i], i))
        else:
            rows = [rows[j] for j in rng.permutation(len(rows))]
        n = len(rows)
        if n < 3:
            train += rows
            continue
        n_test = max(1, round(n * holdout))
        n_tune = max(1, round(n * tune)) if tune > 0 else 0
        n_train = max(1, n - n_test - n_tune)
        train += rows[:n_train]
        tuning += rows[n_train : n_train + n_tune]
        test += rows[n_train + n_tune :]
    seen = {normalise(texts[i]) for i in train}
    kept_tune = [i for i in tuning if normalise(texts[i]) not in seen]
    seen.update(normalise(texts[i]) for i in tuning)
    kept_test = [i for i in test if normalise(texts[i]) not in seen]
    return Split(
        train=sorted(train),
        tune=sorted(kept_tune),
        test=sorted(kept_test),
        dropped_tune=len(tuning) - len(kept_tune),
        dropped_test=len(test) - len(kept_test),
        by_time=dates is not None,
    )


def label_noise_ceiling(
    texts: Sequence[str], labels: Sequence[str], normalise: Callable[[str], str]
) -> tuple[int, int, int]:
    """(distinct texts with more than one label, rows carrying them, errors they force): a
    classifier that sees only the text must get the minority labels of such texts wrong."""
    seen: dict[str, Counter[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        seen.setdefault(normalise(text), Counter())[label] += 1
    mixed = [c for c in seen.values() if len(c) > 1]
    rows = sum(sum(c.values()) for c in mixed)
    forced = sum(sum(c.values()) - max(c.values()) for c in mixed)
    return len(mixed), rows, forced
