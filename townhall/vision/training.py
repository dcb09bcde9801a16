"""Train the head (logistic regression on backbone features) from staff's feedback.

A photo is a training example when staff confirmed one of the model's tags on it or said
what it shows (`photo_tag_correct`, "none" included: a negative example). Its features
come from its stored PhotoEmbedding, or are computed from the photo once and stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
from django.db import transaction

from townhall.cases.models import CasePhoto
from townhall.vision import engine
from townhall.vision.engine import ImageUnreadable, fit_head
from townhall.vision.models import PhotoEmbedding, PhotoTag, TagSource, VisionHead

Progress = Callable[[int, int], None]


def training_labels() -> dict[int, str]:
    """photo id → the tag staff gave it (staff's own tag wins over a confirmed model tag)."""
    labels: dict[int, str] = {}
    rows = (
        PhotoTag.objects.filter(confirmed_at__isnull=False)
        .order_by("photo_id", "-confidence", "id")
        .values_list("photo_id", "tag", "source")
    )
    by_staff: set[int] = set()
    for photo_id, tag, source in rows:
        if source == TagSource.STAFF and photo_id not in by_staff:
            labels[photo_id] = tag
            by_staff.add(photo_id)
        elif photo_id not in labels:
            labels[photo_id] = tag
    return labels


def photo_features(photo_ids: list[int], progress: Progress | None = None) -> dict[int, np.ndarray]:
    """Features per photo id, from PhotoEmbedding or computed (and stored) from the file."""
    version = engine.backbone_version()
    found: dict[int, np.ndarray] = {
        pid: np.frombuffer(bytes(vec), dtype=np.float16).astype(np.float32)
        for pid, vec in PhotoEmbedding.objects.filter(
            photo_id__in=photo_ids, backbone=version
        ).values_list("photo_id", "vector")
    }
    missing = [pid for pid in photo_ids if pid not in found]
    done = len(found)
    for photo in CasePhoto.objects.filter(pk__in=missing):
        try:
            with photo.file.open("rb") as fh:
                arr = engine.image_array(bytes(fh.read()))
        except (ImageUnreadable, OSError):
            continue
        features, _ = engine.embed([arr])
        found[photo.pk] = features[0]
        PhotoEmbedding.objects.update_or_create(
            photo=photo,
            defaults={"backbone": version, "vector": features[0].astype(np.float16).tobytes()},
        )
        done += 1
        if progress:
            progress(done, len(photo_ids))
    if progress:
        progress(len(photo_ids), len(photo_ids))
    return found


def head_train(
    *,
    name: str = "staff feedback",
    user: Any = None,
    min_per_tag: int = 2,
    activate: bool = True,
    progress: Progress | None = None,
) -> VisionHead | None:
    """Train and store a new head from staff feedback; None when there is too little of it
    (fewer than two tags with `min_per_tag` photos each)."""
    labels = training_labels()
    counts = Counter(labels.values())
    keep = {tag for tag, n in counts.items() if n >= min_per_tag}
    if len(keep) < 2:
        return None
    ids = [pid for pid, tag in labels.items() if tag in keep]
    feats = photo_features(ids, progress)
    ids = [pid for pid in ids if pid in feats]
    y = [labels[pid] for pid in ids]
    if len(set(y)) < 2:
        return None
    head, metrics = fit_head(np.stack([feats[pid] for pid in ids]), y)
    with transaction.atomic():
        if activate:
            VisionHead.objects.filter(active=True).update(active=False)
        return VisionHead.objects.create(
            name=name[:200],
            backbone=engine.backbone_version(),
            labels=head.labels,
            rows=len(ids),
            metrics=metrics,
            blob=head.to_bytes(),
            active=activate,
            trained_by_id=getattr(user, "pk", None),
        )
