"""Real pages in headless Chromium, each checked with the axe accessibility engine (WCAG 2.2 AA)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.browser import assert_accessible
from townhall.cases.services import case_acknowledge, case_open
from townhall.notify.services import notification_send_due

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the
# fixtures here are ordinary blocking calls all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_is_accessible_and_lists_services(live_server: Any, page: Any, town: Any) -> None:
    page.goto(live_server.url + "/")
    assert page.title() == "Report a problem or request a service – Testville Council"
    assert page.get_by_role("heading", name="Streets").is_visible()
    assert_accessible(page)


def test_a_resident_tracks_a_request_from_the_home_page(
    live_server: Any, page: Any, pothole: Any
) -> None:
    # given a request that was acknowledged
    case = case_open(
        service_type=pothole, channel="web", answers={"size": "large"}, description="Hole"
    )
    case_acknowledge(case_id=case.pk)
    # when the resident types the reference on the home page
    page.goto(live_server.url + "/")
    page.get_by_label("Your reference number").fill(case.reference)
    page.get_by_role("button", name="Track my request").click()
    # then the tracking page shows the status and the promised date
    page.wait_for_url("**/track/**")
    assert page.get_by_role("heading", level=1).inner_text() == f"Request {case.reference}"
    assert "Acknowledged" in page.locator(".govuk-summary-list").inner_text()
    assert "We aim to finish by" in page.content()
    assert_accessible(page)


def test_a_wrong_reference_shows_an_accessible_error(
    live_server: Any, page: Any, town: Any
) -> None:
    page.goto(live_server.url + "/track/")
    page.get_by_label("Your reference number").fill("TH-26-999999")
    page.get_by_role("button", name="Track my request").click()
    alert = page.get_by_role("alert")
    assert "There is a problem" in alert.inner_text()
    assert_accessible(page)


def test_the_skip_link_is_the_first_stop_for_keyboard_users(
    live_server: Any, page: Any, town: Any
) -> None:
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"


# --- the report journey --------------------------------------------------------------------

BLANK_TILE = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="


@pytest.fixture
def portal_settings(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TOWNHALL_MAP_TILE_URL = BLANK_TILE  # no network: a blank tile
    return settings


@pytest.fixture
def elm_street(town: Any) -> Any:
    from townhall.places.models import Place

    return Place.objects.create(
        property_id="P-12",
        address="12 Elm Street",
        postcode="02139",
        lat=42.36,
        long=-71.09,
        search_text="12 elm street",
    )


def _photo(tmp_path: Any) -> Any:
    from tests.cases.test_photos import jpeg

    path = tmp_path / "pothole.jpg"
    path.write_bytes(jpeg(gps=(42.3601, -71.0901)))
    return path


def test_a_resident_reports_with_a_map_pin_and_a_photo_then_tracks_it(
    live_server: Any, page: Any, portal_settings: Any, tmp_path: Any, town: Any
) -> None:
    from townhall.cases.models import Case, CasePhoto

    page.goto(live_server.url + "/report/pothole/")
    assert_accessible(page)
    use = page.get_by_role("button", name="Use this place")
    assert use.is_disabled()
    page.locator(".leaflet-container").click(position={"x": 200, "y": 150})
    assert use.is_enabled()
    marker = page.locator(".leaflet-marker-icon")
    assert marker.count() == 1
    assert marker.evaluate("img => img.complete && img.naturalWidth > 0")  # the pin image loaded
    use.click()
    page.wait_for_url("**lat=**")
    assert page.get_by_role("heading", level=1).inner_text() == "Tell us about the problem"
    assert_accessible(page)
    page.get_by_label("Large").check()
    page.get_by_label("Describe the problem").fill("Deep hole in the cycle lane")
    page.get_by_label("Photos (optional)").set_input_files(_photo(tmp_path))
    page.get_by_label("Email address (optional)").fill("rider@example.org")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url("**/sent/")
    case = Case.objects.get()
    assert page.locator("[data-reference]").inner_text() == case.reference
    assert "What happens next" in page.content()
    assert case.lat is not None and abs(case.lat - 42.36) < 0.01  # the pin, not the photo
    assert_accessible(page)
    page.get_by_role("link", name="/requests/").click()
    page.wait_for_url("**/requests/*/")
    assert page.get_by_role("img", name="Photo 1 of the problem").is_visible()
    assert CasePhoto.objects.filter(case=case).count() == 1
    assert_accessible(page)


def test_the_report_flow_works_without_javascript(
    browser: Any, live_server: Any, portal_settings: Any, elm_street: Any
) -> None:
    from townhall.cases.models import Case

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(live_server.url + "/")
        page.get_by_label("What do you want to report or ask about?").fill("hole in the road")
        page.get_by_role("button", name="Find the service").click()
        page.get_by_role("link", name="Pothole").click()
        assert not page.locator(".leaflet-container").count()  # no map without JavaScript
        page.get_by_label("Address or street").fill("12 elm st")
        page.get_by_role("button", name="Find the address").click()
        assert "12 Elm Street" in page.locator(".govuk-summary-list").inner_text()
        page.get_by_role("button", name="Send report").click()  # nothing filled in
        # (axe needs JavaScript; the same pages are checked with it in the tests above)
        assert "There is a problem" in page.get_by_role("alert").inner_text()
        page.get_by_label("Small").check()
        page.get_by_label("Describe the problem").fill("Hole by the kerb")
        page.get_by_role("button", name="Send report").click()
        page.wait_for_url("**/sent/")
        case = Case.objects.get()
        assert case.address == "12 Elm Street" and case.address_id == "P-12"
        assert case.reference in page.content()
    finally:
        context.close()


def test_me_too_from_the_nearby_list(
    live_server: Any, page: Any, portal_settings: Any, pothole: Any
) -> None:
    from townhall.cases.models import Case, CaseFollower

    case = case_open(
        service_type=pothole,
        channel="phone",
        answers={"size": "small"},
        description="Hole outside the bakery",
        lat=42.36,
        long=-71.09,
    )
    page.goto(live_server.url + "/report/pothole/?lat=42.3601&long=-71.0901")
    assert "Has someone already reported it?" in page.content()
    assert_accessible(page)
    page.get_by_role("link", name=f"This is my problem too ({case.reference})").click()
    page.get_by_label("Email address (optional)").fill("baker@example.org")
    assert_accessible(page)
    page.get_by_role("button", name="This is my problem too").click()
    # Back to the public page, never the case's private one.
    page.wait_for_url("**/track/?reference=*")
    assert "We have added your report" in page.content()
    assert "1 other resident" in page.content()
    assert Case.objects.count() == 1
    assert CaseFollower.objects.filter(case=case, via="me_too").count() == 1
    assert_accessible(page)


def test_not_fixed_reopens_a_resolved_request(
    live_server: Any, page: Any, portal_settings: Any, pothole: Any
) -> None:
    from townhall.cases.services import case_transition
    from townhall.portal.links import track_url

    case = case_open(
        service_type=pothole, channel="web", answers={"size": "small"}, description="Hole"
    )
    case_transition(case=case, to="in_progress", actor=None)
    case_transition(case=case, to="resolved", actor=None, note="Filled on Monday")
    page.goto(live_server.url + track_url(case))
    assert "Filled on Monday" in page.content()
    page.get_by_role("button", name="Reopen my request").click()
    assert "Tell us what is still wrong" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.get_by_label("What is still wrong?").fill("The patch has sunk again")
    page.get_by_role("button", name="Reopen my request").click()
    assert "We have reopened your request" in page.get_by_role("alert").inner_text()
    assert "Reopened" in page.locator(".govuk-summary-list").inner_text()
    assert_accessible(page)


def test_a_form_with_errors_puts_focus_on_the_error_summary(
    live_server: Any, page: Any, town: Any
) -> None:
    page.goto(live_server.url + "/track/")
    page.get_by_role("button", name="Track my request").click()
    assert page.evaluate("document.activeElement.className") == "govuk-error-summary"


def test_a_resident_signs_in_by_link_and_sees_their_requests(
    live_server: Any, page: Any, portal_settings: Any, pothole: Any
) -> None:
    import re

    from django.core import mail

    from townhall.people.services import citizen_resolve

    portal_settings.TOWNHALL_PUBLIC_URL = live_server.url
    maria = citizen_resolve(name="Maria", email="maria@example.com", phone="+16175550142")
    by_phone = case_open(
        service_type=pothole, channel="phone", answers={"size": "small"}, reporter=maria
    )
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign in", exact=True).click()
    assert_accessible(page)
    page.get_by_label("Email address").fill("maria@example.com")
    page.get_by_role("button", name="Email me a sign-in link").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your email"
    assert_accessible(page)
    notification_send_due()  # the sign-in e-mail goes through the outbox
    link = re.search(r"http\S+/account/sign-in/\S+/", mail.outbox[-1].body)
    assert link is not None
    page.goto(link.group(0))
    assert_accessible(page)
    page.get_by_role("button", name="Continue to your requests").click()
    page.wait_for_url("**/account/")
    assert by_phone.reference in page.locator("table").inner_text()
    assert "Phone" in page.locator("table").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Your details and language").click()
    assert_accessible(page)
    page.get_by_label("SMS").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/account/")
    maria.refresh_from_db()
    assert maria.preferred_channel == "sms"


def test_the_language_switcher_turns_the_portal_spanish(
    live_server: Any, page: Any, town: Any
) -> None:
    page.goto(live_server.url + "/track/")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", level=1).inner_text() == "Consultar una solicitud"
    assert_accessible(page)
    page.get_by_role("button", name="Consultar mi solicitud").click()  # the empty form
    assert "Hay un problema" in page.get_by_role("alert").inner_text()
    # the choice sticks: the next page is Spanish too, and the switcher can go back
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_label("Idioma").select_option("en")
    page.get_by_role("button", name="Cambiar").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_other_portal_page_passes_axe_in_both_languages(
    live_server: Any, browser: Any, pothole: Any, resident: Any, language: str
) -> None:
    """The pages the journeys above do not reach, and the error states of those they do."""
    from townhall.notify.links import opt_out_token

    case = case_open(service_type=pothole, channel="web", answers={"size": "small"})
    context = browser.new_context(locale=language, extra_http_headers={"Accept-Language": language})
    page = context.new_page()
    try:
        pages = [
            "/services/?q=pothole",
            "/services/?q=zzzqqq",  # no match
            "/report/pothole/?q=nowhere+at+all",  # address search that finds nothing
            "/report/pothole/?lat=91&long=0",  # a tampered map point
            f"/notifications/stop/{opt_out_token(citizen_id=resident.pk, channel='email')}/",
            "/account/sign-in/not-a-token/",  # a broken sign-in link
            f"/track/?reference={case.reference}",
        ]
        for path in pages:
            response = page.goto(live_server.url + path)
            assert response is not None and response.status < 500, path
            assert page.locator("html").get_attribute("lang") == language, path
            assert_accessible(page)
        # a details form sent back with errors, keeping the photo that passed
        from tests.cases.test_photos import jpeg

        page.goto(live_server.url + "/report/pothole/?lat=42.3601&long=-71.0901")
        page.locator("input[type=file]").set_input_files(
            [{"name": "hole.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
        )
        page.locator("form[enctype] button[type=submit]").last.click()
        page.wait_for_load_state()
        assert page.locator(".govuk-error-summary").count() == 1
        assert page.locator("input[name=kept_photos]:checked").count() == 1
        assert page.locator("img.th-kept__thumb").evaluate("img => img.naturalWidth") > 0
        assert_accessible(page)
    finally:
        context.close()


def test_pages_reflow_on_a_small_phone_without_sideways_scrolling(
    live_server: Any, browser: Any, pothole: Any
) -> None:
    """WCAG 1.4.10: content fits 320 CSS pixels wide (a 1280 px screen at 400% zoom)."""
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    try:
        for path in [
            "/",
            "/services/?q=pothole",
            "/report/pothole/",
            "/report/pothole/?lat=42.3601&long=-71.0901",
            "/track/",
            "/account/sign-in/",
        ]:
            page.goto(live_server.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 320, f"{path} is {width} px wide"
    finally:
        context.close()
