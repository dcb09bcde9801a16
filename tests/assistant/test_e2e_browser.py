"""End to end in headless Chromium: the chat widget against the REAL assistant (dialogue
engine, MiniLM understanding, skills) served by uvicorn in-process, and a member of staff
answering live from the console in a second browser.

Nothing is stood in: `message_receive`, the understanding and the live-chat services run
as in production; the channel layer is the in-memory one of the test settings, shared by
the resident's socket and the console's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.asgi_live import AsgiLiveServer, asgi_live_server  # noqa: F401 (fixture)
from tests.browser import assert_accessible
from tests.console.conftest import (  # noqa: F401 (fixtures)
    PASSWORD,
    dpw,
    isd,
    quick_passwords,
    staff,
)
from townhall.assistant.models import Conversation, Turn

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WAIT = 30_000  # ms: the first answer loads MiniLM


@pytest.fixture
def site(asgi_live_server: AsgiLiveServer, town: Any, settings: Any) -> str:  # noqa: F811
    settings.TOWNHALL_PUBLIC_URL = asgi_live_server.url
    return asgi_live_server.url


@pytest.fixture
def resident(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(WAIT)
    yield page
    context.close()


def open_chat(page: Any, url: str) -> Any:
    page.goto(url + "/")
    page.get_by_role("button", name="Ask a question").click()
    page.get_by_role("dialog", name="Ask the council").wait_for()
    return page.get_by_label("Your message")


def send(page: Any, text: str) -> None:
    """Type `text`, press Enter and wait for the assistant to finish answering."""
    before = page.locator(".th-chat__msg--bot, .th-chat__msg--system").count()
    field = page.get_by_label("Your message")
    field.fill(text)
    field.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.th-chat__msg--bot, .th-chat__msg--system').length > n"
        " && document.querySelector('.th-chat__log').getAttribute('aria-busy') !== 'true'",
        arg=before,
        timeout=WAIT,
    )


def last_bot(page: Any) -> str:
    return str(page.locator(".th-chat__msg--bot").last.inner_text())


def test_bin_day_at_an_address_with_the_calendar_link_and_a_quick_reply(
    site: str, resident: Any, home: Any
) -> None:
    page = resident
    open_chat(page, site)
    send(page, "when is my bin day?")
    assert "What is your address?" in last_bot(page)
    send(page, "100 Queen Street West")
    answer = last_bot(page)
    assert "Next collections at 100 Queen Street West:" in answer
    assert answer.count("•") == 4  # one line per upcoming collection
    calendar = page.locator(f".th-chat__msg--bot a[href$='/bins/{home.pk}/calendar.ics']").last
    assert calendar.is_visible()
    assert calendar.get_attribute("href") == f"{site}/bins/{home.pk}/calendar.ics"
    assert page.request.get(calendar.get_attribute("href")).ok  # the link works
    conversation = Conversation.objects.get()
    assert conversation.outcome == "contained"

    # A greeting offers what the assistant does as buttons; pressing one is like typing it.
    send(page, "hello")
    button = page.get_by_role("button", name="Bin days")
    residents_before = Turn.objects.filter(role="resident").count()
    bots_before = page.locator(".th-chat__msg--bot").count()
    button.click()
    page.wait_for_function(
        "n => document.querySelectorAll('.th-chat__msg--bot').length > n", arg=bots_before
    )
    assert Turn.objects.filter(role="resident").count() == residents_before + 1
    assert page.locator(".th-chat__msg--resident").last.inner_text().endswith("Bin days")
    assert page.get_by_role("button", name="Bin days").count() == 0  # answered ones retired
    assert "What is your address?" in last_bot(page) or "Next collections" in last_bot(page)
    assert_accessible(page)


def test_a_resident_asks_for_a_person_and_an_agent_answers_live_from_the_console(
    site: str,
    resident: Any,
    browser: Any,
    staff: Any,  # noqa: F811
    settings: Any,
) -> None:
    settings.TOWNHALL_LIVE_CHAT_HOURS = "Mon-Sun 00:00-23:59"
    page = resident
    open_chat(page, site)
    send(page, "I want to talk to a person")
    conversation = Conversation.objects.get()
    assert conversation.status == "queued" and conversation.handoff_reason == "asked"
    assert "A person will join this chat shortly." in page.locator(".th-chat__log").inner_text()

    # A second browser: a member of staff signs in and opens the queue.
    console = browser.new_context()
    agent_page = console.new_page()
    agent_page.set_default_timeout(WAIT)
    try:
        agent_page.goto(f"{site}/admin/login/?next=/console/live-chat/")
        agent_page.fill("#id_username", staff["agent"].get_username())
        agent_page.fill("#id_password", PASSWORD)
        agent_page.click("input[type=submit]")
        agent_page.wait_for_url(site + "/console/live-chat/")
        row = agent_page.locator(f"#live-queue tr[data-conversation='{conversation.pk}']")
        row.wait_for()
        assert "I want to talk to a person" in row.inner_text()
        assert conversation.key not in agent_page.content()  # the resident's secret

        # While queued the assistant is silent: the resident's words reach the agent only.
        bots = page.locator(".th-chat__msg--bot").count()
        page.get_by_label("Your message").fill("Hello? My bins were missed")
        page.get_by_label("Your message").press("Enter")
        row.get_by_text("Hello? My bins were missed").wait_for()

        row.get_by_role("button", name=f"Take chat {conversation.pk}").click()
        agent_page.wait_for_url(f"{site}/console/live-chat/{conversation.pk}/")
        page.get_by_text("Agent has joined the chat.").wait_for()  # live, no reload
        assert page.get_by_text("A member of staff has joined").count() == 0  # said once

        agent_page.get_by_label("Your reply").fill("Hello, I am from the council. Which street?")
        agent_page.get_by_role("button", name="Send").click()
        reply = page.locator(".th-chat__msg--agent")
        reply.wait_for()
        assert "Hello, I am from the council. Which street?" in reply.inner_text()

        # The resident answers: it arrives on the agent's page by itself; the bot says nothing.
        page.get_by_label("Your message").fill("Elm Street, thank you")
        page.get_by_label("Your message").press("Enter")
        agent_page.locator("#live-turns li", has_text="Elm Street, thank you").wait_for()
        page.wait_for_timeout(500)  # time enough for a wrong bot answer to arrive
        assert page.locator(".th-chat__msg--bot").count() == bots
        assert Turn.objects.filter(conversation=conversation, role="bot").count() == bots
        assert_accessible(page)

        agent_page.get_by_role("button", name="End the chat").click()
        agent_page.wait_for_url(f"{site}/console/live-chat/")
        page.get_by_text("The chat has ended. Thank you.").wait_for()
        conversation.refresh_from_db()
        assert (conversation.status, conversation.outcome) == ("closed", "handed_off")
    finally:
        console.close()


def test_keyboard_only_with_the_real_engine_and_no_axe_violations(
    site: str, resident: Any, help_articles: Any
) -> None:
    page = resident
    page.goto(site + "/")
    page.keyboard.press("Shift+Tab")  # from the top, backwards: the launcher is the last stop
    assert page.evaluate("document.activeElement.textContent") == "Ask a question"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "th-chat-input"
    page.keyboard.type("How do I pay my council tax?")
    page.keyboard.press("Enter")
    page.locator(".th-chat__msg--bot").first.wait_for()
    page.wait_for_function(
        "document.querySelector('.th-chat__log').getAttribute('aria-busy') !== 'true'"
    )
    assert "council tax" in last_bot(page).lower()
    assert page.evaluate("document.activeElement.id") == "th-chat-input"  # focus stays put
    assert_accessible(page)
    page.keyboard.press("Escape")
    assert page.get_by_role("dialog").count() == 0
    assert page.evaluate("document.activeElement.textContent") == "Ask a question"
