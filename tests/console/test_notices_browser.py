"""The console's notices in headless Chromium, checked with axe (WCAG 2.2 AA): the list, a
recall's page with its actions, codes imported from a file, an edit sent back with errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser import assert_accessible
from tests.console.conftest import PASSWORD
from tests.notices.conftest import recall, recalls, road_works_draft, roadworks
from townhall.notify.models import AlertTopic

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["recall", "recalls", "roadworks"]


def test_a_supervisor_lists_imports_codes_and_edits_a_draft(
    live_server: Any,
    page: Any,
    staff: dict[str, Any],
    recall: Any,
    roadworks: AlertTopic,
    tmp_path: Path,
) -> None:
    page.set_default_timeout(15_000)
    draft = road_works_draft(roadworks)
    page.goto(f"{live_server.url}/admin/login/?next=/console/notices/")
    page.fill("#id_username", staff["supervisor"].get_username())
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/console/notices/")
    assert page.get_by_role("heading", level=1).inner_text() == "Notices and recalls"
    assert page.locator("tbody tr").count() == 2
    assert_accessible(page)

    page.get_by_label("Kind").select_option("recall")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**kind=recall**")
    assert page.locator("tbody tr").count() == 1
    page.get_by_role("link", name="Peanut butter recall").click()
    page.wait_for_url(f"**/console/notices/{recall.pk}/")
    assert_accessible(page)

    codes = tmp_path / "codes.csv"
    codes.write_text("code\nZZ-1\nZZ-2\n", encoding="utf-8")
    page.get_by_label("CSV file of batch codes").set_input_files(str(codes))
    page.get_by_role("button", name="Import codes").click()
    page.wait_for_selector(".govuk-notification-banner")
    assert "2 added" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("#codes-count").inner_text() == "5"
    assert_accessible(page)

    page.goto(f"{live_server.url}/console/notices/{draft.pk}/")
    page.locator("#edit-form").get_by_label("Title", exact=True).fill("")
    page.get_by_role("button", name="Save the draft").click()
    page.wait_for_selector(".govuk-error-summary")
    assert_accessible(page)
