"""The live-chat queue in headless Chromium, checked with axe (WCAG 2.2 AA): a chat handed
off by the assistant appears without a reload, an agent takes it, replies, and sees the
resident's next message arrive."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import assert_accessible
from tests.console.conftest import PASSWORD
from townhall.assistant import live, services_live
from townhall.assistant.models import Conversation, Turn

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(autouse=True)
def no_channel_layer(monkeypatch: Any) -> None:
    monkeypatch.setattr(live, "conversation_push", lambda key, event: None)
    monkeypatch.setattr(live, "queue_push", lambda event: None)


def test_an_agent_takes_a_handed_off_chat_and_answers(
    page: Any, live_server: Any, staff: Any, settings: Any
) -> None:
    settings.TOWNHALL_LIVE_CHAT_HOURS = "Mon-Sun 00:00-23:59"
    agent = staff["agent"]
    page.goto(f"{live_server.url}/admin/login/?next=/console/live-chat/")
    page.fill("#id_username", agent.get_username())
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/console/live-chat/")
    assert "Nobody is waiting." in page.locator("#live-queue").inner_text()
    assert_accessible(page)

    # The assistant hands a frustrated resident over: the queue shows it by itself.
    conversation = Conversation.objects.create(
        key="browser-test-secret-key-0123456789",
        frustration=0.91,
        state={"skill": "waste_schedule", "slots": {"address": {"label": "1 Main St"}}},
    )
    Turn.objects.create(
        conversation=conversation, role="resident", text="THIRD TIME asking, when is my bin day"
    )
    services_live.conversation_handoff(conversation=conversation, reason="frustrated")
    row = page.locator(f"#live-queue tr[data-conversation='{conversation.pk}']")
    row.wait_for()
    assert "THIRD TIME asking" in row.inner_text()
    assert "waste_schedule" in row.inner_text() and "1 Main St" in row.inner_text()
    assert_accessible(page)

    row.get_by_role("button", name=f"Take chat {conversation.pk}").click()
    page.wait_for_url(f"{live_server.url}/console/live-chat/{conversation.pk}/")
    assert "You have joined the chat." in page.locator(".govuk-notification-banner").inner_text()
    assert "Agent has joined the chat." in page.locator("#live-turns").inner_text()
    assert_accessible(page)

    page.get_by_label("Your reply").fill("Sorry about that. Your bins go out on Tuesday.")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"{live_server.url}/console/live-chat/{conversation.pk}/")
    assert "Your bins go out on Tuesday." in page.locator("#live-turns").inner_text()
    assert Turn.objects.filter(conversation=conversation, role="agent").count() == 1

    # The resident answers in the widget: it arrives on the agent's page by itself.
    turn = Turn.objects.create(conversation=conversation, role="resident", text="Thank you!")
    services_live.resident_message_relay(conversation=conversation, turn=turn)
    page.locator("#live-turns li", has_text="Thank you!").wait_for()
    assert "browser-test-secret-key" not in page.url
    assert_accessible(page)

    page.get_by_role("button", name="End the chat").click()
    page.wait_for_url(f"{live_server.url}/console/live-chat/")
    conversation.refresh_from_db()
    assert conversation.outcome == "handed_off"
