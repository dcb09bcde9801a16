"""The Content-Security-Policy in a real browser: every kind of page loads, runs its scripts
and draws its map with no violation and no console error; and an eligibility check in the
browser sends none of its answers in any URL it requests (docs/security/platform.md)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import assert_accessible
from townhall.cases.services import case_acknowledge, case_open
from townhall.catalog.models import Department
from townhall.catalog.services import department_member_add
from townhall.people.roles import StaffRole
from townhall.people.services import staff_user_create
from townhall.places.models import Place

# Playwright's sync API runs an event loop in this thread; ORM calls stay blocking calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-password-for-tests-1"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
# Every CSP violation the page reports, collected before any page script runs.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def watched(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    """A page whose console errors and CSP violations are recorded; map tiles answered
    locally (the tile server of the default settings, with no network here)."""
    context = browser.new_context()
    context.add_init_script(WATCH_VIOLATIONS)
    context.route(
        "https://tile.openstreetmap.org/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=PNG),
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(f"{page.url}: {message.text}") if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    yield page, errors
    context.close()


def _visit(page: Any, url: str) -> None:
    response = page.goto(url)
    assert "'nonce-" in response.headers["content-security-policy"], url


def _clean(page: Any, errors: list[str]) -> None:
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], f"{page.url}: {violations}"
    assert errors == []


def test_every_kind_of_page_runs_under_the_policy_without_a_violation(
    live_server: Any, watched: tuple[Any, list[str]], pothole: Any
) -> None:
    page, errors = watched
    staff = staff_user_create(username="keisha", role=StaffRole.CASEWORKER, password=PASSWORD)
    department_member_add(department=Department.objects.get(code="dpw"), user=staff)
    staff_user_create(username="ada", role=StaffRole.COUNCIL_ADMIN, password=PASSWORD)
    case = case_open(
        service_type=pothole,
        channel="web",
        answers={"size": "small"},
        description="Deep hole",
        lat=42.3601,
        long=-71.0942,
        address="12 Elm Street",
    )
    case_acknowledge(case_id=case.pk)
    for n in (10, 11, 12, 13):  # the gazetteer the maps draw their streets from
        Place.objects.create(
            property_id=f"E{n}",
            address=f"{n} Elm Street",
            lat=42.3601 + (0.0001 if n % 2 else -0.0001),
            long=-71.0942 + n * 0.0001,
            search_text=f"{n} elm street",
        )
    # the policy is enforced and the watch sees it: an injected inline script is refused
    _visit(page, live_server.url + "/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__injected = true'; document.body.appendChild(s); }"
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__injected") is None
    assert page.evaluate("window.__cspViolations")[0].startswith("script-src")
    errors.clear()
    for path in [
        "/",
        "/help/",
        "/bins/",
        "/check/",
        "/permits/",
        "/privacy/",
        "/accessibility/",
        "/cookies/",
        "/contact/",
    ]:
        _visit(page, live_server.url + path)
        _clean(page, errors)
    # the report form's map: Leaflet, its CSS and the streets layer load under the policy
    _visit(page, live_server.url + "/report/pothole/")
    page.locator("#map .th-map-street").first.wait_for()
    _clean(page, errors)
    # the console: its script, htmx and the case map
    page.goto(f"{live_server.url}/admin/login/?next=/console/cases/{case.pk}/")
    _clean(page, errors)
    page.fill("#id_username", "keisha")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/console/cases/{case.pk}/")
    page.locator("#case-map .leaflet-marker-icon").wait_for()
    page.locator("#case-map .th-map-street").first.wait_for()
    _clean(page, errors)
    _visit(page, live_server.url + "/console/queues/all/")
    page.wait_for_function("window.htmx !== undefined")
    page.evaluate("htmx.trigger('#queue-table', 'every')")  # htmx's own code paths run
    _clean(page, errors)
    # the admin, as a council admin
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    for path in ["/admin/", "/admin/cases/case/", f"/admin/cases/case/{case.pk}/change/"]:
        _visit(page, live_server.url + path)
        _clean(page, errors)


def test_an_eligibility_check_sends_no_answer_in_any_url(
    live_server: Any, watched: tuple[Any, list[str]]
) -> None:
    page, errors = watched
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + "/check/energy_subsidy/")
    page.get_by_label("How many people live in your household?").fill("3")
    page.locator("#id_lives_in_town_0").check()
    page.locator("#id_owner_occupier_0").check()
    page.get_by_label("What is your household's total yearly income before tax?").fill("41234")
    page.get_by_label("In what year was the home built?").fill("1968")
    page.get_by_label("Insulation").check()
    page.get_by_label("How much does the installer's quote come to?").fill("8765")
    page.get_by_role("button", name="Check").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are likely to be eligible"
    assert_accessible(page)
    # "Change your answers" brings the questions back, filled in
    page.get_by_role("link", name="Change your answers").first.click()
    assert page.get_by_label("In what year was the home built?").input_value() == "1968"
    page.get_by_label("In what year was the home built?").fill("2015")
    page.get_by_role("button", name="Check").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are not eligible"
    # "Delete my answers now": the questions come back empty
    page.get_by_role("button", name="Delete my answers now").click()
    assert page.get_by_label("In what year was the home built?").input_value() == ""
    assert requested, "the browser made no requests?"
    for url in [*requested, page.url]:
        for answer in ("41234", "1968", "2015", "8765", "household", "insulation"):
            assert answer not in url, (url, answer)
    _clean(page, errors)


def test_a_permit_walk_sends_no_answer_in_any_url_and_back_works(
    live_server: Any, watched: tuple[Any, list[str]]
) -> None:
    page, errors = watched
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + "/permits/")
    page.locator("#choice_1").check()  # an extension
    page.locator("button[type=submit].govuk-button").last.click()
    assert "How big is the extension?" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("link", name="Back").click()
    assert "What do you want to do?" in page.get_by_role("heading", level=1).inner_text()
    page.locator("#choice_1").check()
    page.locator("button[type=submit].govuk-button").last.click()
    page.locator("#choice_1").check()  # large
    page.locator("button[type=submit].govuk-button").last.click()
    page.locator("#choice_0").check()  # in a conservation area
    page.locator("button[type=submit].govuk-button").last.click()
    assert "3" in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)
    for url in requested:
        for answer in ("extension", "large", "heritage", "what:"):
            assert answer not in url, (url, answer)
    _clean(page, errors)
