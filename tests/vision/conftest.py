"""Fixtures for photo recognition: real photos (tests/vision/photos, see CREDITS.md), the
backbone loaded once per test session, and a clean tag/head cache per test."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps

from townhall.vision.backbone import get_backbone
from townhall.vision.models import VisionTag
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


@pytest.fixture(autouse=True)
def _default_tags(request: pytest.FixtureRequest) -> None:
    """The tag set migration 0002 seeds, back after a transactional test elsewhere on this
    worker flushed every table (tests run in parallel: make test)."""
    names = set(request.fixturenames)
    if not names & {"db", "transactional_db", "live_server"}:
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
    if not VisionTag.objects.exists():
        importlib.import_module("townhall.vision.migrations.0002_default_tags").seed(apps, None)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)
