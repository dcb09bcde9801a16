"""Residents' photos: only real images, never too big, located from EXIF, stored bare."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from PIL import Image

from townhall.cases.photos import InvalidPhoto, photo_clean


def jpeg(
    size: tuple[int, int] = (640, 480),
    *,
    gps: tuple[float, float] | None = None,
    orientation: int | None = None,
) -> bytes:
    image = Image.new("RGB", size, (200, 60, 40))
    image.paste((20, 120, 220), (0, 0, size[0] // 2, size[1] // 3))  # top-left patch
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0131] = "Camera app 1.0"  # Software
    if orientation:
        exif[0x0112] = orientation
    if gps is not None:
        lat, long = gps

        def dms(value: float) -> tuple[float, float, float]:
            value = abs(value)
            d = int(value)
            m = int((value - d) * 60)
            s = round(((value - d) * 60 - m) * 60, 4)
            return (float(d), float(m), s)

        exif[0x8825] = {
            1: "N" if lat >= 0 else "S",
            2: dms(lat),
            3: "E" if long >= 0 else "W",
            4: dms(long),
        }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at home, 12 Elm Street")
    return out.getvalue()


def png_header_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # One row of zeros compressed; far too little data for the size claimed.
    idat = zlib.compress(b"\x00" * (width * 3 + 1), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_a_photo_with_gps_exif_gives_its_location_and_keeps_no_metadata() -> None:
    raw = jpeg(gps=(42.361145, -71.057083))
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)  # the input does carry GPS

    photo = photo_clean(raw, filename="IMG_0001.jpg")

    assert photo.lat == pytest.approx(42.361145, abs=1e-5)
    assert photo.long == pytest.approx(-71.057083, abs=1e-5)
    stored = Image.open(io.BytesIO(photo.content))
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert "exif" not in stored.info and "comment" not in stored.info
    assert b"Exif" not in photo.content[:4096]
    assert b"12 Elm Street" not in photo.content
    assert b"PhoneMaker" not in photo.content
    assert photo.content_type == "image/jpeg"
    assert (photo.width, photo.height) == (640, 480)


def test_a_photo_without_gps_has_no_location() -> None:
    photo = photo_clean(jpeg(), filename="a.jpg")
    assert photo.lat is None and photo.long is None


def test_southern_and_western_references_give_negative_degrees() -> None:
    photo = photo_clean(jpeg(gps=(-33.8688, 151.2093)), filename="sydney.jpg")
    assert photo.lat == pytest.approx(-33.8688, abs=1e-4)
    assert photo.long == pytest.approx(151.2093, abs=1e-4)


def test_the_exif_orientation_is_applied_before_it_is_removed() -> None:
    # Orientation 6: the camera held sideways; the stored photo must be upright (portrait).
    photo = photo_clean(jpeg((640, 480), orientation=6), filename="sideways.jpg")
    assert (photo.width, photo.height) == (480, 640)


def test_a_document_renamed_jpg_is_refused() -> None:
    fake = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n" * 20
    with pytest.raises(InvalidPhoto) as caught:
        photo_clean(fake, filename="holiday.jpg")
    assert "holiday.jpg" in str(caught.value)
    assert caught.value.details == {"photos": [str(caught.value)]}


def test_a_truncated_jpeg_is_refused() -> None:
    raw = jpeg()
    with pytest.raises(InvalidPhoto, match=r"damaged|read"):
        photo_clean(raw[: len(raw) // 2], filename="cut.jpg")


def test_an_oversized_file_is_refused_before_decoding(settings: Any) -> None:
    settings.TOWNHALL_PHOTO_MAX_BYTES = 50_000
    big = jpeg((2000, 2000))
    noisy = Image.frombytes("RGB", (800, 800), bytes(range(256)) * 7500)
    out = io.BytesIO()
    noisy.save(out, "PNG")
    assert len(out.getvalue()) > 50_000 or len(big) > 50_000
    payload = out.getvalue() if len(out.getvalue()) > 50_000 else big
    with pytest.raises(InvalidPhoto, match="larger than"):
        photo_clean(payload, filename="huge.png")


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = png_header_bomb(50_000, 50_000)  # 2.5 gigapixels claimed in under 1 kB
    assert len(bomb) < 100_000
    with pytest.raises(InvalidPhoto, match="too many pixels"):
        photo_clean(bomb, filename="bomb.png")


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(InvalidPhoto, match="empty"):
        photo_clean(b"", filename="nothing.jpg")


def test_a_large_photo_is_shrunk_to_a_sensible_size() -> None:
    photo = photo_clean(jpeg((4000, 3000)), filename="big.jpg")
    assert max(photo.width, photo.height) == 2560


def test_a_png_with_transparency_stays_png() -> None:
    image = Image.new("RGBA", (100, 80), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    photo = photo_clean(out.getvalue(), filename="sticker.png")
    assert photo.content_type == "image/png"
    assert Image.open(io.BytesIO(photo.content)).mode == "RGBA"


def test_heic_is_read_when_pillow_heif_is_installed() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    image = Image.new("RGB", (320, 240), (10, 200, 30))
    heif = pillow_heif.from_pillow(image)
    out = io.BytesIO()
    heif.save(out, quality=80)
    photo = photo_clean(out.getvalue(), filename="IMG_1234.HEIC")
    assert photo.content_type == "image/jpeg"
    assert (photo.width, photo.height) == (320, 240)


def test_the_council_pixel_limit_applies_below_pillows_own(settings: Any) -> None:
    settings.TOWNHALL_PHOTO_MAX_PIXELS = 1_000_000
    with pytest.raises(InvalidPhoto, match=r"too many pixels \(2000 x 2000\)"):
        photo_clean(png_header_bomb(2000, 2000), filename="wide.png")
