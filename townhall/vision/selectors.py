"""Reads for staff: a case's photo tags, cases by tag, the tag choices for forms.

Tags are staff-only: nothing here is for a public page or the Open311 API.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext

from townhall.cases.models import Case
from townhall.vision.models import NONE_TAG, PhotoTag, TagSource, VisionTag
from townhall.vision.services import tag_specs
from townhall.vision.types import TagGuess


def case_tags(case: Case) -> list[TagGuess]:
    """What the case's photos show, one guess per tag at its best confidence, best first.

    Staff's tags count as confidence 1; a tag staff said is wrong (a "none" on that photo)
    is not listed.
    """
    specs = {t.code: t for t in tag_specs()}
    labels = dict(VisionTag.objects.values_list("code", "label"))
    best: dict[str, float] = {}
    for tag, confidence, source in (
        PhotoTag.objects.filter(photo__case=case)
        .exclude(tag=NONE_TAG)
        .values_list("tag", "confidence", "source")
    ):
        value = 1.0 if source == TagSource.STAFF else float(confidence)
        best[tag] = max(best.get(tag, 0.0), value)
    return sorted(
        (
            TagGuess(
                tag=tag,
                label=gettext(labels.get(tag, tag)),
                confidence=round(conf, 4),
                service_code=specs[tag].service_code if tag in specs else None,
            )
            for tag, conf in best.items()
        ),
        key=lambda g: (-g.confidence, g.tag),
    )


def photo_tags_for(photo_ids: list[int]) -> dict[int, list[PhotoTag]]:
    """Tags per photo id (for a staff page showing several photos)."""
    out: dict[int, list[PhotoTag]] = {pid: [] for pid in photo_ids}
    for row in PhotoTag.objects.filter(photo_id__in=photo_ids):
        out[row.photo_id].append(row)
    return out


def case_ids_with_tag(tag: str) -> QuerySet[PhotoTag, int]:
    """Ids of cases with a photo tagged `tag` (a subquery: use as `pk__in=`)."""
    return (
        PhotoTag.objects.filter(tag=tag)
        .exclude(photo__vision_tags__tag=NONE_TAG, photo__vision_tags__source=TagSource.STAFF)
        .values_list("photo__case_id", flat=True)
        .distinct()
    )


def cases_with_tag(qs: QuerySet[Case], tag: str) -> QuerySet[Case]:
    """Filter a queryset of cases to those with a photo tagged `tag`."""
    return qs.filter(pk__in=case_ids_with_tag(tag))


def tag_choices(*, with_none: bool = False) -> list[tuple[str, str]]:
    """(code, label) of the active tags, for a filter or a correction form."""
    choices = [(t.code, gettext(t.label)) for t in tag_specs()]
    if with_none:
        choices.append((NONE_TAG, gettext("Nothing the council deals with")))
    return choices
