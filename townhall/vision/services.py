"""Photo recognition's writes and its sync entry point for a just-uploaded photo.

- `tag_image(data)`: what a photo a resident is uploading shows (sync, ~20 ms; nothing
  stored). `propose_service(guesses)`: the service to suggest filing, or None.
- `case_photo_tag(photo_id)`: tag a stored CasePhoto as PhotoTag rows (run by the
  `tag_case_photo` task, enqueued after the commit that added the photo).
- `photo_tag_confirm`, `photo_tag_correct`: staff feedback; `vision_head_train` learns from it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.db import transaction
from django.utils.translation import gettext

from townhall.cases.models import CasePhoto
from townhall.catalog.models import ServiceType
from townhall.core import clock
from townhall.vision import engine
from townhall.vision.engine import Head, ImageUnreadable, TagSpec
from townhall.vision.errors import VisionError
from townhall.vision.models import (
    NONE_TAG,
    PhotoEmbedding,
    PhotoTag,
    TagSource,
    VisionHead,
    VisionTag,
)
from townhall.vision.types import ServiceProposal, TagGuess

log = logging.getLogger(__name__)

_CACHE_SECONDS = 60.0
_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, Any]] = {}


def vision_cache_clear() -> None:
    """Forget the cached tag set, head and active services (after an edit, between tests)."""
    with _cache_lock:
        _cache.clear()


def _cached(key: str, load: Any) -> Any:
    hit = _cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    value = load()
    with _cache_lock:
        _cache[key] = (time.monotonic() + _CACHE_SECONDS, value)
    return value


def vision_warm() -> None:
    """Build the backbone now (1-2 s, ~130 MB) rather than on the first photo: for a
    process that is about to serve uploads (call it at worker start)."""
    from townhall.vision.backbone import get_backbone

    get_backbone()


def tag_specs() -> list[TagSpec]:
    """The active tags, with the service each maps to when that service is active."""

    def load() -> list[TagSpec]:
        active = set(ServiceType.objects.filter(active=True).values_list("code", flat=True))
        return [
            TagSpec(
                code=t.code,
                label=t.label,
                service_code=t.service_code if t.service_code in active else None,
                threshold=t.threshold,
                propose_threshold=t.propose_threshold,
                classes=tuple(int(c) for c in t.imagenet_classes if 0 <= int(c) < 1000),
            )
            for t in VisionTag.objects.filter(active=True)
        ]

    return list(_cached("tags", load))


def active_head() -> Head | None:
    """The newest active head for this backbone, or None (prior only)."""

    def load() -> Head | None:
        row = (
            VisionHead.objects.filter(active=True, backbone=engine.backbone_version())
            .only("pk", "blob", "created_at")
            .first()
        )
        if row is None:
            return None
        return Head.from_bytes(bytes(row.blob), version=f"head-{row.pk}")

    head: Head | None = _cached("head", load)
    return head


def model_version(head: Head | None) -> str:
    return f"{engine.backbone_version()}+{head.version if head else 'prior'}"


def _guesses(scores: dict[str, float], tags: Sequence[TagSpec]) -> list[TagGuess]:
    found = [
        TagGuess(
            tag=t.code,
            label=gettext(t.label),
            confidence=round(min(1.0, max(0.0, scores[t.code])), 4),
            service_code=t.service_code,
        )
        for t in tags
        if scores.get(t.code, 0.0) >= t.threshold
    ]
    return sorted(found, key=lambda g: (-g.confidence, g.tag))


def _analyse(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    features, probs = engine.embed([engine.image_array(data)])
    return features[0], probs[0]


def tag_image(data: bytes) -> list[TagGuess]:
    """What the photo seems to show, best first; only tags at or above their threshold.

    Bytes that are not a readable image (or absurdly large) give an empty list.
    """
    try:
        features, probs = _analyse(data)
    except ImageUnreadable as exc:
        log.info("vision: image not readable: %s", exc)
        return []
    tags = tag_specs()
    return _guesses(engine.tag_scores(features, probs, tags, active_head()), tags)


def propose_service(guesses: list[TagGuess]) -> ServiceProposal | None:
    """The best guess whose tag maps to an active service and clears its proposal
    threshold, as a proposal to show the resident; None when no guess is good enough."""
    specs = {t.code: t for t in tag_specs()}
    names = _cached(
        "services",
        lambda: dict(ServiceType.objects.filter(active=True).values_list("code", "name")),
    )
    for g in sorted(guesses, key=lambda g: -g.confidence):
        spec = specs.get(g.tag)
        if g.service_code is None or spec is None or g.service_code not in names:
            continue
        if g.confidence >= spec.propose_threshold:
            return ServiceProposal(
                service_code=g.service_code,
                service_name=names[g.service_code],
                tag=g.tag,
                label=g.label,
                confidence=g.confidence,
            )
    return None


def _photo_bytes(photo: CasePhoto) -> bytes:
    with photo.file.open("rb") as fh:
        return bytes(fh.read())


def case_photo_tag(photo_id: int) -> list[PhotoTag]:
    """Tag a stored case photo: replace the model's tags on it, never staff's.

    Also keeps the photo's embedding for training. A missing photo or file gives [].
    """
    photo = CasePhoto.objects.filter(pk=photo_id).first()
    if photo is None:
        return []
    try:
        features, probs = _analyse(_photo_bytes(photo))
    except (ImageUnreadable, OSError) as exc:
        log.warning("vision: photo %s not tagged: %s", photo_id, exc)
        return []
    tags = tag_specs()
    head = active_head()
    guesses = _guesses(engine.tag_scores(features, probs, tags, head), tags)
    version = model_version(head)
    now = clock.now()
    with transaction.atomic():
        PhotoEmbedding.objects.update_or_create(
            photo=photo,
            defaults={
                "backbone": engine.backbone_version(),
                "vector": features.astype(np.float16).tobytes(),
                "created_at": now,
            },
        )
        # Model tags staff confirmed stay (they are feedback now); the rest is replaced.
        kept = set(
            PhotoTag.objects.filter(
                photo=photo, source=TagSource.MODEL, confirmed_at__isnull=False
            ).values_list("tag", flat=True)
        )
        PhotoTag.objects.filter(
            photo=photo, source=TagSource.MODEL, confirmed_at__isnull=True
        ).delete()
        PhotoTag.objects.bulk_create(
            PhotoTag(
                photo=photo,
                tag=g.tag,
                confidence=g.confidence,
                source=TagSource.MODEL,
                model_version=version,
                created_at=now,
            )
            for g in guesses
            if g.tag not in kept
        )
    return list(PhotoTag.objects.filter(photo=photo))


def photo_tag_confirm(tag_id: int, user: Any) -> PhotoTag:
    """Staff say the model's tag is right: it becomes a training example."""
    tag = PhotoTag.objects.filter(pk=tag_id).first()
    if tag is None:
        raise VisionError(gettext("That tag does not exist."))
    tag.confirmed_by_id = getattr(user, "pk", None)
    tag.confirmed_at = clock.now()
    tag.save(update_fields=["confirmed_by", "confirmed_at"])
    return tag


