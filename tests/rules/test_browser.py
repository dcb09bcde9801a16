"""The check and permit pages in headless Chromium, each checked with axe (WCAG 2.2 AA)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.browser import assert_accessible

# Playwright's sync API runs an event loop in this thread; ORM calls stay blocking calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_resident_checks_the_energy_grant_and_reads_why(live_server: Any, page: Any) -> None:
    page.goto(live_server.url + "/check/")
    assert_accessible(page)
    page.get_by_role("link", name="Home energy renovation grant").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Home energy renovation grant"
    assert_accessible(page)
    page.get_by_label("How many people live in your household?").fill("two")
    page.get_by_role("button", name="Check").click()
    assert "There is a problem" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.get_by_label("How many people live in your household?").fill("2")
    page.locator("#id_lives_in_town_0").check()
    page.locator("#id_owner_occupier_0").check()
    page.get_by_label("What is your household's total yearly income before tax?").fill("45000")
    page.get_by_label("In what year was the home built?").fill("1975")
    page.get_by_label("Insulation").check()
    page.get_by_label("How much does the installer's quote come to?").fill("10000")
    page.get_by_role("button", name="Check").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are likely to be eligible"
    assert "within the limit" in page.locator(".th-reasons").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Change your answers").first.click()
    page.get_by_label("In what year was the home built?").fill("2015")
    page.get_by_role("button", name="Check").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are not eligible"
    assert "yours: 2015" in page.locator(".th-reasons").inner_text()
    assert_accessible(page)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_permit_finder_works_step_by_step_in_both_languages(
    browser: Any, live_server: Any, language: str
) -> None:
    context = browser.new_context(locale=language, extra_http_headers={"Accept-Language": language})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/permits/")
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page)
        page.locator("button[type=submit].govuk-button").last.click()  # nothing chosen
        assert page.locator(".govuk-error-summary").count() == 1
        assert_accessible(page)
        page.locator("#choice_1").check()  # an extension
        page.locator("button[type=submit].govuk-button").last.click()
        page.locator("#choice_1").check()  # large
        page.locator("button[type=submit].govuk-button").last.click()
        assert_accessible(page)
        page.locator("#choice_0").check()  # in a conservation area
        page.locator("button[type=submit].govuk-button").last.click()
        heading = page.get_by_role("heading", level=1).inner_text()
        assert "3" in heading
        assert page.locator(".govuk-summary-list").count() == 4
        assert_accessible(page)
    finally:
        context.close()
