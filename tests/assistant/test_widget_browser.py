"""The chat widget in headless Chromium against a real ASGI server (uvicorn, in-process):
type and get a reply, quick replies, thumbs, a person joining live, keyboard only, a 320 px
screen, axe (WCAG 2.2 AA), the HTTP fallback when WebSockets are blocked, and a photo.

Tests that need a conversation key, quick replies or sources use a stand-in engine (the
server runs in this process, so `message_receive` can be replaced); the first test uses
whatever engine is installed and only asserts that an answer appears.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import pytest

from tests.asgi_live import AsgiLiveServer, asgi_live_server  # noqa: F401 (fixture)
from tests.browser import assert_accessible
from tests.cases.test_photos import jpeg
from townhall.assistant import services
from townhall.assistant import views as assistant_views
from townhall.assistant.models import Conversation, Turn
from townhall.assistant.replies import BotMessage, QuickReply, Reply, Source
from townhall.intake.staging import photo_unstage

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WAIT = 20_000  # ms: the first answer of a real engine may load its model


@pytest.fixture
def site(asgi_live_server: AsgiLiveServer, town: Any, settings: Any, tmp_path: Any) -> str:  # noqa: F811
    settings.ROOT_URLCONF = "tests.assistant.urls_widget"
    settings.MEDIA_ROOT = tmp_path / "media"
    return asgi_live_server.url


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A stand-in engine: a real conversation, a sourced answer with two quick replies."""
    calls: list[dict[str, Any]] = []

    def message_receive(**kwargs: Any) -> Reply:
        calls.append(kwargs)
        key = kwargs.get("conversation") or secrets.token_urlsafe(16)
        conversation, _ = Conversation.objects.get_or_create(key=key)
        Turn.objects.create(conversation=conversation, role="resident", text=kwargs["text"])
        answer = f"Answer to: {kwargs['text']}"
        turn = Turn.objects.create(conversation=conversation, role="bot", text=answer)
        return Reply(
            conversation=key,
            status=conversation.status,
            messages=(
                BotMessage(
                    text=answer,
                    turn=turn.pk,
                    quick_replies=(
                        QuickReply(label="Bin days", text="When is my bin day?"),
                        QuickReply(label="Report a problem", text="I want to report a problem"),
                    ),
                    sources=(Source(title="Bins and recycling", url="/help/"),),
                ),
            ),
        )

    monkeypatch.setattr(services, "message_receive", message_receive)
    # The HTTP API (the fallback) imported it by name.
    monkeypatch.setattr(assistant_views, "message_receive", message_receive)
    return calls


def open_chat(page: Any, url: str) -> None:
    page.goto(url + "/")
    page.get_by_role("button", name="Ask a question").click()
    page.get_by_role("dialog", name="Ask the council").wait_for()


def bot_messages(page: Any) -> Any:
    return page.locator(".th-chat__msg--bot")


def test_a_resident_types_a_question_and_gets_an_answer(site: str, page: Any) -> None:
    open_chat(page, site)
    field = page.get_by_label("Your message")
    assert page.evaluate("document.activeElement.id") == "th-chat-input"  # focus moved in
    field.fill("When is my bin collected?")
    field.press("Enter")
    bot_messages(page).first.wait_for(timeout=WAIT)
    assert bot_messages(page).first.inner_text().strip()
    assert (
        page.get_by_role("log")
        .locator(".th-chat__msg--resident")
        .inner_text()
        .endswith("When is my bin collected?")
    )
    assert page.evaluate("TownhallChat.transport()") == "websocket"
    # Escape closes and gives focus back to the launcher
    field.press("Escape")
    assert page.get_by_role("dialog").count() == 0
    launcher = page.get_by_role("button", name="Ask a question")
    assert launcher.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.classList.contains('th-chat__launcher')")


def test_quick_replies_sources_and_thumbs_are_accessible(
    site: str, page: Any, engine: list[Any]
) -> None:
    open_chat(page, site)
    page.get_by_label("Your message").fill("bins")
    page.get_by_label("Your message").press("Enter")
    page.get_by_role("button", name="Bin days").click()
    page.get_by_text("Answer to: When is my bin day?").wait_for(timeout=WAIT)
    assert [c["text"] for c in engine] == ["bins", "When is my bin day?"]
    assert page.get_by_role("button", name="Bin days").count() == 1  # older ones retired
    link = page.get_by_role("link", name="Bins and recycling").last
    assert link.get_attribute("href") == site + "/help/"
    thumbs = page.get_by_role("group", name="Was this helpful?").last.get_by_role(
        "button", name="Yes"
    )
    thumbs.click()
    assert thumbs.get_attribute("aria-pressed") == "true"
    assert_accessible(page)


def test_keyboard_only(site: str, page: Any, engine: list[Any]) -> None:
    page.goto(site + "/")
    page.keyboard.press("Shift+Tab")  # from the top, backwards: the launcher is the last stop
    assert page.evaluate("document.activeElement.textContent") == "Ask a question"
    page.keyboard.press("Enter")
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    page.get_by_text("Answer to: hello").wait_for(timeout=WAIT)
    page.keyboard.press("Shift+Tab")  # back from the field: the newest quick reply
    assert page.evaluate("document.activeElement.textContent") == "Report a problem"
    page.keyboard.press("Enter")
    page.get_by_text("Answer to: I want to report a problem").wait_for(timeout=WAIT)
    focused = page.evaluate("getComputedStyle(document.activeElement).backgroundColor")
    page.keyboard.press("Shift+Tab")
    shown = page.evaluate("getComputedStyle(document.activeElement).backgroundColor")
    assert shown == "rgb(255, 221, 0)" and focused  # the GOV.UK yellow focus is visible
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.textContent") == "Ask a question"