def photo_tag_correct(photo_id: int, tag: str, user: Any) -> PhotoTag:
    """Staff say the photo shows `tag` (or "none": nothing the council deals with).

    The model's unconfirmed tags on the photo are dropped as wrong; staff's tag is stored
    (confirmed) and kept through any re-tagging.
    """
    known = set(VisionTag.objects.values_list("code", flat=True)) | {NONE_TAG}
    if tag not in known:
        raise VisionError(gettext("Unknown tag: %(tag)s") % {"tag": tag[:40]})
    photo = CasePhoto.objects.filter(pk=photo_id).first()
    if photo is None:
        raise VisionError(gettext("That photo does not exist."))
    now = clock.now()
    with transaction.atomic():
        PhotoTag.objects.filter(
            photo=photo, source=TagSource.MODEL, confirmed_at__isnull=True
        ).delete()
        if tag == NONE_TAG:
            PhotoTag.objects.filter(photo=photo, source=TagSource.STAFF).exclude(
                tag=NONE_TAG
            ).delete()
        else:
            PhotoTag.objects.filter(photo=photo, source=TagSource.STAFF, tag=NONE_TAG).delete()
        row, _ = PhotoTag.objects.update_or_create(
            photo=photo,
            tag=tag,
            source=TagSource.STAFF,
            defaults={
                "confidence": 1.0,
                "confirmed_by_id": getattr(user, "pk", None),
                "confirmed_at": now,
                "model_version": "",
            },
        )
    return row


def vision_head_train(**kwargs: Any) -> VisionHead | None:
    """Train a new head from staff feedback; see townhall.vision.training."""
    from townhall.vision.training import head_train

    head = head_train(**kwargs)
    vision_cache_clear()
    return head
