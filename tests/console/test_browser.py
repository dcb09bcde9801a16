"""The caseworker console in headless Chromium, every page state checked with axe (WCAG 2.2 AA)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.browser import assert_accessible
from tests.console.conftest import PASSWORD
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.cases.services import (
    case_acknowledge,
    case_assign,
    case_open,
    case_sla_scan,
    case_transition,
)
from townhall.core import clock

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the
# fixtures here are ordinary blocking calls all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


# --- helpers -------------------------------------------------------------------------------


def _open(service: Any, description: str = "Deep hole", **extra: Any) -> Case:
    """An acknowledged case of `service`, as the portal leaves it."""
    answers = {"size": "small"} if service.code == "pothole" else {}
    case = case_open(
        service_type=service, channel="web", answers=answers, description=description, **extra
    )
    case_acknowledge(case_id=case.pk)
    case.refresh_from_db()
    return case


def _sign_in(page: Any, live_server: Any, user: Any, path: str) -> None:
    """Sign in through the admin form, landing on the console page `path`."""
    page.goto(f"{live_server.url}/admin/login/?next={path}")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + path)


def _history(page: Any) -> list[str]:
    """The case page's History entries, newest first."""
    entries = page.locator("ol.th-timeline > li").all_inner_texts()
    return [" ".join(text.split()) for text in entries]


def _banner(page: Any) -> str:
    return " ".join(page.locator(".govuk-notification-banner").inner_text().split())


