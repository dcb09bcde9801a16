"""Issue 16's resident journeys in headless Chromium, each page checked with axe: the
missed bin refused at the address step (with and without JavaScript), the eligibility
checker's answers coming back, the owner's update and withdrawal, the bins calendar and
the 404 page at 375 px."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from tests.browser import assert_accessible

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CREWS_OUT = datetime(2024, 12, 18, 14, 0, tzinfo=UTC)  # organics day, before 18:00 Toronto
PHONE = {"width": 375, "height": 812}


def _overflow(page: Any) -> int:
    """How many pixels the page is wider than the window (0: nothing to scroll sideways)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


@pytest.mark.parametrize("javascript", [True, False])
def test_a_missed_bin_is_refused_as_soon_as_the_address_is_chosen(
    browser: Any, live_server: Any, bin_home: Any, javascript: bool
) -> None:
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    try:
        with time_machine.travel(CREWS_OUT, tick=True):
            page.goto(live_server.url + "/report/pothole/")
            page.get_by_label("Address or street").fill("100 Queen Street West")
            page.get_by_role("button", name="Find the address").click()
            heading = page.get_by_role("heading", level=1).inner_text()
            assert heading == "You cannot report this missed bin yet"
            refusal = page.locator("[data-refusal]").inner_text()
            assert "The crews collect until 18:00 today" in refusal
            assert "Wednesday 18 December 2024" in refusal
            assert page.get_by_label("Describe the problem").count() == 0  # nothing to type
            if javascript:  # axe needs JavaScript
                assert_accessible(page)
            page.get_by_role("link", name="See all bin days for this address").click()
            assert "Bin days for 100 Queen Street West" in page.title()
    finally:
        context.close()


def test_the_checker_keeps_the_answers_for_both_links(live_server: Any, page: Any) -> None:
    page.goto(live_server.url + "/check/energy_subsidy/")
    page.locator("#id_lives_in_town_0").check()
    page.get_by_label("How many people live in your household?").fill("3")
    page.get_by_label("What is your household's total yearly income before tax?").fill("41234")
    page.get_by_role("button", name="Check").click()
    assert page.get_by_role("heading", level=1).inner_text() == "We need more information"
    assert "41234" not in page.url
    page.get_by_role("link", name="Answer the remaining questions").click()
    assert page.url.endswith("/check/energy_subsidy/#id_owner_occupier_0")
    assert page.locator("#id_lives_in_town_0").is_checked()
    assert page.get_by_label("How many people live in your household?").input_value() == "3"
    income = page.get_by_label("What is your household's total yearly income before tax?")
    assert income.input_value() == "41234"
    assert_accessible(page)
    page.locator("#id_owner_occupier_0").check()
    page.get_by_label("In what year was the home built?").fill("1975")
    page.get_by_label("Insulation").check()
    page.get_by_label("How much does the installer's quote come to?").fill("10000")
    page.get_by_role("button", name="Check").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are likely to be eligible"
    page.get_by_role("link", name="Change your answers").first.click()
    assert page.locator("#id_owner_occupier_0").is_checked()
    assert page.get_by_label("Insulation").is_checked()
    assert page.get_by_label("In what year was the home built?").input_value() == "1975"
    assert income.input_value() == "41234"
    assert "41234" not in page.url
    assert_accessible(page)


def test_the_owner_adds_an_update_then_withdraws_the_report(
    live_server: Any, page: Any, pothole: Any
) -> None:
    from townhall.cases.lifecycle import CaseStatus
    from townhall.portal.accounts import sign_in_token
    from townhall.portal.services import Location, report_submit

    case = report_submit(
        service_type=pothole,
        location=Location(42.36, -71.09, "12 Elm Street", ""),
        description="Deep hole outside number 12",
        answers={"size": "large"},
        email="maria@example.com",
    )
    page.goto(live_server.url + f"/account/sign-in/{sign_in_token('maria@example.com')}/")
    page.get_by_role("button", name="Continue to your requests").click()
    page.wait_for_url("**/account/")
    page.get_by_role("link", name=case.reference).click()
    page.wait_for_url("**/requests/*/")
    assert_accessible(page)
    page.get_by_role("button", name="Send my update").click()  # nothing typed
    assert "Enter your update" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.get_by_label("Your update").fill("It is deeper after the rain")
    page.get_by_role("button", name="Send my update").click()
    assert "We have added your update" in page.get_by_role("alert").inner_text()
    page.get_by_label("Why are you withdrawing it? (optional)").fill("A neighbor filled it")
    page.get_by_role("button", name="Withdraw my request").click()
    assert "You have withdrawn request" in page.get_by_role("alert").inner_text()
    assert "Withdrawn by the resident." in page.locator(".th-timeline").inner_text()
    assert page.get_by_role("button", name="Withdraw my request").count() == 0
    assert_accessible(page)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def test_the_bins_calendar_fits_a_375_px_phone(
    browser: Any, live_server: Any, bin_home: Any
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(live_server.url + f"/bins/{bin_home.pk}/?month=2024-12")
        assert page.locator(".th-bins-month").count() == 1
        assert _overflow(page) == 0
        table = page.locator(".th-bins-month")
        assert table.evaluate("t => t.scrollWidth <= t.clientWidth + 1")
        assert table.evaluate("t => t.getBoundingClientRect().right <= window.innerWidth")
        assert_accessible(page)
        page.goto(live_server.url + f"/bins/{bin_home.pk}/print/")
        assert _overflow(page) == 0
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_404_page_is_accessible_and_fits_a_phone(
    browser: Any, live_server: Any, town: Any, language: str
) -> None:
    context = browser.new_context(
        viewport=PHONE, locale=language, extra_http_headers={"Accept-Language": language}
    )
    page = context.new_page()
    try:
        response = page.goto(live_server.url + "/no-such-page/")
        assert response is not None and response.status == 404
        expected = "Página no encontrada" if language == "es" else "Page not found"
        assert page.get_by_role("heading", level=1).inner_text() == expected
        assert _overflow(page) == 0
        assert_accessible(page)
        home = "Ir a la página de inicio" if language == "es" else "Go to the home page"
        page.get_by_role("link", name=home).click()
        page.wait_for_url(live_server.url + "/")
    finally:
        context.close()
