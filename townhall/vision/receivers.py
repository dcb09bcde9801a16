"""Tag every new case photo in the background: one task per photo, after the commit.

Connected in VisionConfig.ready to cases' `photos_added` (sent by case_photos_add, the one
place CasePhoto rows are created: portal, e-mail, chat and staff uploads all go through it).
A case without photos never sends it, so it costs nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from townhall.core.tasks import enqueue_with_transaction


def photos_added_tag(sender: Any, photos: list[Any], **kwargs: Any) -> None:
    if not getattr(settings, "VISION_TAG_NEW_PHOTOS", True):
        return
    from townhall.vision.tasks import tag_case_photo

    for photo in photos:
        if photo.pk is not None:
            enqueue_with_transaction(tag_case_photo, int(photo.pk))
