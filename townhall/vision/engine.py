"""From image bytes to tag scores: decode and resize, run the backbone, score the tags.

Two scorers, per tag:
- the prior: the summed probability of the ImageNet classes the tag lists (a dumped
  fridge is ImageNet's "refrigerator"); tags ImageNet has no class for (pothole, graffiti,
  fallen tree, streetlight) score 0 here and are only found once a head learnt them;
- the head: a logistic regression on the backbone's 1280 pooled features, trained from
  staff's confirmed and corrected tags (`vision_head_train`). A tag the head knows is scored
  by the head; the others keep their prior.
No database access here: the caller hands in the tag set and the head.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from townhall.vision.backbone import INPUT_SIZE, MODEL_NAME, get_backbone

MAX_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 60_000_000  # decoded size refused above this (a decompression bomb)
# Longer side over shorter side refused above this: scaling a thin strip's short side to
# 256 would ask for gigabytes (8 x 200,000 pixels becomes 256 x 6,400,000).
MAX_ASPECT = 20
# What a case photo may be (cases/photos.py): never EPS (Pillow runs Ghostscript on it) nor
# the other formats nobody photographs in.
# (MPO is opened by the JPEG parser; HEIF only where its plugin is registered.)
FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")


def _formats() -> list[str]:
    Image.init()
    return [f for f in FORMATS if f in Image.OPEN]


_RESIZE = 256  # short side before the centre crop, as in ImageNet evaluation


class ImageUnreadable(ValueError):
    """The bytes are not an image this module can read (or too large to try)."""


@dataclass(frozen=True)
class TagSpec:
    code: str
    label: str
    service_code: str | None
    threshold: float
    propose_threshold: float
    classes: tuple[int, ...]


@dataclass
class Head:
    """A trained head: softmax(W·x + b) over `labels`, x the L2-normalised features."""

    labels: list[str]
    coef: np.ndarray
    intercept: np.ndarray
    version: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def probs(self, features: np.ndarray) -> np.ndarray:
        x = features / (np.linalg.norm(features, axis=1, keepdims=True) + 1e-8)
        z = x @ self.coef.T + self.intercept
        if z.shape[1] == 1:  # binary logistic regression: one column for labels[1]
            p1 = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.stack([1.0 - p1, p1], axis=1)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(
            buf,
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            labels=np.array(self.labels, dtype=str),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes, *, version: str = "") -> Head:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            return cls(
                labels=[str(x) for x in data["labels"]],
                coef=np.asarray(data["coef"], dtype=np.float32),
                intercept=np.asarray(data["intercept"], dtype=np.float32),
                version=version,
            )


def image_array(data: bytes) -> np.ndarray:
    """Decode, orient-free RGB, short side to 256, centre 224 crop, scaled to [-1, 1].

    Raise ImageUnreadable for anything that is not a readable image of sane size.
    """
    if not data or len(data) > MAX_BYTES:
        raise ImageUnreadable("empty or too large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=_formats())
        with im:
            w, h = im.size
            if w < 8 or h < 8 or w * h > MAX_PIXELS or max(w, h) > MAX_ASPECT * min(w, h):
                raise ImageUnreadable("image size out of range")
            if im.format == "JPEG":  # decode at a reduced scale: much faster on big photos
                scale = _RESIZE / min(w, h)
                im.draft("RGB", (int(w * scale) + 1, int(h * scale) + 1))
            rgb = im.convert("RGB")
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise ImageUnreadable(str(exc)[:200]) from exc
    w, h = rgb.size
    scale = _RESIZE / min(w, h)
    rgb = rgb.resize(
        (max(INPUT_SIZE, round(w * scale)), max(INPUT_SIZE, round(h * scale))),
        Image.Resampling.BILINEAR,
    )
    w, h = rgb.size
    left, top = (w - INPUT_SIZE) // 2, (h - INPUT_SIZE) // 2
    rgb = rgb.crop((left, top, left + INPUT_SIZE, top + INPUT_SIZE))
    arr = (np.asarray(rgb, dtype=np.float32) - 127.0) / 128.0
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def embed(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Features (n x 1280) and ImageNet probabilities (n x 1000) of preprocessed images."""
    batch = np.stack(list(arrays)).astype(np.float32)
    return get_backbone().run(batch)


def prior_scores(probs: np.ndarray, tags: Sequence[TagSpec]) -> dict[str, float]:
    """Per tag, the summed probability of its ImageNet classes (0 when it lists none)."""
    return {t.code: float(probs[list(t.classes)].sum()) if t.classes else 0.0 for t in tags}


def tag_scores(
    features: np.ndarray, probs: np.ndarray, tags: Sequence[TagSpec], head: Head | None
) -> dict[str, float]:
    """One image's score per tag: the head's for tags it knows, else the prior."""
    scores = prior_scores(probs, tags)
    if head is not None:
        hp = head.probs(features[None, :])[0]
        known = dict(zip(head.labels, hp.tolist(), strict=True))
        for t in tags:
            if t.code in known:
                scores[t.code] = float(known[t.code])
    return scores


def fit_head(x: np.ndarray, y: list[str], *, c: float = 4.0) -> tuple[Head, dict[str, Any]]:
    """Fit a logistic regression on L2-normalised features; cross-validate when possible."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    xn = x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-8)
    counts = Counter(y)
    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    metrics: dict[str, Any] = {"per_tag": dict(sorted(counts.items()))}
    folds = min(5, min(counts.values()))
    if folds >= 2:
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
        scores = cross_val_score(clf, xn, y, cv=cv)
        metrics["cv_accuracy"] = round(float(scores.mean()), 4)
        metrics["cv_folds"] = folds
    clf.fit(xn, y)
    metrics["train_accuracy"] = round(float(clf.score(xn, y)), 4)
    head = Head(
        labels=[str(c) for c in clf.classes_],
        coef=np.asarray(clf.coef_, dtype=np.float32),
        intercept=np.asarray(clf.intercept_, dtype=np.float32),
    )
    return head, metrics


def backbone_version() -> str:
    return MODEL_NAME
