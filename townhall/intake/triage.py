"""Triage: a text classifier from a resident's words to a service code, with calibrated
probabilities, trained on a council's own history.

Pure machine learning, no Django: the pipeline asks `TriageClassifier.predict_top` for the
best few service codes and their probabilities; at or above the threshold the model carries
(chosen on a tuning split by `classifier_thresholds_fit`: the lowest confidence at which
98 % of the reports routed are right, see triage_threshold) or, for a model without one,
the deployment's setting, it routes the case; below, the case waits for a person with the
suggestions. The department follows from the service type in the catalogue, so the
classifier only learns service codes.

The model (chosen on a validation split of the Boston Open311 descriptions, see
docs/benchmarks.md): word 1–2-gram and in-word character 3–5-gram TF-IDF features of the
normalised text, a class-balanced linear SVM, and a multinomial logistic regression over
the SVM's scores for texts it was not trained on, so that the probabilities mean what they
say (Brier score and calibration error in `EvalReport`). The baseline it is measured
against is a word TF-IDF linear SVM with C tuned by cross-validation (`baseline_train`).
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from townhall.intake.triage_storage import classifier_dump, classifier_parts
from townhall.intake.triage_threshold import (
    TARGET_PRECISION,
    Routing,
    Thresholds,
    precision_at_coverage,
    routing_measure,
    thresholds_choose,
)

# Texts are cut to this many characters before anything else: a pasted e-mail thread must not
# cost more than a long report, and the first 2,000 characters say what the problem is.
MAX_CHARS = 2_000
# A label needs this many examples to be learnt (and to be in each of 5 calibration folds).
MIN_PER_LABEL = 5
# Below this many training rows every word and character n-gram is kept; above it, those
# seen only once are dropped (they add model size, not accuracy).
SMALL_SET = 2_000
# From this many rows on, calibration holds out one fifth instead of cross-validating.
LARGE_SET = 20_000
_DIGIT = re.compile(r"\d")
_BATCH = 4_096
CHAR_NGRAMS = (3, 5)

Progress = Callable[[str], None]
# The shares routed at which EvalReport gives the precision (the precision/coverage curve).
CURVE = (0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 1.0)


def text_normalise(text: str) -> str:
    """The text as the classifier sees it: cut to MAX_CHARS, lower-cased, digits folded to 0
    (house numbers and plates say nothing about the service) and whitespace collapsed."""
    return " ".join(_DIGIT.sub("0", (text or "")[:MAX_CHARS].lower()).split())


class TriageClassifier:
    """A fitted vectoriser and probabilistic classifier over a fixed list of service codes."""

    def __init__(
        self,
        *,
        labels: Sequence[str],
        vectoriser: Any,
        model: Any,
        normalise: bool = True,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.labels: list[str] = list(labels)
        self.vectoriser = vectoriser
        self.model = model
        self.normalise = normalise
        # Chosen on a tuning split (triage_threshold); None: the deployment's setting decides.
        self.thresholds = thresholds
        self.notes: dict[str, Any] = {}  # how it was trained (the baseline's tuned C)

    def threshold_for(self, label: str) -> float | None:
        """The confidence a proposal of `label` needs to be routed without a person, when
        this model carries thresholds of its own."""
        return None if self.thresholds is None else self.thresholds.for_label(label)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Probabilities per text (rows) and label (columns, in `labels` order)."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        prepared = [text_normalise(t) if self.normalise else (t or "")[:MAX_CHARS] for t in texts]
        chunks = [
            self.model.predict_proba(self.vectoriser.transform(prepared[i : i + _BATCH]))
            for i in range(0, len(prepared), _BATCH)
        ]
        return np.asarray(np.vstack(chunks), dtype=np.float64)

    def predict_top(self, texts: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
        """The k most likely service codes per text with their probabilities, best first."""
        probs = self.probabilities(texts)
        k = max(1, min(k, len(self.labels)))
        best = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        return [
            [(self.labels[j], float(row[j])) for j in order]
            for row, order in zip(probs, best, strict=True)
        ]

    def to_bytes(self) -> bytes:
        """Serialise for the TriageModel blob: words and numbers only (triage_storage)."""
        return classifier_dump(
            labels=self.labels,
            normalise=self.normalise,
            vectoriser=self.vectoriser,
            model=self.model,
            thresholds=self.thresholds.as_dict() if self.thresholds is not None else None,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> TriageClassifier:
        """The classifier `to_bytes` wrote. Loading runs no code from `data`; raises
        ModelFormatError (a ValueError) for anything else, including the old pickles."""
        labels, normalise, vectoriser, model, thresholds = classifier_parts(data)
        return cls(
            labels=labels,
            vectoriser=vectoriser,
            model=model,
            normalise=normalise,
            thresholds=Thresholds.from_dict(thresholds) if thresholds is not None else None,
        )


def _checked(
    texts: Sequence[str], labels: Sequence[str], progress: Progress | None
) -> tuple[list[str], list[str]]:
    """Pair texts with labels, dropping labels too rare to learn; raise if nothing is left."""
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels.")
    counts = Counter(labels)
    rare = sorted(label for label, n in counts.items() if n < MIN_PER_LABEL)
    if rare:
        if progress:
            shown = ", ".join(rare[:10]) + (" …" if len(rare) > 10 else "")
            progress(
                f"Left out {len(rare)} label(s) with fewer than {MIN_PER_LABEL} examples: {shown}"
            )
        keep = [(t, label) for t, label in zip(texts, labels, strict=True) if label not in rare]
        texts, labels = [t for t, _ in keep], [label for _, label in keep]
    if len(set(labels)) < 2:
        raise ValueError(
            f"Need at least 2 labels with {MIN_PER_LABEL} or more examples each to learn from."
        )
    return list(texts), list(labels)


class WordsAndCharacters:
    """Word 1–2-grams and in-word character 3–5-grams, each TF-IDF weighted, side by side.

    Word n-grams carry the phrasing ("blocking driveway"); character n-grams survive
    misspellings ("unshovelled", "side walk") and the templated forms some channels send.
    """

    def __init__(self, rows: int) -> None:
        min_df = 1 if rows < SMALL_SET else 2
        common = {"sublinear_tf": True, "dtype": np.float32, "lowercase": False, "min_df": min_df}
        self.words = TfidfVectorizer(ngram_range=(1, 2), **common)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, **common)

    @classmethod
    def fitted(cls, *, words: TfidfVectorizer, chars: TfidfVectorizer) -> WordsAndCharacters:
        """The pair from two vectorisers already fitted (a stored model)."""
        pair = cls(0)
        pair.words, pair.chars = words, chars
        return pair

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        joined = sp.hstack([self.words.fit_transform(texts), self.chars.fit_transform(texts)])
        for vectoriser in (self.words, self.chars):
            # Introspection only, and as big as the vocabulary: not worth storing.
            vectoriser.stop_words_ = None
        return joined.tocsr() * (1 / math.sqrt(2))

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        joined = sp.hstack([self.words.transform(texts), self.chars.transform(texts)])
        return joined.tocsr() * (1 / math.sqrt(2))


class CalibratedSvm:
    """A linear SVM whose decision scores a multinomial logistic regression turns into
    probabilities; the regression is fitted on scores for texts the SVM was not trained on."""

    def __init__(self, svm: Any, calibrator: Any) -> None:
        self.svm = svm
        self.calibrator = calibrator
        self.classes_ = svm.classes_

    def predict_proba(self, features: Any) -> Any:
        return self.calibrator.predict_proba(_scores(self.svm, features))


def _scores(svm: Any, features: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    scores = np.asarray(svm.decision_function(features), dtype=np.float64)
    return scores.reshape(len(scores), -1)  # two labels give one column


def _svm(c: float = 0.5) -> LinearSVC:
    return LinearSVC(C=c, class_weight="balanced", random_state=0)


def _calibrated_svm(features: Any, target: Any, *, c: float = 0.5) -> CalibratedSvm:
    """A class-balanced LinearSVC on all rows, calibrated on scores for unseen rows.

    Calibration needs decision scores for texts the SVM has not seen: on a small set they
    come from 5-fold cross-validation, on a large one from a single fifth held out (enough
    rows to fit a handful of parameters, and one fit instead of five). Those fits and the
    final one on all rows run on two threads.
    """
    small = features.shape[0] < LARGE_SET
    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(features, target))[
        : 5 if small else 1
    ]

    def fit(rows: Any) -> Any:
        return _svm(c).fit(features[rows], target[rows])

    everything = np.arange(features.shape[0])
    with ThreadPoolExecutor(max_workers=2) as pool:
        fitted = list(pool.map(fit, [everything] + [train for train, _ in folds]))
    held_out = np.concatenate([test for _, test in folds])
    scores = np.vstack(
        [_scores(svm, features[test]) for svm, (_, test) in zip(fitted[1:], folds, strict=True)]
    )
    calibrator = LogisticRegression(C=1.0, max_iter=1000).fit(scores, target[held_out])
    return CalibratedSvm(fitted[0], calibrator)


def classifier_train(
    texts: Sequence[str], labels: Sequence[str], *, progress: Progress | None = None
) -> TriageClassifier:
    """Train the triage classifier on past reports and the service codes they ended up with.

    Labels with fewer than MIN_PER_LABEL examples are left out (and reported to `progress`).
    Raises ValueError when fewer than two labels remain. The model has no thresholds yet:
    `classifier_thresholds_fit` chooses them on texts it was not trained on.
    """
    texts, labels = _checked(texts, labels, progress)
    prepared = [text_normalise(t) for t in texts]
    if progress:
        progress(f"Building word and character features for {len(prepared):,} texts")
    vectoriser = WordsAndCharacters(len(prepared))
    features = vectoriser.fit_transform(prepared)
    if progress:
        progress(f"Fitting and calibrating the classifier on {features.shape[1]:,} features")
    model = _calibrated_svm(features, np.asarray(labels))
    return TriageClassifier(
        labels=[str(c) for c in model.classes_], vectoriser=vectoriser, model=model
    )


# The baseline's C is chosen from these by 3-fold cross-validated macro-F1 on its training rows.
BASELINE_C = (0.1, 0.3, 1.0, 3.0)


def baseline_train(
    texts: Sequence[str], labels: Sequence[str], *, grid: Sequence[float] = BASELINE_C
) -> TriageClassifier:
    """The reference ours must beat: a tuned linear model on word TF-IDF.

    Word 1–2-grams (sublinear TF-IDF of the raw, lower-cased text), a class-balanced
    LinearSVC whose C is chosen from `grid` by 3-fold cross-validated macro-F1 on the
    training rows, calibrated like ours. Logistic regression with its C tuned the same way
    scored lower on the Boston split (docs/benchmarks.md) and fits 5–10 times slower.
    """
    texts, labels = _checked(texts, labels, None)
    vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
    features = vectoriser.fit_transform([(t or "")[:MAX_CHARS] for t in texts])
    vectoriser.stop_words_ = None
    target = np.asarray(labels)
    folds = list(StratifiedKFold(n_splits=3, shuffle=True, random_state=0).split(features, target))

    def score(job: tuple[float, Any]) -> float:
        c, (train, test) = job
        predicted = _svm(c).fit(features[train], target[train]).predict(features[test])
        return float(f1_score(target[test], predicted, average="macro"))

    jobs = list(itertools.product(grid, folds))
    with ThreadPoolExecutor(max_workers=2) as pool:
        scores = list(pool.map(score, jobs))
    mean = {c: np.mean(scores[i * len(folds) : (i + 1) * len(folds)]) for i, c in enumerate(grid)}
    best = max(grid, key=lambda c: (mean[c], -c))
    model = _calibrated_svm(features, target, c=best)
    baseline = TriageClassifier(
        labels=[str(c) for c in model.classes_],
        vectoriser=vectoriser,
        model=model,
        normalise=False,
    )
    baseline.notes["C"] = best
    return baseline


def classifier_thresholds_fit(
    clf: TriageClassifier,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    target: float = TARGET_PRECISION,
) -> Thresholds:
    """Choose `clf`'s routing thresholds on tuning texts it was not trained on (the lowest
    confidence giving `target` precision, see triage_threshold) and keep them with it."""
    if not texts:
        raise ValueError("Need tuning texts to choose a threshold on.")
    probs = clf.probabilities(texts)
    clf.thresholds = thresholds_choose(probs, label_columns(clf, labels), clf.labels, target=target)
    return clf.thresholds


def label_columns(
    clf: TriageClassifier, labels: Sequence[str]
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each label's column in `clf`'s probabilities; -1 for a label it cannot propose."""
    index = {label: i for i, label in enumerate(clf.labels)}
    return np.array([index.get(label, -1) for label in labels], dtype=np.int64)


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class EvalReport:
    """How a classifier did on labelled texts it had not seen, and how fast it was."""

    rows: int
    accuracy: float
    macro_f1: float
    top3_accuracy: float
    per_class: list[ClassScore]
    texts_per_second: float  # whole batch, predict_top(k=3)
    latency_p50_ms: float  # one text per call
    latency_p95_ms: float
    latency_p99_ms: float
    brier: float  # mean over texts of the squared error of the probability vector (0 is perfect)
    ece: float  # expected calibration error of the top label, 15 equal-width bins
    unknown_labels: int = 0  # texts whose true label the classifier cannot propose
    confidence_bins: list[tuple[float, float, float, int]] = field(default_factory=list)
    # At the model's own thresholds (None when it has none): what would be routed unread.
    routing: Routing | None = None
    thresholds: Thresholds | None = None
    # (share routed, precision, threshold) when the most confident texts are routed.
    curve: list[tuple[float, float, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready figures, for TriageModel.metrics."""
        return {
            "rows": self.rows,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "top3_accuracy": round(self.top3_accuracy, 4),
            "texts_per_second": round(self.texts_per_second),
            "latency_p50_ms": round(self.latency_p50_ms, 3),
            "latency_p95_ms": round(self.latency_p95_ms, 3),
            "latency_p99_ms": round(self.latency_p99_ms, 3),
            "brier": round(self.brier, 4),
            "ece": round(self.ece, 4),
            **(
                {
                    "routed_share": round(self.routing.share, 4),
                    "routed_precision": round(self.routing.precision, 4),
                }
                if self.routing is not None
                else {}
            ),
            "per_class": {
                c.label: {
                    "precision": round(c.precision, 4),
                    "recall": round(c.recall, 4),
                    "f1": round(c.f1, 4),
                    "support": c.support,
                }
                for c in self.per_class
            },
        }


def _calibration(
    probs: np.ndarray[Any, np.dtype[np.float64]], truth: np.ndarray[Any, np.dtype[np.int64]]
) -> tuple[float, float, list[tuple[float, float, float, int]]]:
    """Brier score, expected calibration error and the reliability bins behind it."""
    onehot = np.zeros_like(probs)
    known = truth >= 0
    onehot[np.flatnonzero(known), truth[known]] = 1.0
    brier = float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == truth
    bins: list[tuple[float, float, float, int]] = []
    ece = 0.0
    edges = np.linspace(0.0, 1.0, 16)
    for lo, hi in itertools.pairwise(edges):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            said, was = float(confidence[inside].mean()), float(correct[inside].mean())
            ece += inside.mean() * abs(said - was)
            bins.append((float(hi), said, was, int(inside.sum())))
    return brier, float(ece), bins


def classifier_evaluate(
    clf: TriageClassifier,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    latency_samples: int = 500,
    thresholds: Thresholds | None = None,
) -> EvalReport:
    """Score `clf` on labelled texts: accuracy, macro-F1 and per-class precision/recall over
    the labels present in `labels`, top-3 accuracy, calibration, batch throughput, the
    latency of one text per call (on up to `latency_samples` texts spread over the set),
    and the share routed and its precision at `thresholds` (default: the model's own)."""
    if not texts or len(texts) != len(labels):
        raise ValueError("Need as many labels as texts, and at least one.")
    started = time.perf_counter()
    probs = clf.probabilities(texts)
    order = np.argsort(-probs, axis=1, kind="stable")[:, :3]
    elapsed = time.perf_counter() - started
    index = {label: i for i, label in enumerate(clf.labels)}
    truth = label_columns(clf, labels)
    predicted = order[:, 0]
    per_class = []
    for label in sorted(set(labels)):
        j = index.get(label, -1)
        is_true = truth == j if j >= 0 else np.array([lab == label for lab in labels])
        said = predicted == j if j >= 0 else np.zeros(len(labels), dtype=bool)
        hits = int(np.sum(is_true & said))
        precision = hits / int(said.sum()) if said.any() else 0.0
        recall = hits / int(is_true.sum())
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        per_class.append(ClassScore(label, precision, recall, f1, int(is_true.sum())))
    step = max(1, len(texts) // latency_samples)
    sample = list(texts[::step])[:latency_samples]
    clf.predict_top(sample[:1])  # warm-up
    timings = []
    for text in sample:
        started = time.perf_counter()
        clf.predict_top([text])
        timings.append((time.perf_counter() - started) * 1000)
    p50, p95, p99 = (float(v) for v in np.percentile(timings, [50, 95, 99]))
    brier, ece, bins = _calibration(probs, truth)
    thresholds = thresholds or clf.thresholds
    return EvalReport(
        rows=len(texts),
        accuracy=float(np.mean(predicted == truth)),
        macro_f1=float(np.mean([c.f1 for c in per_class])),
        top3_accuracy=float(np.mean(np.any(order == truth[:, None], axis=1))),
        per_class=per_class,
        texts_per_second=len(texts) / elapsed if elapsed > 0 else float("inf"),
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        latency_p99_ms=p99,
        brier=brier,
        ece=ece,
        unknown_labels=int(np.sum(truth < 0)),
        confidence_bins=bins,
        routing=routing_measure(probs, truth, clf.labels, thresholds) if thresholds else None,
        thresholds=thresholds,
        curve=precision_at_coverage(probs, truth, CURVE),
    )
