"""Photos checked and held until the report that uses them is sent.

Two faces stage photos: the portal's report form (kept between a form with mistakes and its
corrected resubmission) and the assistant's chat widget (uploaded before the message that
refers to them; `POST /api/assistant/photos`). It lives in intake, below both faces.

A resident who adds three photos and forgets a required answer should not have to find them
again. When the form comes back with errors, the photos that passed their checks (already
re-encoded, EXIF gone) are written to ``staging/`` in the media storage under a random name,
and the form carries a signed token per photo. Only a holder of the token can see or use a
staged photo; tokens expire after ``TOWNHALL_STAGED_PHOTO_HOURS`` and `staged_photos_purge`
(a periodic task) deletes what was never sent. Sending the report removes its staged files.

Quotas (docs/security/input.md): a visitor's session keeps at most
TOWNHALL_STAGED_PHOTOS_PER_SESSION staged photos (the oldest make room), and the folder at
most TOWNHALL_STAGED_PHOTOS_MAX in all (expired ones are purged first; if it is still full
the photo is not kept and the resident chooses it again), so nobody can fill the disk by
sending forms with mistakes.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from townhall.cases.photos import CleanPhoto
from townhall.intake.retention import STAGED_FOLDER

log = logging.getLogger(__name__)

SALT = "townhall.portal.staged-photo"  # unchanged since the move: tokens stay valid
FOLDER = STAGED_FOLDER  # the retention purge (intake.retention) also clears it


class StagedPhotoGone(Exception):
    """The token is forged, expired, or its file was already used or purged."""


def _max_age() -> int:
    return int(settings.TOWNHALL_STAGED_PHOTO_HOURS * 3600)


class StagingFull(StagedPhotoGone):
    """The staging folder is at its overall quota: the photo is not kept."""


def owner_key(session_key: str) -> str:
    """The prefix of a session's staged files: not the session key itself."""
    digest = hashlib.blake2b(
        session_key.encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=6
    )
    return digest.hexdigest()


def _staged_files() -> list[str]:
    try:
        _dirs, files = default_storage.listdir(FOLDER)
    except FileNotFoundError:
        return []
    return list(files)


def _make_room(owner: str) -> None:
    files = _staged_files()
    mine = [f for f in files if owner and f.startswith(f"{owner}-")]
    keep = max(0, int(settings.TOWNHALL_STAGED_PHOTOS_PER_SESSION) - 1)
    if len(mine) > keep:
        by_age = sorted(mine, key=lambda f: default_storage.get_modified_time(f"{FOLDER}/{f}"))
        for file in by_age[: len(mine) - keep]:
            default_storage.delete(f"{FOLDER}/{file}")
            files.remove(file)
    if len(files) >= settings.TOWNHALL_STAGED_PHOTOS_MAX:
        staged_photos_purge()
        if len(_staged_files()) >= settings.TOWNHALL_STAGED_PHOTOS_MAX:
            log.warning("staged photos at their quota: a photo was not kept")
            raise StagingFull("staging full")


def photo_stage(photo: CleanPhoto, *, filename: str = "", owner: str = "") -> str:
    """Keep a checked photo for a while; return the token that gives it back.

    `owner` (from `owner_key`) counts it against its session's quota. Raise StagingFull
    if the folder is at its overall quota even after purging what expired."""
    _make_room(owner)
    prefix = f"{owner}-" if owner else ""
    name = default_storage.save(
        f"{FOLDER}/{prefix}{uuid.uuid4().hex}.{photo.extension}", ContentFile(photo.content)
    )
    return signing.dumps(
        {
            "f": name,
            "t": photo.content_type,
            "e": photo.extension,
            "w": photo.width,
            "h": photo.height,
            "lat": photo.lat,
            "long": photo.long,
            "s": photo.sha256,
            "n": filename[:100],
        },
        salt=SALT,
        compress=True,
    )


def _payload(token: str) -> dict[str, object]:
    try:
        payload = signing.loads(token, salt=SALT, max_age=_max_age())
    except signing.BadSignature:  # also SignatureExpired
        raise StagedPhotoGone(token) from None
    if not isinstance(payload, dict):
        raise StagedPhotoGone(token)
    name = payload.get("f")
    if not isinstance(name, str) or not name.startswith(f"{FOLDER}/") or ".." in name:
        raise StagedPhotoGone(token)
    return dict(payload)


def staged_photo_name(token: str) -> str:
    """The file name the resident chose, for the 'photos you added' list."""
    return str(_payload(token).get("n") or "")


def staged_photo_file(token: str) -> tuple[str, str]:
    """(storage name, content type) of a staged photo; StagedPhotoGone if unusable."""
    payload = _payload(token)
    name = str(payload["f"])
    if not default_storage.exists(name):
        raise StagedPhotoGone(token)
    return name, str(payload["t"])


def photo_unstage(token: str) -> CleanPhoto:
    """The staged photo as it was checked; StagedPhotoGone if the token is no good."""
    payload = _payload(token)
    name = str(payload["f"])
    try:
        with default_storage.open(name, "rb") as handle:
            content = handle.read()
    except OSError:
        raise StagedPhotoGone(token) from None

    def number(key: str) -> float | None:
        value = payload.get(key)
        return float(value) if isinstance(value, int | float) else None

    return CleanPhoto(
        content=content,
        content_type=str(payload["t"]),
        extension=str(payload["e"]),
        width=int(str(payload["w"])),
        height=int(str(payload["h"])),
        lat=number("lat"),
        long=number("long"),
        sha256=str(payload["s"]),
    )


def staged_photos_discard(tokens: list[str]) -> None:
    """Delete the files behind `tokens` (after the report that used them is saved)."""
    for token in tokens:
        try:
            default_storage.delete(str(_payload(token)["f"]))
        except (StagedPhotoGone, OSError):
            continue


def staged_photos_purge(*, now: datetime | None = None) -> int:
    """Delete staged photos older than their tokens can live; return how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=_max_age())
    removed = 0
    for file in _staged_files():
        name = f"{FOLDER}/{file}"
        try:
            if default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
                removed += 1
        except OSError:
            log.warning("could not purge staged photo %s", name)
    return removed
