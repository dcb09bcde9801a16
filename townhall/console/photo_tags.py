"""What staff see of the photo tags (issue 20): the case page's "Photo looks like
(automatic)", the triage box's photo evidence and the queues' photo tag filter.

Tags are staff-only: they come from `townhall.vision.selectors` and are shown only by the
console. Vision is imported when first used (it brings numpy and onnxruntime), not by every
process that imports the console; if it cannot be imported the pages show no tags. Public
pages, the tracking page and Open311 never read them (tests/console/test_photo_tags_abuse.py).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Q

from townhall.intake.photo_suggestions import TriageRow, triage_photo_rows
from townhall.vision.types import TagGuess

log = logging.getLogger(__name__)


def photo_tags_of(case: Any) -> list[TagGuess]:
    """The tags of the case's photos, best first; none if recognition is not installed."""
    try:
        from townhall.vision.selectors import case_tags
    except ImportError:
        return []
    return sorted(case_tags(case), key=lambda t: -t.confidence)


def photo_tag_choices() -> list[tuple[str, str]]:
    try:
        from townhall.vision.selectors import tag_choices
    except ImportError:
        return []
    return list(tag_choices())


def photo_tag_filter(tag: str) -> Q:
    """Cases with a photo tagged `tag`."""
    from townhall.vision.selectors import case_ids_with_tag

    return Q(pk__in=case_ids_with_tag(tag))


def photo_context(case: Any, triage: Any, *, has_photos: bool) -> dict[str, Any]:
    """For the case page: the photos' tags ("Photo looks like (automatic)") and, in the
    triage box, the words and the photo taken together (`intake.photo_suggestions`).
    A case without photos asks vision nothing."""
    tags = photo_tags_of(case) if has_photos else []
    if not triage or not tags:
        return {"photo_tags": tags, "triage_rows": [], "triage_disagree": False}
    _review, suggestions = triage
    rows: list[TriageRow]
    rows, disagree = triage_photo_rows(
        case=case,
        text_guesses=[(s.service.code, s.probability) for s in suggestions],
        tags=tags,
    )
    return {"photo_tags": tags, "triage_rows": rows, "triage_disagree": disagree}
