"""The public reports page in headless Chromium, checked with axe (WCAG 2.2 AA)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.browser import assert_accessible
from tests.insights.dash_data import fact
from townhall.cases.services import case_open

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_resident_filters_the_reports_and_opens_one(
    live_server: Any, page: Any, pothole: Any
) -> None:
    page.set_default_timeout(15_000)
    cases = []
    for n, ward in enumerate(["Ward 1", "Ward 2"]):
        case = case_open(
            service_type=pothole,
            channel="web",
            answers={"size": "small"},
            description=f"Hole number {n}",
            lat=42.36 + n * 0.001,
            long=-71.09,
        )
        fact(pothole, source="live", case=case, system="", external_id="", area=ward)
        cases.append(case)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Reports in your area").click()
    page.wait_for_url("**/reports/")
    page.wait_for_selector("#reports-map .leaflet-interactive")
    assert_accessible(page)

    page.get_by_label("Area").select_option("Ward 2")
    page.get_by_role("button", name="Show reports").click()
    page.wait_for_url("**area=Ward+2**")
    assert page.locator(".th-report").count() == 1
    assert_accessible(page)

    page.get_by_role("link", name=f"Pothole · {cases[1].reference}").click()
    page.wait_for_url("**/track/**")
    assert cases[1].reference in page.get_by_role("heading", level=1).inner_text()
