"""The dashboard in headless Chromium, checked with axe (WCAG 2.2 AA): the figures, the chart
with its table, the hot-spot map drawn from this site, filters and a drill-down."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest

from tests.browser import assert_accessible
from tests.console.conftest import PASSWORD
from tests.insights.dash_data import NOW, fact

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_reads_the_dashboard_filters_and_drills_down(
    live_server: Any, page: Any, staff: dict[str, Any], pothole: Any
) -> None:
    page.set_default_timeout(15_000)
    for n in range(5):
        fact(
            pothole,
            opened_at=NOW - dt.timedelta(days=n),
            lat=42.36 + n * 0.0001,
            long=-71.09,
            area="Ward 1" if n % 2 else "Ward 2",
            status="resolved" if n < 2 else "new",
            resolved_at=NOW if n < 2 else None,
        )
    page.goto(f"{live_server.url}/admin/login/?next=/console/insights/")
    page.fill("#id_username", staff["supervisor"].get_username())
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/console/insights/")
    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"
    assert page.locator(".th-tile__value").first.inner_text() == "5"
    assert page.get_by_role("img", name="Requests per day").count() == 1
    page.wait_for_selector("#hotspot-map .leaflet-interactive")  # Leaflet, from this site
    assert_accessible(page)

    page.get_by_label("Area").select_option("Ward 1")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**area=Ward+1**")
    assert page.locator(".th-tile__value").first.inner_text() == "2"
    assert_accessible(page)

    page.locator(".th-tile__link").first.click()
    page.wait_for_url("**/console/insights/cases/**")
    assert "area=Ward+1" in page.url
    assert page.locator("tbody tr").count() == 2
    assert_accessible(page)

    page.goto(live_server.url + "/console/insights/staff/")
    assert page.get_by_role("heading", level=1).inner_text() == "Staff performance"
    assert_accessible(page)


def test_the_forecast_page_is_accessible(
    live_server: Any, page: Any, staff: dict[str, Any], pothole: Any
) -> None:
    page.set_default_timeout(15_000)
    for n in range(40):
        fact(pothole, opened_at=NOW - dt.timedelta(days=n + 1), status="closed")
    path = f"/console/insights/forecast/?service={pothole.pk}"
    page.goto(f"{live_server.url}/admin/login/?next={path.replace('?', '%3F').replace('=', '%3D')}")
    page.fill("#id_username", staff["caseworker"].get_username())
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/console/insights/forecast/**")
    assert page.get_by_role("img", name="Requests expected per day").count() == 1
    assert_accessible(page)
