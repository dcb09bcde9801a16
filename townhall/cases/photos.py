"""Residents' photos: proved to be images, located from their GPS EXIF, stored bare.

Every photo is decoded in full (a renamed document or a truncated file fails here), its
pixel count checked before decoding (a decompression bomb is refused from its header),
turned upright from the EXIF orientation, shrunk to a sensible size and encoded again
from the pixels alone, so no EXIF, XMP, GPS or comment survives in what is stored.
JPEG, PNG, WebP and HEIC/HEIF (through pillow-heif) are read; JPEG or PNG is written.

Memory is bounded (docs/security/input.md): Pillow's own bomb limit is lowered to
TOWNHALL_PHOTO_MAX_PIXELS, a JPEG is decoded at a reduced scale (draft mode) close to the
size kept, the image is shrunk before it is turned upright and converted (no full-size
copies), and at most TOWNHALL_PHOTO_DECODES photos are decoded at once per process; the
others wait up to TOWNHALL_PHOTO_DECODE_WAIT_SECONDS, then are refused politely.
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from townhall.core.errors import ValidationFailed

try:  # HEIC straight from iPhones; without pillow-heif those are refused as unreadable.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF = True
except ImportError:  # pragma: no cover - pillow-heif is a dependency; kept optional
    HEIF = False

READABLE = {"JPEG", "PNG", "WEBP", "HEIF", "MPO"}
GPS_IFD = 0x8825
LONGEST_SIDE = 2560  # enough to see a pothole; keeps storage and pages small


class InvalidPhoto(ValidationFailed):
    """The upload is not a photo Townhall accepts; the message says why, for the resident."""


@dataclass(frozen=True)
class CleanPhoto:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    lat: float | None
    long: float | None
    sha256: str


def _decode(
    data: bytes, *, name: str, max_pixels: int
) -> tuple[Image.Image, tuple[float, float] | None]:
    """The photo's pixels, upright and at most LONGEST_SIDE, with nothing else; and its
    EXIF location."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in READABLE:
                raise _refuse(
                    _("%(name)s is not a JPEG, PNG, WebP or HEIC photo.") % {"name": name}
                )
            width, height = image.size
            if width * height > max_pixels:
                raise _refuse(
                    _("%(name)s has too many pixels (%(w)s x %(h)s).")
                    % {"name": name, "w": width, "h": height}
                )
            fmt = image.format
            location = gps_from_exif(image)
            if fmt in ("JPEG", "MPO"):
                # Decode at 1/2, 1/4 or 1/8 scale when that still covers the size kept: an
                # 8000 x 6000 photo never exists in memory at full size.
                image.draft("RGB", (LONGEST_SIDE, LONGEST_SIDE))
            image.load()  # the whole file is decoded: a truncated one fails here
            keep_alpha = fmt == "PNG" and "A" in image.getbands()
            # Shrink first, then turn and convert the small image.
            image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
            upright = ImageOps.exif_transpose(image)
            mode = "RGBA" if keep_alpha else "RGB"
            pixels = upright.convert(mode)
    except InvalidPhoto:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        size = _header_size(data)
        if size is not None:
            w, h = size
            message = _("%(name)s has too many pixels (%(w)s x %(h)s).")
            raise _refuse(message % {"name": name, "w": w, "h": h}) from None
        raise _refuse(_("%(name)s has too many pixels to be a photo.") % {"name": name}) from None
    except UnidentifiedImageError:
        raise _refuse(_("%(name)s is not a photo we can read.") % {"name": name}) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _refuse(
            _("%(name)s is damaged or not a photo we can read.") % {"name": name}
        ) from None
    # A new image from raw pixels carries nothing but pixels: no EXIF, XMP, ICC or text.
    return Image.frombytes(mode, pixels.size, pixels.tobytes()), location


