"""The /bins/ pages in headless Chromium, each checked with axe (WCAG 2.2 AA)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.browser import assert_accessible

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the
# fixtures here are ordinary blocking calls all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_resident_finds_their_bin_days(live_server: Any, page: Any, town: Any, home: Any) -> None:
    page.goto(live_server.url + "/bins/")
    assert_accessible(page)
    page.get_by_role("button", name="Find my bin days").click()  # nothing typed
    assert "Enter your address or postcode" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.get_by_label("Your address or postcode").fill("100 queen st w")
    page.get_by_role("button", name="Find my bin days").click()
    assert_accessible(page)
    page.get_by_role("link", name="100 Queen Street West").click()
    page.wait_for_url(f"**/bins/{home.pk}/")
    assert "Bin days for" in page.get_by_role("heading", level=1).inner_text()
    assert page.locator("table.govuk-table").count() == 1
    assert_accessible(page)
    page.get_by_role("link", name="Printable calendar for the next 12 months").click()
    page.wait_for_url("**/print/")
    assert page.locator("table.govuk-table").count() == 12
    assert_accessible(page)


def test_the_bin_pages_work_without_javascript(
    browser: Any, live_server: Any, town: Any, home: Any
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(live_server.url + "/bins/")
        page.get_by_label("Your address or postcode").fill("100 queen street west")
        page.get_by_role("button", name="Find my bin days").click()
        page.get_by_role("link", name="100 Queen Street West").click()
        page.get_by_role("link", name="Next month").click()
        assert "month=" in page.url
        assert (
            page.get_by_role("link", name="Add bin days to your calendar app (iCal)").count() == 1
        )
    finally:
        context.close()
