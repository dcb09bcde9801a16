"""The triage classifier: training, calibrated suggestions, storage, the active-model cache
and the `townhall triage` command."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from townhall.intake.models import TriageModel
from townhall.intake.selectors_triage import (
    triage_classifier_active,
    triage_classifier_cache_clear,
)
from townhall.intake.services_triage import triage_model_save
from townhall.intake.triage import (
    MAX_CHARS,
    TriageClassifier,
    baseline_train,
    classifier_evaluate,
    classifier_train,
    text_normalise,
)

STREETS = ["Elm Street", "Maple Ave", "Church St", "Quarry Road", "Mill Lane", "Depot St"]
REPORTS = {
    "pothole": [
        "Big pothole on {s}, cars swerving around it",
        "deep hole in the road at {s} near the school",
        "The road surface on {s} is breaking up, several potholes",
        "pot hole in the crosswalk on {s}, bent my wheel",
        "Sunken pavement on {s} filling with water",
    ],
    "streetlight_out": [
        "Street light out in front of 12 {s}",
        "the lamp post on {s} has been dark for a week",
        "Streetlight flickering all night on {s}",
        "{s} is pitch dark, two street lights not working",
        "light pole knocked down on {s}",
    ],
    "noise": [
        "Loud music from a party on {s} until 3am",
        "construction noise on {s} before 7 in the morning",
        "car alarm going off for hours on {s}",
        "neighbours on {s} shouting and playing music all night",
        "barking dog and loud party at {s}, can't sleep",
    ],
}


def reports() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for code, templates in REPORTS.items():
        for template, street in itertools.product(templates, STREETS):
            texts.append(template.format(s=street))
            labels.append(code)
    return texts, labels


@pytest.fixture(scope="module")
def classifier() -> TriageClassifier:
    texts, labels = reports()
    return classifier_train(texts, labels)


@pytest.fixture(autouse=True)
def _no_cached_model() -> Iterator[None]:
    triage_classifier_cache_clear()
    yield
    triage_classifier_cache_clear()


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("  Pothole   on\nELM St ", "pothole on elm st"),
        ("Plate 3GY736 at 12 Elm", "plate 0gy000 at 00 elm"),
        ("", ""),
        ("x" * (MAX_CHARS + 500), "x" * MAX_CHARS),
    ],
)
def test_texts_are_normalised_alike(text: str, normalised: str) -> None:
    assert text_normalise(text) == normalised


def test_training_on_reports_proposes_the_right_service(classifier: TriageClassifier) -> None:
    unseen = [
        "There is a huge pothole outside the library",
        "the street lamp by the bus stop is out",
        "loud party next door, music until dawn",
    ]

    top = classifier.predict_top(unseen, k=1)

    assert [best[0][0] for best in top] == ["pothole", "streetlight_out", "noise"]
    assert classifier.labels == ["noise", "pothole", "streetlight_out"]


def test_probabilities_sum_to_one_and_come_best_first(classifier: TriageClassifier) -> None:
    texts = ["hole in the road", "", "light out and loud music", "z" * 50_000]

    for suggestions in classifier.predict_top(texts, k=3):
        probabilities = [p for _, p in suggestions]
        assert len(suggestions) == 3
        assert all(isinstance(code, str) for code, _ in suggestions)
        assert probabilities == sorted(probabilities, reverse=True)
        assert sum(probabilities) == pytest.approx(1.0)
    assert classifier.predict_top([]) == []


def test_bytes_round_trip_gives_identical_suggestions(classifier: TriageClassifier) -> None:
    texts = ["pothole on Elm", "street light out", "noise at night", "something else entirely"]

    copy = TriageClassifier.from_bytes(classifier.to_bytes())

    assert copy.labels == classifier.labels
    assert copy.predict_top(texts) == classifier.predict_top(texts)


def test_other_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="Not a Townhall triage model"):
        TriageClassifier.from_bytes(b"\x80\x04 some pickle")


def test_labels_with_too_few_examples_are_left_out() -> None:
    texts, labels = reports()
    said: list[str] = []

    clf = classifier_train([*texts, "a lost cat"], [*labels, "lost_pet"], progress=said.append)

    assert "lost_pet" not in clf.labels
    assert any("lost_pet" in message for message in said)


def test_a_single_label_cannot_be_learnt() -> None:
    with pytest.raises(ValueError, match="at least 2 labels"):
        classifier_train(["hole"] * 10, ["pothole"] * 10)


def test_evaluation_reports_quality_calibration_and_speed(classifier: TriageClassifier) -> None:
    texts, labels = reports()

    report = classifier_evaluate(classifier, texts, labels, latency_samples=20)

    assert report.accuracy == 1.0
    assert report.macro_f1 == 1.0
    assert report.top3_accuracy == 1.0
    assert [c.label for c in report.per_class] == ["noise", "pothole", "streetlight_out"]
    assert 0 <= report.brier < 0.5
    assert 0 <= report.ece < 0.5
    assert report.texts_per_second > 0
    assert 0 < report.latency_p50_ms <= report.latency_p95_ms <= report.latency_p99_ms
    assert report.as_dict()["per_class"]["noise"]["support"] == 30


def test_the_baseline_is_a_classifier_too() -> None:
    texts, labels = reports()

    baseline = baseline_train(texts, labels)

    assert baseline.predict_top(["pothole on the road"], k=1)[0][0][0] == "pothole"
    assert not baseline.normalise
    assert baseline.thresholds is None


# --- storage and the active model ----------------------------------------------------


def test_no_active_model_means_no_classifier(db: Any) -> None:
    assert triage_classifier_active() is None


def test_a_newer_activated_model_replaces_the_cached_one(
    db: Any, classifier: TriageClassifier, django_assert_num_queries: Any
) -> None:
    first = triage_model_save(classifier=classifier, name="first", rows=90, metrics={"a": 1})
    loaded = triage_classifier_active()
    assert loaded is not None
    assert loaded[0] == first.pk
    with django_assert_num_queries(1):  # cached: only "which model is active?"
        again = triage_classifier_active()
    assert again is not None
    assert again[1] is loaded[1]

    second = triage_model_save(classifier=classifier, name="second", rows=90, metrics={})

    latest = triage_classifier_active()
    assert latest is not None
    assert latest[0] == second.pk
    assert latest[1] is not loaded[1]
    first.refresh_from_db()
    assert not first.active
    assert second.labels == ["noise", "pothole", "streetlight_out"]


def test_a_model_saved_without_activation_is_not_used(
    db: Any, classifier: TriageClassifier
) -> None:
    active = triage_model_save(classifier=classifier, name="in use", rows=90, metrics={})

    triage_model_save(classifier=classifier, name="trial", rows=90, metrics={}, activate=False)

    loaded = triage_classifier_active()
    assert loaded is not None
    assert loaded[0] == active.pk
    assert TriageModel.objects.filter(active=True).count() == 1


# --- the command -----------------------------------------------------------------------


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A council's export: report text, service code, and some rows missing either."""
    texts, labels = reports()
    path = tmp_path / "history.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "details", "type"])
        for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
            writer.writerow([i, text, label])
        writer.writerow([998, "", "pothole"])
        writer.writerow([999, "no label here", ""])
    return path


