"""What staff and residents add to a case's record: notes and public updates, photos, time
spent. None of them moves the case in its lifecycle or touches its SLA clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from townhall.cases.errors import InvalidCaseInput
from townhall.cases.models import Case, CaseEvent, CaseEventKind, CasePhoto, TimeEntry, photo_path
from townhall.cases.photos import CleanPhoto
from townhall.cases.services.chain import Actor, case_change
from townhall.cases.signals import photos_added
from townhall.core import clock
from townhall.people.models import Channel

if TYPE_CHECKING:
    from townhall.core.users import StaffUser


def case_note_add(
    *,
    case: Case,
    text: str,
    actor: Actor,
    public: bool = False,
    channel: str = Channel.STAFF,
    now: datetime | None = None,
) -> CaseEvent:
    """Add an internal note, or with `public=True` an update the resident sees.

    Any case takes notes, whatever its status, resolved, closed or merged ones included:
    a note records what was done or said, it does not reopen the case nor touch its SLA
    clock. Raise InvalidCaseInput if the text is empty.
    """
    if not text.strip():
        raise InvalidCaseInput(
            _("A note needs some text."), details={"text": [_("Write something.")]}
        )
    at = now or clock.now()
    with case_change(case.pk, at=at, actor=actor, channel=channel) as change:
        return change.append(
            CaseEventKind.PUBLIC_UPDATE if public else CaseEventKind.NOTE,
            {"text": text.strip()},
            public=public,
        )


def case_photos_add(
    *,
    case: Case,
    photos: Sequence[CleanPhoto],
    actor: Actor = None,
    channel: str = Channel.WEB,
    now: datetime | None = None,
) -> list[CasePhoto]:
    """Store cleaned photos (see cases.photos) on `case` with one public PHOTO_ADDED event.

    The files are written before the rows; if the rows cannot be written the files are
    removed again, so a failure leaves neither orphans nor half a case.
    """
    if not photos:
        return []
    at = now or clock.now()
    names: list[str] = []
    try:
        for photo in photos:
            names.append(
                default_storage.save(
                    photo_path(None, f"photo.{photo.extension}"), ContentFile(photo.content)
                )
            )
        with case_change(case.pk, at=at, actor=actor, channel=channel) as change:
            rows = CasePhoto.objects.bulk_create(
                CasePhoto(
                    case=change.case,
                    file=name,
                    content_type=photo.content_type,
                    width=photo.width,
                    height=photo.height,
                    size=len(photo.content),
                    sha256=photo.sha256,
                    lat=photo.lat,
                    long=photo.long,
                    created_at=at,
                )
                for name, photo in zip(names, photos, strict=True)
            )
            change.append(
                CaseEventKind.PHOTO_ADDED,
                {"count": len(rows), "sha256": [p.sha256 for p in photos]},
                public=True,
            )
            photos_added.send(sender=CasePhoto, photos=rows)
    except BaseException:
        for name in names:
            default_storage.delete(name)
        raise
    return rows


def case_time_log(
    *, case: Case, user: StaffUser, minutes: int, note: str = "", now: datetime | None = None
) -> TimeEntry:
    """Record `minutes` of `user`'s time on `case` (1 minute to 24 hours per entry)."""
    if not 1 <= minutes <= 24 * 60:
        raise InvalidCaseInput(
            _("The time could not be recorded."),
            details={"minutes": [_("Enter between 1 and 1440 minutes.")]},
        )
    at = now or clock.now()
    return TimeEntry.objects.create(
        case=case,
        user=user,
        minutes=minutes,
        worked_on=timezone.localdate(at),
        note=note.strip()[:200],
        created_at=at,
    )
