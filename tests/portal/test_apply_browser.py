"""Check -> Apply -> application -> send, in headless Chromium, each new page checked with
axe (WCAG 2.2 AA): Sarah signs in, finds she is likely to get the energy grant, applies
with her answers already filled in, forgets the quote (the error is announced), adds it,
and is taken to the fee."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.browser import assert_accessible
from tests.intake.applying import ELIGIBLE, PDF, council, grant
from townhall.cases.models import Case
from townhall.payments.models import Fee, FeeKind

__all__ = ["council", "grant"]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_check_apply_and_send_the_application(
    live_server: Any, page: Any, grant: Any, tmp_path: Any
) -> None:
    from townhall.portal.accounts import sign_in_token

    Fee.objects.create(
        name="File fee", service_type=grant.service_type, kind=FeeKind.FIXED, amount_minor=1500
    )
    page.goto(live_server.url + f"/account/sign-in/{sign_in_token('sarah@example.org')}/")
    page.get_by_role("button", name="Continue to your requests").click()
    page.wait_for_url("**/account/")

    page.goto(live_server.url + "/check/energy_subsidy/")
    page.get_by_label("How many people live in your household?").fill(ELIGIBLE["household_size"])
    page.locator("#id_lives_in_town_0").check()
    page.locator("#id_owner_occupier_0").check()
    page.get_by_label("What is your household's total yearly income before tax?").fill("45000")
    page.get_by_label("In what year was the home built?").fill("1975")
    page.get_by_label("Insulation").check()
    page.get_by_label("How much does the installer's quote come to?").fill("10000")
    page.get_by_role("button", name="Check").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are likely to be eligible"
    assert_accessible(page)

    page.get_by_role("button", name="Apply", exact=True).click()
    page.wait_for_url("**/apply/*/")
    assert "45000" not in page.url and "1975" not in page.url
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Apply: Home energy renovation grant"
    answers = page.locator(".th-answers").inner_text()
    assert "$45,000" in answers and "Insulation" in answers
    assert_accessible(page)

    page.get_by_role("button", name="Send the application").click()
    assert "Upload The installer's written quote." in page.get_by_role("alert").inner_text()
    assert page.title().startswith("Error:")
    assert_accessible(page)
    assert Case.objects.count() == 0

    quote = tmp_path / "quote.pdf"
    quote.write_bytes(PDF)
    page.get_by_label("The installer's written quote").set_input_files(str(quote))
    page.get_by_role("button", name="Send the application").click()
    page.wait_for_url("**/apply/*/done/")
    case = Case.objects.get()
    assert case.reference in page.locator(".th-reference").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Pay the fee").click()
    page.wait_for_url("**/pay/*/")
    assert "$15.00" in page.locator("main").inner_text()
