"""How a triage classifier is stored: numbers and words only, never code.

A stored model is a format line, then a zip archive (NumPy's .npz, read with
`allow_pickle=False`) holding `meta` (UTF-8 JSON: the labels, the vectorisers' settings and
vocabularies, the model's kind and, since issue 17, its routing thresholds) and the float
arrays of the linear models. Loading parses JSON and reads arrays; nothing in the blob can
run code, unlike the pickle used before (issue 16). The classifier is linear, so its
probabilities are recomputed here from the coefficients with the same arithmetic
scikit-learn uses (tested to agree to 1e-9).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson
from scipy.special import expit, softmax
from sklearn.feature_extraction.text import TfidfVectorizer

FORMAT = b"townhall-triage-2\n"
OLD_FORMAT = b"townhall-triage-1\n"  # zlib-compressed pickle: refused, never unpickled
_META = "meta"
# The only TfidfVectorizer settings a stored model may carry (everything else is default).
_TFIDF_SETTINGS = ("analyzer", "ngram_range", "lowercase", "sublinear_tf", "norm", "binary")
_DTYPES = {"float32": np.float32, "float64": np.float64}
Array = np.ndarray[Any, np.dtype[Any]]


class ModelFormatError(ValueError):
    """The bytes are not a triage model this version can read."""


class LinearScores:
    """`decision_function` of a fitted linear model: features @ coef.T + intercept, one
    column when there are two classes (as scikit-learn's LinearSVC)."""

    def __init__(self, coef: Array, intercept: Array, classes: Sequence[str]) -> None:
        self.coef_ = coef
        self.intercept_ = intercept
        self.classes_ = np.asarray(classes)

    def decision_function(self, features: Any) -> Array:
        scores = np.asarray(features @ self.coef_.T) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores


class LinearProbabilities(LinearScores):
    """`predict_proba` of a fitted LogisticRegression: the logistic function for two
    classes, softmax (multinomial) for more."""

    def predict_proba(self, features: Any) -> Array:
        scores = np.asarray(features @ self.coef_.T) + self.intercept_
        if scores.shape[1] == 1:
            positive = expit(scores)
            return np.hstack([1 - positive, positive])
        return np.asarray(softmax(scores, axis=1))


def _tfidf_dump(vectoriser: TfidfVectorizer, name: str, arrays: dict[str, Array]) -> dict[str, Any]:
    params = vectoriser.get_params()
    vocabulary = vectoriser.vocabulary_
    terms = [""] * len(vocabulary)
    for term, column in vocabulary.items():
        terms[column] = term
    arrays[f"{name}.idf"] = np.asarray(vectoriser.idf_)
    return {
        "settings": {key: params[key] for key in _TFIDF_SETTINGS},
        "dtype": np.dtype(params["dtype"]).name,
        "terms": terms,
    }


def _tfidf_load(meta: Mapping[str, Any], idf: Array) -> TfidfVectorizer:
    settings = dict(meta["settings"])
    if set(settings) != set(_TFIDF_SETTINGS) or meta["dtype"] not in _DTYPES:
        raise ModelFormatError("Unknown vectoriser settings in the stored model.")
    settings["ngram_range"] = tuple(settings["ngram_range"])
    terms = meta["terms"]
    if len(terms) != len(idf) or len(set(terms)) != len(terms):
        raise ModelFormatError("The stored vocabulary does not match its weights.")
    vectoriser = TfidfVectorizer(
        **settings,
        dtype=_DTYPES[meta["dtype"]],
        vocabulary={term: column for column, term in enumerate(terms)},
    )
    vectoriser.idf_ = idf
    return vectoriser


def _linear_dump(model: Any, name: str, arrays: dict[str, Array]) -> None:
    arrays[f"{name}.coef"] = np.asarray(model.coef_)
    arrays[f"{name}.intercept"] = np.asarray(model.intercept_)


def _linear(
    arrays: Mapping[str, Array], name: str, classes: Sequence[str], kind: type, width: int
) -> Any:
    coef, intercept = arrays[f"{name}.coef"], arrays[f"{name}.intercept"]
    if coef.ndim != 2 or coef.shape[1] != width or intercept.shape != (coef.shape[0],):
        raise ModelFormatError("The stored coefficients have the wrong shape.")
    return kind(coef, intercept, classes)


def classifier_dump(
    *,
    labels: Sequence[str],
    normalise: bool,
    vectoriser: Any,
    model: Any,
    thresholds: Mapping[str, Any] | None = None,
) -> bytes:
    """The stored form of a classifier's parts (see the module docstring)."""
    from townhall.intake.triage import WordsAndCharacters  # the one shape we train

    arrays: dict[str, Array] = {}
    meta: dict[str, Any] = {"labels": list(labels), "normalise": normalise}
    if thresholds is not None:  # absent in models stored before issue 17
        meta["thresholds"] = dict(thresholds)
    if isinstance(vectoriser, WordsAndCharacters):
        meta["vectoriser"] = {
            "kind": "words+chars",
            "words": _tfidf_dump(vectoriser.words, "words", arrays),
            "chars": _tfidf_dump(vectoriser.chars, "chars", arrays),
        }
    else:
        meta["vectoriser"] = {"kind": "tfidf", "tfidf": _tfidf_dump(vectoriser, "tfidf", arrays)}
    if hasattr(model, "svm"):
        meta["model"] = "calibrated-svm"
        _linear_dump(model.svm, "svm", arrays)
        _linear_dump(model.calibrator, "calibrator", arrays)
    else:
        meta["model"] = "logistic"
        _linear_dump(model, "logistic", arrays)
    arrays[_META] = np.frombuffer(orjson.dumps(meta), np.uint8)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, array in arrays.items():
            # The words compress well; the coefficients barely do and would cost the
            # decompression on every load, so they are stored as they are.
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(2000, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED if name == _META else zipfile.ZIP_STORED
            with archive.open(entry, "w") as member:
                np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
    return FORMAT + buffer.getvalue()


def classifier_parts(
    data: bytes,
) -> tuple[list[str], bool, Any, Any, dict[str, Any] | None]:
    """Labels, whether texts are normalised, the vectoriser, the model and the routing
    thresholds (None when the model has none) stored in `data`.

    Raises ModelFormatError for anything else, including the pickled format of before.
    """
    if data.startswith(OLD_FORMAT):
        raise ModelFormatError(
            "This triage model was stored in the old pickle format, which is no longer "
            "loaded; train it again (townhall triage train)."
        )
    if not data.startswith(FORMAT):
        raise ModelFormatError("Not a Townhall triage model.")
    try:
        with np.load(io.BytesIO(data[len(FORMAT) :]), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        meta = orjson.loads(arrays.pop(_META).tobytes())
        labels = [str(label) for label in meta["labels"]]
        about = meta["vectoriser"]
        vectoriser: Any
        if about["kind"] == "words+chars":
            from townhall.intake.triage import WordsAndCharacters

            vectoriser = WordsAndCharacters.fitted(
                words=_tfidf_load(about["words"], arrays["words.idf"]),
                chars=_tfidf_load(about["chars"], arrays["chars.idf"]),
            )
        elif about["kind"] == "tfidf":
            vectoriser = _tfidf_load(about["tfidf"], arrays["tfidf.idf"])
        else:
            raise ModelFormatError("Unknown vectoriser in the stored model.")
        model: Any
        if meta["model"] == "calibrated-svm":
            from townhall.intake.triage import CalibratedSvm

            scores = 1 if len(labels) == 2 else len(labels)
            model = CalibratedSvm(
                _linear(arrays, "svm", labels, LinearScores, _width(vectoriser)),
                # the calibrator reads the SVM's scores: one column for two labels
                _linear(arrays, "calibrator", labels, LinearProbabilities, scores),
            )
        elif meta["model"] == "logistic":
            model = _linear(arrays, "logistic", labels, LinearProbabilities, _width(vectoriser))
        else:
            raise ModelFormatError("Unknown model kind in the stored model.")
        thresholds = _thresholds(meta.get("thresholds"), labels)
        return labels, bool(meta["normalise"]), vectoriser, model, thresholds
    except ModelFormatError:
        raise
    except (KeyError, TypeError, ValueError, OSError, zipfile.BadZipFile, orjson.JSONDecodeError):
        raise ModelFormatError("Not a Townhall triage model (damaged).") from None


def _thresholds(stored: Any, labels: Sequence[str]) -> dict[str, Any] | None:
    """The stored thresholds, checked to be numbers for known labels."""
    if stored is None:
        return None
    per_label = stored.get("per_label")
    numbers = [stored["overall"], stored["target"], *(per_label or {}).values()]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers) or (
        per_label is not None and not set(per_label) <= set(labels)
    ):
        raise ModelFormatError("The stored thresholds are not numbers for the model's labels.")
    return {"overall": stored["overall"], "per_label": per_label, "target": stored["target"]}


def _width(vectoriser: Any) -> int:
    """How many feature columns `vectoriser` produces."""
    if hasattr(vectoriser, "words"):
        return len(vectoriser.words.vocabulary_) + len(vectoriser.chars.vocabulary_)
    return len(vectoriser.vocabulary_)
