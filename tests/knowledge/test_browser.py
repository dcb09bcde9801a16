"""Help pages in headless Chromium, each checked with axe (WCAG 2.2 AA); modelled on
tests/portal/test_browser.py, with the same TOWNHALL_REQUIRE_BROWSER rule."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.browser import assert_accessible
from townhall.knowledge.models import ArticleFeedback
from townhall.knowledge.services import article_create

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the
# fixtures here are ordinary blocking calls all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