def _header_size(data: bytes) -> tuple[int, int] | None:
    """The dimensions in the file's header, read by the format's parser alone (no pixels
    are decoded), to tell the resident why Pillow refused it; None if unreadable."""
    Image.init()
    prefix = data[:16]
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        try:
            if accept is not None and not accept(prefix):
                continue
            width, height = factory(io.BytesIO(data), "").size
        except Exception:  # noqa: S112 - any parser error: no dimensions to show
            continue
        return int(width), int(height)
    return None


def _refuse(message: str) -> InvalidPhoto:
    return InvalidPhoto(message, details={"photos": [message]})


def _degrees(value: Any, ref: Any) -> float | None:
    try:
        d, m, s = (float(part) for part in value)  # IFDRational, or plain numbers
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = d + m / 60 + s / 3600
    if not math.isfinite(result):
        return None
    if str(ref).strip().upper() in {"S", "W"}:
        result = -result
    return result


def gps_from_exif(image: Image.Image) -> tuple[float, float] | None:
    """Return (lat, long) from the image's GPS EXIF, or None if absent or out of range."""
    try:
        gps = image.getexif().get_ifd(GPS_IFD)
    except (AttributeError, KeyError, ValueError, TypeError, SyntaxError):
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat = _degrees(gps.get(2), gps.get(1, "N"))
    long = _degrees(gps.get(4), gps.get(3, "E"))
    if lat is None or long is None or not (-90 <= lat <= 90 and -180 <= long <= 180):
        return None
    if lat == 0 and long == 0:  # a camera without a fix writes zeros
        return None
    return round(lat, 7), round(long, 7)


_slots_lock = threading.Lock()
_slots: tuple[int, threading.BoundedSemaphore] | None = None


def _decode_slots() -> threading.BoundedSemaphore:
    """The per-process semaphore of concurrent decodes (rebuilt if the setting changes)."""
    global _slots
    size = max(1, int(settings.TOWNHALL_PHOTO_DECODES))
    with _slots_lock:
        if _slots is None or _slots[0] != size:
            _slots = (size, threading.BoundedSemaphore(size))
        return _slots[1]


@contextmanager
def photo_decode_slot() -> Iterator[None]:
    """Hold one of the process's decode slots; InvalidPhoto if none frees up in time."""
    slots = _decode_slots()
    if not slots.acquire(timeout=float(settings.TOWNHALL_PHOTO_DECODE_WAIT_SECONDS)):
        raise _refuse(_("We are busy checking other photos. Please try again in a minute."))
    try:
        yield
    finally:
        slots.release()


def photo_clean(data: bytes, *, filename: str = "") -> CleanPhoto:
    """Return the photo in `data` re-encoded without metadata, with its EXIF location.

    Raise InvalidPhoto if it is empty, over the size limit, not an image Townhall reads,
    larger in pixels than the limit, or damaged.
    """
    max_bytes: int = settings.TOWNHALL_PHOTO_MAX_BYTES
    max_pixels: int = settings.TOWNHALL_PHOTO_MAX_PIXELS
    name = filename or _("The file")
    if not data:
        raise _refuse(_("%(name)s is empty.") % {"name": name})
    if len(data) > max_bytes:
        raise _refuse(
            _("%(name)s is larger than %(mb)s MB.") % {"name": name, "mb": max_bytes // 2**20}
        )
    # Pillow's own limit (used by every decoder, embedded thumbnails and frames included)
    # follows ours: warning above it, error at twice it.
    Image.MAX_IMAGE_PIXELS = max_pixels
    with photo_decode_slot():
        bare, location = _decode(data, name=name, max_pixels=max_pixels)
    out = io.BytesIO()
    if bare.mode == "RGBA":
        bare.save(out, "PNG", optimize=True)
        content_type, extension = "image/png", "png"
    else:
        bare.save(out, "JPEG", quality=85, optimize=True)
        content_type, extension = "image/jpeg", "jpg"
    content = out.getvalue()
    lat, long = location if location else (None, None)
    return CleanPhoto(
        content=content,
        content_type=content_type,
        extension=extension,
        width=bare.width,
        height=bare.height,
        lat=lat,
        long=long,
        sha256=hashlib.sha256(content).hexdigest(),
    )