def test_a_person_joins_and_answers_live(site: str, page: Any, engine: list[Any]) -> None:
    open_chat(page, site)
    page.get_by_label("Your message").fill("I want to speak to a person")
    page.get_by_label("Your message").press("Enter")
    page.get_by_text("Answer to: I want to speak to a person").wait_for(timeout=WAIT)
    key = Conversation.objects.get().key
    response = page.request.post(
        site + "/test/agent-says",
        form={"key": key, "text": "Hello, I am Sam from the council", "status": "agent"},
    )
    assert response.status == 204
    page.get_by_text("A member of staff has joined").wait_for(timeout=WAIT)
    agent = page.locator(".th-chat__msg--agent")
    agent.wait_for(timeout=WAIT)
    assert "Hello, I am Sam from the council" in agent.inner_text()
    # the chat follows the resident to the next page, open, person and all
    page.goto(site + "/track/")
    page.locator(".th-chat__msg--agent").wait_for(timeout=WAIT)
    assert page.locator(".th-chat__msg--resident").count() == 1


def test_a_320_pixel_screen_needs_no_sideways_scrolling(
    site: str, browser: Any, engine: list[Any]
) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    try:
        open_chat(page, site)
        page.get_by_label("Your message").fill("a" * 60 + " " + "b" * 80)
        page.get_by_label("Your message").press("Enter")
        bot_messages(page).first.wait_for(timeout=WAIT)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        box = page.get_by_role("dialog").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320
        for target in page.locator(".th-chat button, .th-chat__file-label").all():
            size = target.bounding_box()
            if size:  # WCAG 2.2 target size: 24 by 24 at least
                assert size["width"] >= 24 and size["height"] >= 24, target.inner_text()
        assert_accessible(page)
    finally:
        context.close()


BLOCK_WEBSOCKETS = """
window.WebSocket = function () {
  var fake = new EventTarget();
  fake.send = function () {}; fake.close = function () {};
  setTimeout(function () {
    fake.dispatchEvent(new Event("error"));
    fake.dispatchEvent(new Event("close"));
  }, 10);
  return fake;
};
"""


def test_blocked_websockets_fall_back_to_http_with_the_same_answers(
    site: str, page: Any, engine: list[Any]
) -> None:
    page.add_init_script(BLOCK_WEBSOCKETS)
    open_chat(page, site)
    page.get_by_label("Your message").fill("bins please")
    page.get_by_label("Your message").press("Enter")
    page.get_by_text("Answer to: bins please").wait_for(timeout=WAIT)
    assert page.evaluate("TownhallChat.transport()") == "http"
    assert page.get_by_role("button", name="Bin days").is_visible()
    # an agent's message arrives by polling the events endpoint
    key = Conversation.objects.get().key
    page.request.post(site + "/test/agent-says", form={"key": key, "text": "Sam here, by HTTP"})
    page.get_by_text("Sam here, by HTTP").wait_for(timeout=WAIT)


def test_a_photo_is_uploaded_and_sent_with_the_next_message(
    site: str, page: Any, engine: list[Any]
) -> None:
    open_chat(page, site)
    page.get_by_label("Add a photo").set_input_files(
        {"name": "pothole.jpg", "mimeType": "image/jpeg", "buffer": jpeg(gps=(42.36, -71.09))}
    )
    page.get_by_role("button", name="Remove photo pothole.jpg").wait_for(timeout=WAIT)
    page.get_by_label("Your message").fill("There is a pothole here")
    page.get_by_label("Your message").press("Enter")
    page.get_by_text("Answer to: There is a pothole here").wait_for(timeout=WAIT)
    (token,) = engine[0]["photos"]
    assert photo_unstage(token).lat is not None  # checked, EXIF read then stripped, staged
    assert page.get_by_role("button", name="Remove photo pothole.jpg").count() == 0


def test_the_widget_speaks_the_pages_language(site: str, page: Any, engine: list[Any]) -> None:
    page.goto(site + "/")
    page.evaluate("document.cookie = 'django_language=es; path=/'")
    page.goto(site + "/")
    page.get_by_role("button", name="Haga una pregunta").click()
    page.get_by_label("Su mensaje").fill("hola")
    page.get_by_label("Su mensaje").press("Enter")
    page.get_by_text("Answer to: hola").wait_for(timeout=WAIT)
    assert engine[0]["language"] == "es"


def test_no_widget_on_the_report_form(site: str, page: Any, pothole: Any) -> None:
    page.goto(site + "/")
    assert page.get_by_role("button", name="Ask a question").count() == 1
    page.goto(site + f"/report/{pothole.code}/")
    assert page.get_by_role("button", name="Ask a question").count() == 0


def test_one_script_tag_on_a_council_page_under_a_strict_csp(
    site: str, page: Any, engine: list[Any]
) -> None:
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(site + "/test/council-page")
    page.get_by_role("button", name="Ask a question").click()
    page.get_by_label("Your message").fill("council tax")
    page.get_by_label("Your message").press("Enter")
    page.get_by_text("Answer to: council tax").wait_for(timeout=WAIT)
    assert page.evaluate("TownhallChat.transport()") == "websocket"
    styled = page.evaluate("getComputedStyle(document.querySelector('.th-chat')).position")
    assert styled == "fixed"  # its stylesheet loaded
    assert refused == []
    assert_accessible(page)
