"""Signing up for bin reminders in headless Chromium, each page checked with axe."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from django.core import mail

from tests.browser import assert_accessible
from townhall.notify.services import notification_send_due

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_resident_signs_up_for_reminders_from_the_bins_page(
    live_server: Any, page: Any, home: Any
) -> None:
    page.goto(f"{live_server.url}/bins/{home.pk}/")
    page.get_by_role("link", name="Get a reminder the evening before").click()
    page.wait_for_url(f"**/bins/{home.pk}/reminders/")
    assert page.get_by_role("heading", level=1).inner_text() == "Bin day reminders"
    assert_accessible(page)
    page.get_by_role("button", name="Email me a link to confirm").click()  # nothing typed
    assert "Enter your email address." in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.get_by_label("Email address").fill("res@example.org")
    page.get_by_role("button", name="Email me a link to confirm").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your email"
    assert "res@example.org" not in page.url
    assert_accessible(page)
    notification_send_due()
    link = re.search(r"https?://[^/\s]+(/subscriptions/confirm/\S+/)", mail.outbox[-1].body)
    assert link is not None
    page.goto(live_server.url + link.group(1))
    assert_accessible(page)
    page.get_by_role("button", name="Confirm and sign up").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are signed up"
    assert_accessible(page)
