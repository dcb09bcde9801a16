"""The report map with no tile server: the streets layer is drawn, named and accessible."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.browser import assert_accessible
from townhall.places.models import Place

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_report_map_draws_the_gazetteers_streets(
    live_server: Any, page: Any, pothole: Any
) -> None:
    for n in range(1, 13):
        Place.objects.create(
            property_id=f"E{n}",
            address=f"{n} Elm Street",
            lat=42.36 + ((n + 1) // 2) * 0.0002 + (0.0001 if n % 2 else -0.0001),
            long=-71.09 + ((n + 1) // 2) * 0.0003,
            search_text=f"{n} elm street",
        )
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + "/report/pothole/")
    street = page.locator("#map .th-map-street")
    street.first.wait_for()
    assert street.count() == 1
    assert "council’s address list" in page.locator(".leaflet-control-attribution").inner_text()
    street.first.hover()
    assert page.locator(".leaflet-tooltip").inner_text() == "Elm Street"
    assert_accessible(page)
    # nothing was fetched from anywhere but this site
    assert requested and all(url.startswith(live_server.url) for url in requested)
