"""When triage routes a report by itself: the threshold chosen on a tuning split, stored with
the model and used by the pipeline, and the splits it is measured on."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.intake.test_pipeline import TRAINING
from tests.intake.test_triage import reports
from townhall.intake.messages import IncomingMessage, Sender
from townhall.intake.services import intake_accept
from townhall.intake.services_triage import triage_model_save
from townhall.intake.triage import (
    BASELINE_C,
    TriageClassifier,
    baseline_train,
    classifier_evaluate,
    classifier_thresholds_fit,
    classifier_train,
    text_normalise,
)
from townhall.intake.triage_storage import ModelFormatError
from townhall.intake.triage_threshold import (
    NEVER,
    Thresholds,
    label_noise_ceiling,
    routing_measure,
    split_three,
    threshold_lowest,
    thresholds_choose,
)


def test_the_threshold_is_the_lowest_confidence_that_keeps_the_precision() -> None:
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, True, True, False, True, False])

    assert threshold_lowest(confidence, correct, 1.0) == 0.9
    assert threshold_lowest(confidence, correct, 0.8) == 0.7  # 4 of 5 right down to 0.7
    assert threshold_lowest(confidence, correct, 0.5) == 0.6
    assert threshold_lowest(confidence, ~correct, 0.9) == NEVER
    assert threshold_lowest(np.array([]), np.array([], bool), 0.9) == NEVER


def test_texts_of_equal_confidence_are_routed_together() -> None:
    confidence = np.array([0.9, 0.8, 0.8, 0.8])
    correct = np.array([True, True, False, False])

    # Cutting between the 0.8s would look 100 % precise, but a threshold cannot do that.
    assert threshold_lowest(confidence, correct, 0.6) == 0.9


def test_one_threshold_per_service_when_that_routes_more() -> None:
    rng = np.random.default_rng(0)
    n = 400
    # Label 0's proposals are always right; label 1's are right only above 0.9.
    best = np.repeat([0, 1], n // 2)
    confidence = rng.uniform(0.55, 1.0, n)
    truth = np.where((best == 0) | (confidence > 0.9), best, 1 - best)
    probs = np.zeros((n, 2))
    probs[np.arange(n), best] = confidence
    probs[np.arange(n), 1 - best] = 1 - confidence

    chosen = thresholds_choose(probs, truth, ["a", "b"], target=0.98)

    assert chosen.per_label is not None
    assert chosen.for_label("a") < 0.6 < 0.89 < chosen.for_label("b") <= 0.91
    routing = routing_measure(probs, truth, ["a", "b"], chosen)
    assert routing.precision >= 0.98
    single = routing_measure(probs, truth, ["a", "b"], Thresholds(chosen.overall))
    assert routing.routed > single.routed


def test_the_routed_share_and_its_precision_are_measured() -> None:
    probs = np.array([[0.95, 0.05], [0.9, 0.1], [0.3, 0.7], [0.2, 0.8]])
    truth = np.array([0, 1, 1, 1])

    routing = routing_measure(probs, truth, ["a", "b"], Thresholds(0.85))

    assert (routing.rows, routing.routed, routing.right) == (4, 2, 1)
    assert routing.share == 0.5
    assert routing.precision == 0.5


def test_a_dated_split_holds_out_each_services_latest_reports_never_seen_before() -> None:
    letters = "abcdefghij"  # not digits: the classifier folds those to 0
    texts = [f"pothole {c}" for c in letters] + [f"light {c}" for c in letters]
    labels = ["pothole"] * 10 + ["light"] * 10
    dates = [f"2020-01-{d:02d}" for d in range(10, 0, -1)] * 2  # newest first in the file
    texts[0] = "Pothole   D"  # the newest pothole repeats one that tunes: not held out

    split = split_three(
        texts, labels, tune=0.2, holdout=0.3, seed=1, dates=dates, normalise=text_normalise
    )

    assert split.by_time
    held_out = sorted(texts[i] for i in split.test)
    assert held_out == ["light a", "light b", "light c", "pothole b", "pothole c"]
    assert sorted(texts[i] for i in split.tune) == [
        "light d", "light e", "pothole d", "pothole e",
    ]  # fmt: skip
    assert (split.dropped_tune, split.dropped_test) == (0, 1)
    assert len(split.train) == 10


def test_an_undated_split_is_stratified_and_reproducible() -> None:
    texts, labels = reports()

    first = split_three(texts, labels, tune=0.1, holdout=0.3, seed=4, normalise=text_normalise)
    again = split_three(texts, labels, tune=0.1, holdout=0.3, seed=4, normalise=text_normalise)

    assert (first.train, first.tune, first.test) == (again.train, again.tune, again.test)
    assert (len(first.train), len(first.tune), len(first.test)) == (54, 9, 27)
    assert {labels[i] for i in first.test} == set(labels)
    assert not first.by_time


def test_identical_texts_with_different_labels_set_a_ceiling() -> None:
    texts = ["Sidewalk not shoveled", "sidewalk  NOT shoveled", "sidewalk not shoveled", "car"]
    labels = ["snow", "snow", "other", "car"]

    assert label_noise_ceiling(texts, labels, text_normalise) == (1, 3, 1)


@pytest.fixture(scope="module")
def tuned() -> TriageClassifier:
    texts, labels = reports()
    clf = classifier_train(texts[::2], labels[::2])
    classifier_thresholds_fit(clf, texts[1::2], labels[1::2], target=0.98)
    return clf


def test_thresholds_are_chosen_on_tuning_texts_and_stored_with_the_model(
    tuned: TriageClassifier,
) -> None:
    assert tuned.thresholds is not None
    assert 0 < tuned.thresholds.overall <= 1
    copy = TriageClassifier.from_bytes(tuned.to_bytes())
    assert copy.thresholds == tuned.thresholds
    assert copy.threshold_for("noise") == tuned.threshold_for("noise")
    texts, labels = reports()
    report = classifier_evaluate(copy, texts, labels, latency_samples=5)
    assert report.routing is not None
    assert report.routing.precision >= 0.98
    assert report.as_dict()["routed_share"] == pytest.approx(report.routing.share, abs=1e-4)


def test_a_model_without_thresholds_leaves_routing_to_the_setting() -> None:
    clf = classifier_train(*reports())

    assert clf.threshold_for("noise") is None
    assert TriageClassifier.from_bytes(clf.to_bytes()).thresholds is None


def test_stored_thresholds_must_be_numbers_for_known_labels(tuned: TriageClassifier) -> None:
    clf = TriageClassifier.from_bytes(tuned.to_bytes())
    clf.thresholds = Thresholds(0.9, {"no such service": 0.5})

    with pytest.raises(ModelFormatError, match="thresholds"):
        TriageClassifier.from_bytes(clf.to_bytes())


def test_the_baseline_chooses_its_c_by_cross_validation() -> None:
    texts, labels = reports()

    baseline = baseline_train(texts, labels)

    assert baseline.notes["C"] in BASELINE_C
    assert baseline.predict_top(["pothole on the road"], k=1)[0][0][0] == "pothole"


# --- the pipeline routes at the model's threshold -------------------------------------


def _model(threshold: float | None) -> None:
    streets = ["Elm Street", "Maple Ave", "Church St", "Quarry Road", "Mill Lane", "Depot St"]
    texts, labels = [], []
    for code, templates in TRAINING.items():
        for template in templates:
            for street in streets:
                texts.append(template.format(s=street))
                labels.append(code)
    clf = classifier_train(texts, labels)
    clf.thresholds = None if threshold is None else Thresholds(threshold)
    triage_model_save(classifier=clf, name="test", rows=len(texts), metrics={})


@pytest.mark.parametrize(
    ("model_threshold", "setting", "routed"),
    [(NEVER, 0.1, "review"), (0.1, 0.999, "auto"), (None, 0.1, "auto"), (None, 0.999, "review")],
)
def test_the_pipeline_routes_at_the_models_own_threshold(
    town: Any, settings: Any, model_threshold: float | None, setting: float, routed: str
) -> None:
    settings.TOWNHALL_TRIAGE_THRESHOLD = setting
    _model(model_threshold)

    result = intake_accept(
        IncomingMessage(
            channel="sms",
            sender=Sender(phone="+16175550101"),
            text="No heat and no hot water at 4 Oak St, boiler broken",
        )
    )

    assert result.message.triage["routed"] == routed
    assert result.case.service_type.code == "no_heat"
