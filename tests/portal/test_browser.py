"""Real pages in headless Chromium, each checked with the axe accessibility engine (WCAG 2.2 AA)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from townhall.cases.services import case_acknowledge, case_open

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the
# fixtures here are ordinary blocking calls all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# The flags a closed network needs: no background fetches, no first-run work.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        if os.environ.get("TOWNHALL_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (TOWNHALL_REQUIRE_BROWSER is set) but not installed")
        pytest.skip("Chromium not installed (apt-get install chromium); CI requires it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def assert_accessible(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.violations_count == 0, results.generate_report()


def test_home_page_is_accessible_and_lists_services(live_server: Any, page: Any, town: Any) -> None:
    page.goto(live_server.url + "/")
    assert page.title() == "Council services – Townhall"
    assert page.get_by_role("heading", name="Streets").is_visible()
    assert_accessible(page)


def test_a_resident_tracks_a_request_from_the_home_page(
    live_server: Any, page: Any, pothole: Any
) -> None:
    # given a request that was acknowledged
    case = case_open(
        service_type=pothole, channel="web", answers={"size": "large"}, description="Hole"
    )
    case_acknowledge(case_id=case.pk)
    # when the resident types the reference on the home page
    page.goto(live_server.url + "/")
    page.get_by_label("Your reference number").fill(case.reference)
    page.get_by_role("button", name="Track my request").click()
    # then the tracking page shows the status and the promised date
    page.wait_for_url("**/track/**")
    assert page.get_by_role("heading", level=1).inner_text() == f"Request {case.reference}"
    assert "Acknowledged" in page.locator(".summary").inner_text()
    assert "We expect to finish by" in page.content()
    assert_accessible(page)


def test_a_wrong_reference_shows_an_accessible_error(
    live_server: Any, page: Any, town: Any
) -> None:
    page.goto(live_server.url + "/track/")
    page.get_by_label("Your reference number").fill("TH-26-999999")
    page.get_by_role("button", name="Track my request").click()
    alert = page.get_by_role("alert")
    assert "There is a problem" in alert.inner_text()
    assert_accessible(page)


def test_the_skip_link_is_the_first_stop_for_keyboard_users(
    live_server: Any, page: Any, town: Any
) -> None:
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
