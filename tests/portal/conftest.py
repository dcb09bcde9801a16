"""Fixtures shared by the portal's tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.waste.conftest import home, toronto
from townhall.places.models import Place

__all__ = ["bin_home", "home", "toronto"]


@pytest.fixture
def bin_home(town: Any, home: Place, settings: Any) -> Place:
    """An address in a Toronto waste zone (organics on Wednesdays); the test town's pothole
    service stands in for a missed organics bin service."""
    settings.TOWNHALL_MISSED_COLLECTION_SERVICES = {"pothole": "organics"}
    return home
