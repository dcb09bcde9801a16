"""Fixtures for photo recognition: real photos (tests/vision/photos, see CREDITS.md), the
backbone loaded once per test session, and a clean tag/head cache per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from townhall.vision.backbone import get_backbone
from townhall.vision.services import vision_cache_clear

PHOTOS = Path(__file__).parent / "photos"


def photo_bytes(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


@pytest.fixture(scope="session")
def backbone() -> Any:
    return get_backbone()


@pytest.fixture(autouse=True)
def _vision_cache(backbone: Any) -> Iterator[None]:
    vision_cache_clear()
    yield
    vision_cache_clear()


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)