def _focused(page: Any) -> dict[str, str]:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            return {
                tag: el.tagName,
                id: el.id || "",
                text: (el.textContent || "").trim(),
                href: el.getAttribute("href") || "",
            };
        }"""
    )


# --- 1. an agent works a case to resolution --------------------------------------------------


def test_an_agent_takes_a_case_from_the_queue_to_resolution_with_a_public_update(
    live_server: Any, page: Any, staff: dict[str, Any], pothole: Any
) -> None:
    agent = staff["agent"]
    case = _open(pothole)
    path = f"/console/cases/{case.pk}/"

    # the team's queue lists the case, nobody has it yet
    _sign_in(page, live_server, agent, "/console/queues/unassigned/")
    assert page.get_by_role("heading", level=1).inner_text() == "Team's unassigned"
    row = page.locator("#queue-table tbody tr", has_text=case.reference)
    assert row.count() == 1
    assert "Nobody" in row.inner_text()
    assert_accessible(page)

    # open it from the table
    page.get_by_role("link", name=case.reference, exact=True).click()
    page.wait_for_url(live_server.url + path)
    assert case.reference in page.get_by_role("heading", level=1).inner_text()
    assert "Deep hole" in page.locator(".th-case__main").inner_text()
    assert page.get_by_label("Assign to").count() == 0  # agents may only take cases
    assert_accessible(page)

    # take it
    page.get_by_role("button", name="Assign to me").click()
    page.wait_for_url(live_server.url + path + "#actions")
    assert "Assignment saved." in _banner(page)
    assert page.get_by_role("button", name="Assign to me").count() == 0
    assert _history(page)[0].endswith("Assigned to agent")
    assert_accessible(page)

    # a public update for the resident
    page.get_by_label("Note or update").fill("A crew is booked for Tuesday morning.")
    page.get_by_label("Public update – the resident sees it and is told").check()
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_url(live_server.url + path + "#actions")
    assert "Public update sent to the resident." in _banner(page)
    latest = page.locator("ol.th-timeline > li").first
    assert "Resident sees this" in latest.inner_text()
    assert "Public update: A crew is booked for Tuesday morning." in latest.inner_text()
    assert "th-event--public" in (latest.get_attribute("class") or "")
    assert_accessible(page)

    # an internal note (the default choice), for staff only
    page.get_by_label("Note or update").fill("Supplier owes us asphalt; chase Bob.")
    assert page.get_by_label("Internal note – staff only").is_checked()
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_url(live_server.url + path + "#actions")
    assert "Internal note added." in _banner(page)
    latest = page.locator("ol.th-timeline > li").first
    assert "Internal note: Supplier owes us asphalt; chase Bob." in latest.inner_text()
    assert "Resident sees this" not in latest.inner_text()
    assert_accessible(page)

    # in progress, then resolved with a message
    page.get_by_label("New status").select_option(label="In progress")
    page.get_by_role("button", name="Change status").click()
    page.wait_for_url(live_server.url + path + "#actions")
    assert "Status is now In progress." in _banner(page)
    assert "In progress" in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)
    page.get_by_label("New status").select_option(label="Resolved")
    page.get_by_label("Message to the resident (optional)").fill("Filled and rolled.")
    page.get_by_role("button", name="Change status").click()
    page.wait_for_url(live_server.url + path + "#actions")
    assert "Status is now Resolved." in _banner(page)
    assert "Resolved" in page.get_by_role("heading", level=1).inner_text()
    assert page.get_by_label("Note or update").count() == 1  # notes go on once resolved
    history = _history(page)
    assert history[0].endswith("Status: In progress → Resolved. Filled and rolled.")
    assert history[1].endswith("Status: Acknowledged → In progress")
    assert "Internal note: Supplier owes us asphalt; chase Bob." in history[2]
    assert "Resident sees this" in history[3]
    assert "Public update: A crew is booked for Tuesday morning." in history[3]
    assert history[4].endswith("Assigned to agent")
    assert_accessible(page)

    # what the database holds
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert case.assignee_id == agent.pk
    assert case.resolved_at is not None
    update = CaseEvent.objects.get(case=case, kind=CaseEventKind.PUBLIC_UPDATE)
    assert update.public and update.actor_id == agent.pk
    assert update.content["text"] == "A crew is booked for Tuesday morning."
    note = CaseEvent.objects.get(case=case, kind=CaseEventKind.NOTE)
    assert not note.public

    # what the resident sees: the update and the message, never the internal note
    page.goto(f"{live_server.url}/track/?reference={case.reference}")
    assert page.get_by_role("heading", level=1).inner_text() == f"Request {case.reference}"
    public_page = page.locator("main").inner_text()
    assert "A crew is booked for Tuesday morning." in public_page
    assert "Filled and rolled." in public_page
    assert "Supplier owes us asphalt" not in page.content()
    assert "chase Bob" not in page.content()
    assert_accessible(page)


# --- 2. a supervisor reassigns a breached case ---------------------------------------------


def test_a_supervisor_reassigns_a_breached_case(
    live_server: Any, page: Any, staff: dict[str, Any], pothole: Any
) -> None:
    late = _open(pothole, description="Sinking kerb")
    on_time = _open(pothole, description="Small crack")
    Case.objects.filter(pk=late.pk).update(due_at=clock.now() - timedelta(hours=2))
    assert case_sla_scan() == 1
    late.refresh_from_db()
    case_assign(case=late, assignee=staff["caseworker"], actor=staff["supervisor"])
    path = f"/console/cases/{late.pk}/"

    _sign_in(page, live_server, staff["supervisor"], "/console/queues/breached/")
    assert page.get_by_role("heading", level=1).inner_text() == "Breached"
    table = page.locator("#queue-table")
    assert on_time.reference not in table.inner_text()
    row = table.locator("tbody tr", has_text=late.reference)
    assert row.count() == 1
    assert "Keisha" in row.inner_text()
    assert re.search(r"late \d+ h", row.inner_text())
    nav = page.get_by_role("navigation", name="Queues")
    assert nav.get_by_role("link", name=re.compile(r"^Breached 1$")).count() == 1
    assert_accessible(page)

    row.get_by_role("link", name=late.reference, exact=True).click()
    page.wait_for_url(live_server.url + path)
    assert "Late by" in page.locator(".govuk-summary-list").first.inner_text()
    assert page.get_by_label("Assign to").input_value() == str(staff["caseworker"].pk)
    assert any("SLA breached" in line for line in _history(page))
    assert_accessible(page)

    page.get_by_label("Assign to").select_option(label="Dora")
    page.get_by_role("button", name="Assign", exact=True).click()
    page.wait_for_url(live_server.url + path + "#actions")
    assert "Assignment saved." in _banner(page)
    assigned_row = page.locator(".govuk-summary-list__row", has_text="Assigned to")
    assert "Dora" in assigned_row.inner_text()
    latest = _history(page)[0]
    assert "Frank" in latest and latest.endswith("Assigned to dora")
    assert_accessible(page)

    late.refresh_from_db()
    assert late.assignee_id == staff["department_admin"].pk
    event = CaseEvent.objects.filter(case=late, kind=CaseEventKind.ASSIGNED).order_by("-seq")[0]
    assert event.actor_id == staff["supervisor"].pk
    assert event.data["from"] == staff["caseworker"].pk
    assert event.data["to"] == staff["department_admin"].pk


# --- 3. the queue by keyboard alone ---------------------------------------------------------


def test_the_queue_works_by_keyboard_alone(
    live_server: Any, page: Any, staff: dict[str, Any], pothole: Any
) -> None:
    cases = [_open(pothole, description=f"Hole {n}") for n in range(3)]
    _sign_in(page, live_server, staff["agent"], "/console/queues/unassigned/")
    first_link = page.locator("#queue-table tbody tr").first.get_by_role("link")
    first_reference = first_link.inner_text()
    assert first_reference in {c.reference for c in cases}
    first_case = next(c for c in cases if c.reference == first_reference)

    # the skip link is the first stop and takes focus into the main content
    page.keyboard.press("Tab")
    assert _focused(page) == {
        "tag": "A",
        "id": "",
        "text": "Skip to main content",
        "href": "#main-content",
    }
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main-content"
    assert page.url.endswith("/console/queues/unassigned/#main-content")

    # from there: the filter toggle, the first row's checkbox, then the first row's link
    stops = []
    for _ in range(10):
        page.keyboard.press("Tab")
        focused = _focused(page)
        stops.append(focused)
        if focused["href"].startswith("/console/cases/"):
            break
    assert [s["tag"] for s in stops] == ["SUMMARY", "INPUT", "A"], stops
    assert stops[0]["text"] == "Filter and sort"
    assert stops[1]["id"] == f"select-{first_case.pk}"
    assert stops[2] == {
        "tag": "A",
        "id": "",
        "text": first_reference,
        "href": f"/console/cases/{first_case.pk}/",
    }
    assert page.evaluate(
        "document.activeElement.closest('#main-content') !== null"
    )  # never left the main content
    assert_accessible(page)

    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/console/cases/{first_case.pk}/")
    assert first_reference in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)


# --- 4. every other console page state -----------------------------------------------------


def test_every_queue_and_the_error_states_pass_axe(
    live_server: Any, page: Any, staff: dict[str, Any], pothole: Any
) -> None:
    frank = staff["supervisor"]
    mine = _open(pothole, description="Mine")
    case_assign(case=mine, assignee=frank, actor=frank)
    unassigned = _open(pothole, description="Nobody's")
    breaching = _open(pothole, description="Urgent", priority="urgent")  # 4 h elapsed
    breached = _open(pothole, description="Late")
    Case.objects.filter(pk=breached.pk).update(due_at=clock.now() - timedelta(hours=1))
    case_sla_scan()
    awaiting = _open(pothole, description="Waiting")
    case_transition(case=awaiting, to=CaseStatus.AWAITING_CITIZEN, actor=frank)
    reopened = _open(pothole, description="Again")
    case_transition(case=reopened, to=CaseStatus.RESOLVED, actor=frank)
    case_transition(case=reopened, to=CaseStatus.REOPENED, actor=None, note="Still there")
    closed = _open(pothole, description="Done")
    case_transition(case=closed, to=CaseStatus.RESOLVED, actor=frank, note="Fixed")
    case_transition(case=closed, to=CaseStatus.CLOSED, actor=frank)

    expected = {
        "mine": ("My cases", {mine}),
        "unassigned": (
            "Team's unassigned",
            {unassigned, breaching, breached, awaiting, reopened},
        ),
        "breaching": ("Breaching soon", {breaching}),
        "breached": ("Breached", {breached}),
        "awaiting": ("Awaiting citizen", {awaiting}),
        "reopened": ("Reopened", {reopened}),
        "all": ("All cases", {mine, unassigned, breaching, breached, awaiting, reopened, closed}),
    }
    every = {mine, unassigned, breaching, breached, awaiting, reopened, closed}
    _sign_in(page, live_server, frank, "/console/queues/mine/")
    for slug, (title, holds) in expected.items():
        response = page.goto(f"{live_server.url}/console/queues/{slug}/")
        assert response is not None and response.status == 200, slug
        assert page.get_by_role("heading", level=1).inner_text() == title, slug
        current = page.get_by_role("navigation", name="Queues").locator("[aria-current=page]")
        assert current.inner_text().startswith(title), slug
        table = page.locator("#queue-table").inner_text()
        shown = {c for c in every if c.reference in table}
        assert shown == holds, slug
        assert_accessible(page)

    # filters that match nothing
    page.goto(f"{live_server.url}/console/queues/unassigned/?priority=low")
    assert page.locator("details.govuk-details").get_attribute("open") is not None
    assert "Nothing here. Well done." in page.locator("#queue-table").inner_text()
    assert_accessible(page)

    # the filter panel sent back with errors
    response = page.goto(f"{live_server.url}/console/queues/all/?status=exploded&service=no_heat")
    assert response is not None and response.status == 400
    assert page.locator("details.govuk-details").get_attribute("open") is not None
    summary = page.locator(".govuk-error-summary")
    assert "There is a problem" in summary.inner_text()
    assert summary.get_by_role("link", name=re.compile(r"^Status:")).get_attribute("href") == (
        "#id_status"
    )
    assert summary.get_by_role("link", name=re.compile(r"^Service:")).count() == 1
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    assert_accessible(page)

    # a reference nobody can find
    page.goto(f"{live_server.url}/console/find/?reference=TH-00-000000")
    page.wait_for_url(f"{live_server.url}/console/queues/all/")
    assert "No case you can see has that reference." in page.get_by_role("alert").inner_text()
    assert_accessible(page)

    # a case page with a form error: an empty note
    page.goto(f"{live_server.url}/console/cases/{unassigned.pk}/")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary")
    assert "Write the note or update." in summary.inner_text()
    assert summary.get_by_role("link").get_attribute("href") == "#id_text"
    assert page.locator("#id_text-error").count() == 1
    described = page.get_by_label("Note or update").get_attribute("aria-describedby") or ""
    assert "id_text-error" in described.split()
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    assert not CaseEvent.objects.filter(case=unassigned, kind=CaseEventKind.NOTE).exists()
    assert_accessible(page)

    # a finished case: no actions on it (one may still watch it, add a note, and still
    # choose what the public sees of it or replace the resident's private link), its
    # history kept
    page.goto(f"{live_server.url}/console/cases/{closed.pk}/")
    assert "Closed" in page.get_by_role("heading", level=1).inner_text()
    assert "This case is finished." in page.locator("main").inner_text()
    assert page.locator("main form[action$='/note/']").count() == 1
    kept = ("/watch/", "/note/", "/public-summary/", "/new-link/")
    others = "".join(f":not([action$='{a}'])" for a in kept)
    assert page.locator(f"main form{others}").count() == 0
    assert _history(page)[0].endswith("Status: Resolved → Closed")
    assert_accessible(page)


# --- 5. the queue refreshes itself ---------------------------------------------------------


def test_the_queue_refreshes_itself_without_leaving_the_page(
    live_server: Any, page: Any, staff: dict[str, Any], pothole: Any
) -> None:
    old = _open(pothole, description="Old hole")
    _sign_in(page, live_server, staff["agent"], "/console/queues/mine/")
    # a fake clock, so the table's "every 30s" can be brought forward
    page.clock.install()
    url = f"{live_server.url}/console/queues/unassigned/"
    page.goto(url)
    polls: list[str] = []
    page.on(
        "request",
        lambda request: (
            polls.append(request.url) if request.headers.get("hx-request") == "true" else None
        ),
    )
    page.evaluate("window.__stillTheSamePage = true")
    assert old.reference in page.locator("#queue-table").inner_text()
    new = _open(pothole, description="New hole")

    # while a row is ticked for a bulk action, the table stays put
    page.get_by_label(f"Select {old.reference}").check()
    page.clock.run_for(31_000)
    page.wait_for_timeout(1_000)
    assert polls == []
    assert new.reference not in page.locator("#queue-table").inner_text()
    page.get_by_label(f"Select {old.reference}").uncheck()

    # nor while keyboard focus is in the table: a refresh would throw it to the top
    page.locator("#queue-table").get_by_role("link", name=old.reference, exact=True).focus()
    page.clock.run_for(31_000)
    page.wait_for_timeout(1_000)
    assert polls == []
    assert page.evaluate("document.activeElement.textContent.trim()") == old.reference
    page.evaluate("document.activeElement.blur()")
    assert page.locator("#count-unassigned").inner_text() == "1"

    # then thirty seconds on, the new case shows up by itself, and the count with it
    page.clock.run_for(31_000)
    page.locator("#queue-table").get_by_role("link", name=new.reference, exact=True).wait_for()
    assert polls == [url]
    assert page.url == url
    assert page.evaluate("window.__stillTheSamePage") is True
    assert page.locator("#queue-table").count() == 1  # swapped in place, not nested
    assert page.locator("#queue-table").get_attribute("hx-trigger", timeout=1_000) is not None
    assert old.reference in page.locator("#queue-table").inner_text()
    assert page.locator("#count-unassigned").inner_text() == "2"
    assert_accessible(page)


def test_the_case_page_shows_where_on_a_map(
    live_server: Any, page: Any, staff: dict[str, Any], pothole: Any
) -> None:
    case = _open(pothole, lat=42.3601, long=-71.0942, address="12 Elm Street")
    _sign_in(page, live_server, staff["caseworker"], f"/console/cases/{case.pk}/")
    page.locator("#case-map .leaflet-marker-icon").wait_for()
    assert page.locator("#case-map").is_visible()
    assert "12 Elm Street" in page.locator("main").inner_text()  # and in words, for everyone
    assert_accessible(page)


# --- 7. triage and duplicates from intake --------------------------------------------------


def test_a_caseworker_triages_a_case_and_settles_a_suggested_duplicate(
    live_server: Any, page: Any, staff: dict[str, Any], pothole: Any, settings: Any
) -> None:
    from townhall.intake.messages import Message, Place, Sender
    from townhall.intake.services import intake_accept

    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    unsure = intake_accept(
        Message(channel="social", sender=Sender(handle="x:@jo"), text="Cold radiators since Friday")
    ).case

    def near(text: str, lat: float, email: str) -> Any:
        message = Message(
            channel="social",
            sender=Sender(email=email),
            text=text,
            place=Place(lat=lat, long=-71.09),
            service_code="pothole",
        )
        return intake_accept(message).case

    first = near("Deep pothole by the library", 42.36, "a@example.org")
    second = near("Broken road at the bus stop", 42.3603, "b@example.org")
    assert unsure and first and second and first.pk != second.pk
    keisha = staff["caseworker"]
    _sign_in(page, live_server, keisha, "/console/queues/triage/")
    assert page.get_by_role("heading", level=1).inner_text() == "Needs triage"
    assert unsure.reference in page.locator("#queue-table").inner_text()
    assert_accessible(page)

    page.goto(f"{live_server.url}/console/cases/{unsure.pk}/")
    triage = page.locator("#triage")
    assert "not sure of the service" in triage.inner_text()
    assert_accessible(page)
    page.get_by_label("Another service").select_option("no_heat")
    triage.get_by_role("button", name="File under this service").click()
    page.wait_for_url(f"{live_server.url}/console/queues/triage/")
    assert "Filed under No heat (Inspectional Services)." in _banner(page)
    assert unsure.reference not in page.locator("#queue-table").inner_text()

    page.goto(f"{live_server.url}/console/cases/{second.pk}/")
    duplicates = page.locator("#duplicates")
    assert first.reference in duplicates.inner_text()
    assert_accessible(page)
    duplicates.get_by_role("button", name=f"Merge into {first.reference}").click()
    page.wait_for_url(f"{live_server.url}/console/cases/{first.pk}/")
    second.refresh_from_db()
    assert second.status == CaseStatus.DUPLICATE and second.merged_into_id == first.pk
