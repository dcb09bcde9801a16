"""Help pages in headless Chromium, each checked with axe (WCAG 2.2 AA); modelled on
tests/portal/test_browser.py, with the same TOWNHALL_REQUIRE_BROWSER rule."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from townhall.knowledge.models import ArticleFeedback
from townhall.knowledge.services import article_create

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


def test_a_resident_searches_help_reads_an_article_and_says_it_helped(
    live_server: Any, page: Any, town: Any
) -> None:
    article_create(
        title="When is my bin collected?",
        summary="Collection days and what goes in each bin.",
        body="Bins are emptied **every other week**.\n\n- Green: garden waste\n- Blue: recycling",
        publish=True,
    )
    article_create(title="Library opening hours", body="9am to 8pm on weekdays.", publish=True)
    page.goto(live_server.url + "/help/")
    assert page.get_by_role("heading", level=1).inner_text() == "Help and advice"
    assert_accessible(page)
    page.get_by_label("Search help articles").fill("which day are the rubbish trucks coming")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/help/?q=*")
    assert_accessible(page)
    page.get_by_role("link", name="When is my bin collected?").click()
    page.wait_for_url("**/help/when-is-my-bin-collected/")
    assert page.locator("strong", has_text="every other week").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Send feedback").click()  # nothing chosen
    assert "There is a problem" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Send feedback").click()
    assert "Thank you for your feedback" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    assert ArticleFeedback.objects.get().helpful is True


def test_an_empty_search_shows_an_accessible_error(live_server: Any, page: Any, town: Any) -> None:
    page.goto(live_server.url + "/help/?q=")
    assert "Enter what you are looking for" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
