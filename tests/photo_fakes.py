"""Issue 20's faces in tests: recognition answers chosen by the test, and a second service.

`photo_vision` replaces what `townhall.vision.services` answers (tag_image, propose_service)
and `townhall.vision.selectors` (case_tags, case_ids_with_tag, tag_choices) for one test, so
the faces' tests say exactly what the photo "looks like". Recognition itself is tested by
the vision app's own tests; this is no model, only canned answers.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from townhall.vision.types import ServiceProposal, TagGuess

MATTRESS = TagGuess(tag="mattress", label="Mattress", confidence=0.83, service_code="fly_tipping")


def _module(name: str) -> types.ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError:  # the vision app's API has not landed in this branch yet
        module = types.ModuleType(name)
        sys.modules[name] = module
        return module


@dataclass
class FakeVision:
    tags: list[TagGuess] = field(default_factory=lambda: [MATTRESS])
    stored: dict[int, list[TagGuess]] = field(default_factory=dict)  # case id -> its tags
    tagged: int = 0  # how many images were tagged

    def tag_image(self, data: bytes) -> list[TagGuess]:
        assert isinstance(data, bytes) and data
        self.tagged += 1
        return list(self.tags)

    def propose_service(self, guesses: list[TagGuess]) -> ServiceProposal | None:
        best = max((g for g in guesses if g.service_code), key=lambda g: g.confidence, default=None)
        if best is None or best.service_code is None:
            return None
        name = best.service_code.replace("_", " ").capitalize()
        return ServiceProposal(best.service_code, name, best.tag, best.label, best.confidence)

    def case_tags(self, case: Any) -> list[TagGuess]:
        return list(self.stored.get(case.pk, []))

    def case_ids_with_tag(self, tag: str) -> list[int]:
        return [pk for pk, tags in self.stored.items() if any(t.tag == tag for t in tags)]

    def tag_choices(self) -> list[tuple[str, str]]:
        return [("mattress", "Mattress"), ("pothole", "Pothole"), ("graffiti", "Graffiti")]


@pytest.fixture
def photo_vision(monkeypatch: pytest.MonkeyPatch) -> FakeVision:
    fake = FakeVision()
    services = _module("townhall.vision.services")
    selectors = _module("townhall.vision.selectors")
    for name in ("tag_image", "propose_service"):
        monkeypatch.setattr(services, name, getattr(fake, name), raising=False)
    for name in ("case_tags", "case_ids_with_tag", "tag_choices"):
        monkeypatch.setattr(selectors, name, getattr(fake, name), raising=False)
    return fake


@pytest.fixture
def fly_tipping(town: Any, pothole: Any) -> Any:
    """A second active service of the test town, with no questions of its own."""
    from townhall.catalog.models import ServiceType
    from townhall.catalog.selectors import catalog_cache_clear

    service = ServiceType.objects.create(
        jurisdiction=town,
        code="fly_tipping",
        name="Fly-tipping",
        group=pothole.group,
        department=pothole.department,
    )
    catalog_cache_clear()
    return service


CAT_CLASSES = [281, 282, 283, 284, 285]  # ImageNet's five domestic cats


@pytest.fixture
def real_cat_tag(fly_tipping: Any) -> Iterator[Any]:
    """The real recognition (vision's backbone) with one tag it knows without training,
    "cat", mapped to the test town's fly-tipping service; a real cat photo finds it."""
    from townhall.vision.models import VisionTag
    from townhall.vision.services import vision_cache_clear

    vision_cache_clear()
    tag = VisionTag.objects.create(
        code="cat",
        label="Cat",
        service_code="fly_tipping",
        imagenet_classes=CAT_CLASSES,
        threshold=0.5,
        propose_threshold=0.7,
    )
    yield tag
    vision_cache_clear()


def cat_jpeg() -> bytes:
    from tests.vision.conftest import photo_bytes

    return photo_bytes("cat.jpg")
