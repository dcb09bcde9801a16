"""How a triage model is stored: words and numbers that load without running code, and give
the same suggestions as the classifier that was trained."""

from __future__ import annotations

import io
import logging
import os
import pickle
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from tests.intake.test_triage import reports
from townhall.intake.models import TriageModel
from townhall.intake.selectors_triage import (
    triage_classifier_active,
    triage_classifier_cache_clear,
)
from townhall.intake.triage import TriageClassifier, baseline_train, classifier_train
from townhall.intake.triage_storage import FORMAT, OLD_FORMAT, ModelFormatError

UNSEEN = [
    "pothole on Elm",
    "street light out",
    "noise at night",
    "something else entirely",
    "",
    "z" * 5_000,
]


class _Payload:
    """What a hostile pickle does: run a command when it is loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def _two_labels() -> TriageClassifier:
    texts, labels = reports()
    keep = [(t, lab) for t, lab in zip(texts, labels, strict=True) if lab != "noise"]
    return classifier_train([t for t, _ in keep], [lab for _, lab in keep])


@pytest.mark.parametrize(
    "train",
    [
        lambda: classifier_train(*reports()),
        _two_labels,
        lambda: baseline_train(*reports()),
    ],
    ids=["ours", "two-labels", "baseline"],
)
def test_a_stored_model_gives_the_same_probabilities(train: Any) -> None:
    trained = train()

    data = trained.to_bytes()
    loaded = TriageClassifier.from_bytes(data)

    assert data.startswith(FORMAT)
    assert loaded.labels == trained.labels
    assert loaded.normalise == trained.normalise
    np.testing.assert_allclose(
        loaded.probabilities(UNSEEN), trained.probabilities(UNSEEN), rtol=0, atol=1e-12
    )
    assert loaded.predict_top(UNSEEN, k=3) == trained.predict_top(UNSEEN, k=3)
    assert loaded.to_bytes() == data  # stored again, byte for byte


def test_the_stored_archive_holds_no_pickle() -> None:
    data = classifier_train(*reports()).to_bytes()

    with np.load(io.BytesIO(data[len(FORMAT) :]), allow_pickle=False) as stored:
        dtypes = {name: stored[name].dtype for name in stored.files}

    assert not any(dtype.hasobject for dtype in dtypes.values())
    assert set(dtypes) >= {"meta", "words.idf", "chars.idf", "svm.coef", "calibrator.coef"}


@pytest.mark.parametrize("header", [OLD_FORMAT, b""], ids=["old-format", "bare-pickle"])
def test_a_pickle_is_refused_and_never_run(tmp_path: Path, header: bytes) -> None:
    marker = tmp_path / "ran"
    payload = pickle.dumps(_Payload(marker))
    blob = header + (zlib.compress(payload) if header else payload)

    with pytest.raises(ModelFormatError):
        TriageClassifier.from_bytes(blob)

    assert not marker.exists()


def test_an_object_array_inside_the_archive_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    buffer = io.BytesIO()
    hostile = np.array([_Payload(marker)], dtype=object)
    np.savez(buffer, meta=np.frombuffer(b"{}", np.uint8), hostile=hostile)

    with pytest.raises(ModelFormatError):
        TriageClassifier.from_bytes(FORMAT + buffer.getvalue())

    assert not marker.exists()


def _rewritten(data: bytes, name: str, array: np.ndarray[Any, Any]) -> bytes:
    """`data` with one member of its archive replaced."""
    source = zipfile.ZipFile(io.BytesIO(data[len(FORMAT) :]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for entry in source.infolist():
            if entry.filename == f"{name}.npy":
                with target.open(entry.filename, "w") as member:
                    np.lib.format.write_array(member, array)
            else:
                target.writestr(entry, source.read(entry))
    return FORMAT + buffer.getvalue()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[: len(data) // 2], "damaged"),
        (lambda data: b"townhall-triage-9\n" + data[len(FORMAT) :], "Not a Townhall"),
        (lambda data: _rewritten(data, "svm.coef", np.zeros((3, 7))), "wrong shape"),
        (lambda data: _rewritten(data, "words.idf", np.ones(2)), "vocabulary"),
        (lambda data: _rewritten(data, "meta", np.frombuffer(b"[1]", np.uint8)), "damaged"),
    ],
    ids=["truncated", "unknown-format", "coefficients", "idf", "meta"],
)
def test_damaged_bytes_are_a_clear_error(damage: Any, message: str) -> None:
    data = classifier_train(*reports()).to_bytes()

    with pytest.raises(ModelFormatError, match=message):
        TriageClassifier.from_bytes(damage(data))


def test_an_active_model_in_the_old_format_is_skipped_and_logged(
    db: Any, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    triage_classifier_cache_clear()
    old = TriageModel.objects.create(
        name="pickled", labels=["a", "b"], rows=10, metrics={}, active=True,
        blob=OLD_FORMAT + zlib.compress(pickle.dumps({"not": "a model"})),
    )  # fmt: skip
    history = tmp_path / "history.csv"
    history.write_text("details,type\nhole in road,pothole\nlamp out,streetlight\n")

    with caplog.at_level(logging.WARNING, logger="townhall.intake.selectors_triage"):
        assert triage_classifier_active() is None
    with pytest.raises(CommandError, match="old pickle format"):
        call_command(
            "triage", "eval", "--csv", str(history), "--text-column", "details",
            "--label-column", "type", "--model", str(old.pk), verbosity=0, stdout=io.StringIO(),
        )  # fmt: skip

    assert f"triage model {old.pk} not loaded" in caplog.text
    assert "train it again" in caplog.text
    triage_classifier_cache_clear()
