"""In a browser: the staff sign-in page (console design, accessible, its errors), and a
note on a closed case from the case page to the history."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import assert_accessible
from tests.console.conftest import PASSWORD
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.cases.services import case_acknowledge, case_open, case_transition

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_the_sign_in_page_is_accessible_and_says_what_went_wrong(
    live_server: Any, page: Any, staff: dict[str, Any]
) -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/console/")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in to the console"
    assert page.locator("link[href$='console/console.css']").count() == 1
    assert_accessible(page)
    page.fill("#id_username", "keisha")
    page.fill("#id_password", "not-the-password")
    page.click("input[type=submit]")
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary")
    assert "There is a problem" in summary.inner_text()
    assert "correct username and password" in summary.inner_text()
    assert page.locator("#id_username").input_value() == "keisha"
    assert page.locator("#id_password").input_value() == ""
    assert_accessible(page)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/console/")


def test_a_note_on_a_closed_case_from_the_case_page(
    live_server: Any, page: Any, staff: dict[str, Any], pothole: Any
) -> None:
    keisha = staff["caseworker"]
    case = case_open(
        service_type=pothole, channel="web", answers={"size": "small"}, description="Hole"
    )
    case_acknowledge(case_id=case.pk)
    for status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        case_transition(case=Case.objects.get(pk=case.pk), to=status, actor=keisha)
    path = f"/console/cases/{case.pk}/"
    page.goto(f"{live_server.url}/admin/login/?next={path}")
    page.fill("#id_username", "keisha")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + path)
    assert "Closed" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_label("Note or update").fill("Resident rang back: all good now.")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_url(live_server.url + path + "#actions")
    banner = " ".join(page.locator(".govuk-notification-banner").inner_text().split())
    assert "Internal note added." in banner
    latest = page.locator("ol.th-timeline > li").first.inner_text()
    assert "Internal note: Resident rang back: all good now." in " ".join(latest.split())
    assert_accessible(page)
    note = CaseEvent.objects.get(case=case, kind=CaseEventKind.NOTE)
    assert not note.public and note.actor_id == keisha.pk
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED
