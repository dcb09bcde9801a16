"""The chat's survey buttons in headless Chromium against the real ASGI server: a resident
who comes back to the conversation where they filed a report is asked, presses a button,
and the survey is answered; axe checks the widget with the buttons showing."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.asgi_live import AsgiLiveServer, asgi_live_server  # noqa: F401 (fixture)
from tests.browser import assert_accessible
from tests.experience.conftest import resolved_for
from townhall.assistant.models import Conversation
from townhall.experience.models import Survey
from townhall.people.services import citizen_resolve

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("transport", ["websocket", "http"])
def test_the_resident_answers_with_a_button_in_the_chat(
    asgi_live_server: AsgiLiveServer,  # noqa: F811
    page: Any,
    pothole: Any,
    caseworker: Any,
    settings: Any,
    transport: str,
) -> None:
    settings.ROOT_URLCONF = "tests.assistant.urls_widget"
    reporter = citizen_resolve(name="Chatty", email="chatty@example.org")
    case = resolved_for(pothole, reporter, caseworker, channel="assistant")
    conv = Conversation.objects.create(key="survey-key-123456789", case=case, outcome="filed")
    base = asgi_live_server.url
    stored = json.dumps({"key": conv.key, "open": True})
    page.add_init_script(f"window.sessionStorage.setItem('townhall-chat:{base}', '{stored}')")
    if transport == "http":
        page.route("**/ws/assistant/**", lambda route: route.abort())
    page.goto(f"{base}/test/council-page")
    buttons = page.get_by_role("group", name="Suggested replies")
    buttons.get_by_role("button", name="4 – Satisfied").wait_for(timeout=20_000)
    assert case.reference in page.locator(".th-chat__log").inner_text()
    assert_accessible(page)
    buttons.get_by_role("button", name="4 – Satisfied").click()
    page.get_by_text("Thank you for your answer.").wait_for(timeout=20_000)
    survey = Survey.objects.get(case=case)
    assert (survey.csat, survey.answered_via) == (4, "assistant")
