"""tag_image and propose_service on real photos and on bytes that are not photos."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from PIL import Image

from tests.vision.conftest import photo_bytes
from townhall.vision.models import VisionTag
from townhall.vision.services import propose_service, tag_image
from townhall.vision.types import TagGuess

CAT_CLASSES = [281, 282, 283, 284, 285]  # ImageNet's five domestic cats


@pytest.fixture
def cat_tag(db: None) -> VisionTag:
    return VisionTag.objects.create(
        code="cat",
        label="Cat",
        service_code="pothole",
        imagenet_classes=CAT_CLASSES,
        threshold=0.5,
        propose_threshold=0.7,
    )


def test_the_default_tag_set_is_seeded(db: None) -> None:
    codes = set(VisionTag.objects.values_list("code", flat=True))
    assert {"mattress", "fridge", "graffiti", "pothole", "fallen_tree", "vehicle"} <= codes
    assert VisionTag.objects.get(code="fridge").service_code == "illegal_dumping"


def test_a_real_photo_of_a_cat_gets_the_cat_tag(cat_tag: VisionTag) -> None:
    guesses = tag_image(photo_bytes("cat.jpg"))
    assert guesses[0].tag == "cat"
    assert guesses[0].confidence > 0.9
    assert guesses[0].label == "Cat"


def test_photos_of_things_no_tag_covers_get_no_tag(cat_tag: VisionTag) -> None:
    assert tag_image(photo_bytes("coffee.jpg")) == []
    assert tag_image(photo_bytes("rocket.jpg")) == []


def test_guesses_are_sorted_and_thresholded(cat_tag: VisionTag) -> None:
    VisionTag.objects.create(code="kitten", label="Kitten", imagenet_classes=[285], threshold=0.0)
    guesses = tag_image(photo_bytes("cat.jpg"))
    assert [g.confidence for g in guesses] == sorted((g.confidence for g in guesses), reverse=True)
    cat_tag.threshold = 1.0
    cat_tag.save()
    from townhall.vision.services import vision_cache_clear

    vision_cache_clear()
    assert "cat" not in {g.tag for g in tag_image(photo_bytes("cat.jpg"))}


def test_service_mapping_needs_an_active_service(cat_tag: VisionTag, pothole: Any) -> None:
    (guess,) = [g for g in tag_image(photo_bytes("cat.jpg")) if g.tag == "cat"]
    assert guess.service_code == "pothole"
    proposal = propose_service([guess])
    assert proposal is not None
    assert (proposal.service_code, proposal.service_name, proposal.tag) == (
        "pothole",
        "Pothole",
        "cat",
    )


def test_an_unmapped_or_inactive_service_gives_no_code(cat_tag: VisionTag) -> None:
    (guess,) = tag_image(photo_bytes("cat.jpg"))[:1]
    assert guess.service_code is None  # no catalogue loaded: pothole does not exist
    assert propose_service([guess]) is None


def test_no_proposal_below_the_proposal_threshold(cat_tag: VisionTag, pothole: Any) -> None:
    weak = TagGuess(tag="cat", label="Cat", confidence=0.55, service_code="pothole")
    assert propose_service([weak]) is None
    assert propose_service([]) is None


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        b"%PDF-1.4\n" + b"0" * 5000,
        photo_bytes("cat.jpg")[:2000],  # truncated JPEG
        _png_header(60_000, 60_000),  # claims 3.6 gigapixels
        b"\xff\xd8\xff" + b"\x00" * 100,
    ],
    ids=["empty", "text", "pdf", "truncated", "bomb", "jpeg-magic-only"],
)
def test_bytes_that_are_not_a_photo_give_no_tags(cat_tag: VisionTag, data: bytes) -> None:
    assert tag_image(data) == []


def test_tiny_grey_and_odd_mode_images_do_not_crash(cat_tag: VisionTag) -> None:
    for mode, size in [("L", (300, 200)), ("RGBA", (50, 900)), ("P", (224, 224)), ("1", (64, 64))]:
        out = io.BytesIO()
        Image.new(mode, size).save(out, "PNG")
        assert isinstance(tag_image(out.getvalue()), list)
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "PNG")
    assert tag_image(out.getvalue()) == []


def test_threads_share_one_model_and_agree(cat_tag: VisionTag) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from townhall.vision.backbone import get_backbone

    data = photo_bytes("cat.jpg")
    expected = tag_image(data)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: (get_backbone(), tag_image(data)), range(8)))
    assert {id(b) for b, _ in results} == {id(get_backbone())}
    assert all(guesses == expected for _, guesses in results)


def test_an_inactive_service_is_not_proposed(cat_tag: VisionTag, pothole: Any) -> None:
    pothole.active = False
    pothole.save(update_fields=["active"])
    (guess,) = tag_image(photo_bytes("cat.jpg"))[:1]
    assert guess.tag == "cat" and guess.service_code is None
    assert propose_service([guess]) is None