def run(*args: str) -> str:
    out = StringIO()
    call_command("triage", *args, stdout=out, verbosity=0)
    return out.getvalue()


def test_train_stores_an_active_model_and_prints_a_held_out_score(db: Any, history: Path) -> None:
    out = run("train", "--csv", str(history), "--text-column", "details", "--label-column", "type")

    model = TriageModel.objects.get()
    assert model.active
    assert model.labels == ["noise", "pothole", "streetlight_out"]
    assert model.rows == 72  # 90 less the 10 % held out and the 10 % that tunes
    assert model.metrics["macro_f1"] > 0.8
    assert 0 < model.metrics["thresholds"]["overall"] <= 1
    assert model.metrics["thresholds"]["target"] == 0.98
    assert "history.csv: 90 rows, 3 labels; skipped 2 with an empty text or label" in out
    assert "Held-out 9 rows: accuracy" in out
    assert "routed_share: " in out and "routed_precision: " in out
    assert f"Stored triage model {model.pk} (active)." in out


def test_eval_compares_ours_with_the_baseline_on_the_same_split(db: Any, history: Path) -> None:
    out = run(
        "eval", "--csv", str(history), "--text-column", "details", "--label-column", "type",
        "--holdout", "0.3",
    )  # fmt: skip

    assert (
        "Training on 54 rows, tuning on 9, scoring on 27 held out (30% of each service at "
        "random, seed 42); dropped 0 tuning and 0 held-out rows" in out
    )
    header = next(line for line in out.splitlines() if "baseline" in line and "delta" in line)
    assert header.split() == ["ours", "baseline", "delta"]
    macro = next(line for line in out.splitlines() if line.startswith("macro-F1"))
    ours, baseline, delta = (float(v) for v in macro.split()[1:])
    assert ours > 0.8
    assert delta == pytest.approx(ours - baseline, abs=2e-4)
    for row in ("top-3 accuracy", "texts/s (batch)", "p95 ms (one text)", "train seconds"):
        assert row in out
    assert any(line.startswith("streetlight_out") for line in out.splitlines())
    assert not TriageModel.objects.exists()
    figures = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    for name in ("routed_share", "routed_precision", "accuracy", "macro_f1"):
        assert 0 <= float(figures[name]) <= 1
        assert 0 <= float(figures["baseline_" + name]) <= 1
    assert float(figures["macro_f1_delta"]) == pytest.approx(
        float(figures["macro_f1"]) - float(figures["baseline_macro_f1"]), abs=2e-4
    )


def test_eval_with_dates_holds_out_the_latest_reports(db: Any, tmp_path: Path) -> None:
    texts, labels = reports()
    path = tmp_path / "dated.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["details", "type", "opened"])
        for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
            writer.writerow([text, label, f"2020-01-01T{i % 24:02d}:00:00-05:00"])
        writer.writerow(["pothole", "pothole", "last tuesday"])

    out = run(
        "eval", "--csv", str(path), "--text-column", "details", "--label-column", "type",
        "--date-column", "opened", "--no-baseline",
    )  # fmt: skip

    assert "skipped 1 with an empty text or label (or no ISO date)" in out
    assert "each service's latest 20% by opened" in out
    assert "routed_share: " in out
    assert "baseline_" not in out


def test_eval_scores_a_stored_model_on_the_whole_file(
    db: Any, history: Path, classifier: TriageClassifier
) -> None:
    stored = triage_model_save(classifier=classifier, name="stored", rows=90, metrics={})

    out = run(
        "eval", "--csv", str(history), "--text-column", "details", "--label-column", "type",
        "--model", str(stored.pk),
    )  # fmt: skip

    macro = next(line for line in out.splitlines() if line.startswith("macro-F1"))
    assert float(macro.split()[1]) == 1.0
    assert "baseline" not in out
    # The model has no threshold of its own: the setting's is the active one.
    assert "threshold: 0.6000 (one for all services)" in out
    assert "routed_share: " in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--text-column", "text", "--label-column", "type"], "has no column 'text'"),
        (["--text-column", "details", "--label-column", "type", "--model", "404"],
         "No triage model 404"),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_error(db: Any, history: Path, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("eval", "--csv", str(history), *args)


def test_a_missing_file_is_a_clear_error(db: Any, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.csv")

    with pytest.raises(CommandError, match="No such file"):
        run("train", "--csv", missing, "--text-column", "a", "--label-column", "b")


def test_a_file_without_usable_rows_is_a_clear_error(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("details,type\n,pothole\nhole,\n")

    with pytest.raises(CommandError, match="no row with both a text and a label"):
        run("train", "--csv", str(path), "--text-column", "details", "--label-column", "type")


def test_a_file_with_one_label_is_a_clear_error(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("details,type\n" + "hole in road,pothole\n" * 10)

    with pytest.raises(CommandError, match="only one label"):
        run("train", "--csv", str(path), "--text-column", "details", "--label-column", "type")


def test_probabilities_are_plain_floats(classifier: TriageClassifier) -> None:
    probs = classifier.probabilities(["pothole"])
    assert probs.shape == (1, 3)
    assert np.isclose(probs.sum(), 1.0)


def test_train_without_tuning_rows_leaves_routing_to_the_setting(db: Any, history: Path) -> None:
    out = run(
        "train", "--csv", str(history), "--text-column", "details", "--label-column", "type",
        "--tune", "0",
    )  # fmt: skip

    model = TriageModel.objects.get()
    assert "No tuning rows: TOWNHALL_TRIAGE_THRESHOLD (0.6) decides what is routed." in out
    assert "thresholds" not in model.metrics
    assert TriageClassifier.from_bytes(bytes(model.blob)).thresholds is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tune", "0.5", "--holdout", "0.5"], "--tune \\+ --holdout below 1"),
        (["--target", "1.5"], "--target must be a precision"),
        (["--date-column", "when"], "has no column 'when'"),
    ],
)
def test_bad_split_options_are_clear_errors(
    db: Any, history: Path, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run("eval", "--csv", str(history), "--text-column", "details", "--label-column", "type",
            *args)  # fmt: skip
