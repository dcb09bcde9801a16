"""Polish residents notice: errors that name the field and say why, one English spelling
per council, friendly 404 and 500 pages (DEBUG off) in both languages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return " ".join(response.content.decode().split())


def test_report_errors_name_the_question_and_the_field(client: Client, pothole: Any) -> None:
    response = client.post(
        "/report/pothole/", {"address": "12 Elm Street", "attribute_depth": "x" * 10}
    )
    page = text(response)
    assert response.status_code == 400
    assert "Select an answer to “How big is it?”" in page
    assert "Enter a description of the problem" in page
    assert "This field is required" not in page


def test_a_tampered_choice_names_the_question(client: Client, pothole: Any) -> None:
    page = text(
        client.post(
            "/report/pothole/",
            {"address": "12 Elm Street", "attribute_size": "gigantic", "description": "Hole"},
        )
    )
    assert "Select one of the answers given for “How big is it?”" in page


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/services/?q=", "Enter what you want to report or ask about"),
        ("/track/?reference=", "Enter your reference number"),
        ("/report/pothole/?address=", "Enter an address or the name of a street"),
    ],
)
def test_empty_searches_say_what_to_enter(
    client: Client, pothole: Any, url: str, message: str
) -> None:
    page = text(client.get(url))
    assert message in page and "This field is required" not in page


# --- one spelling per council --------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "shown", "not_shown"),
    [
        ("en", "All programs", "All programmes"),
        ("en-us", "All programs", "All programmes"),
        ("en-gb", "All programmes", "All programs"),
    ],
)
def test_the_council_locale_picks_the_spelling(
    client: Client, settings: Any, code: str, shown: str, not_shown: str
) -> None:
    settings.LANGUAGE_CODE = code
    settings.LANGUAGES = [(code, "English"), ("es", "Español")]
    page = text(client.get("/check/energy_subsidy/", HTTP_ACCEPT_LANGUAGE="en"))
    assert shown in page and not_shown not in page
    spanish = text(client.get("/check/energy_subsidy/", HTTP_ACCEPT_LANGUAGE="es"))
    assert "Todos los programas" in spanish


def test_uk_spelling_reaches_the_report_form_too(
    client: Client, settings: Any, pothole: Any
) -> None:
    from townhall.cases.services import case_open

    settings.LANGUAGE_CODE = "en-gb"
    settings.LANGUAGES = [("en-gb", "English"), ("es", "Español")]
    case_open(
        service_type=pothole, channel="web", answers={"size": "small"}, lat=42.36, long=-71.09
    )
    page = text(client.get("/report/pothole/", {"lat": 42.36, "long": -71.09}))
    assert "metres" in page and "meters" not in page
    assert "acknowledgement" in text(client.get("/track/"))


# --- friendly error pages ------------------------------------------------------------------


def test_the_404_page_is_friendly_bilingual_and_leads_home(
    client: Client, town: Any, settings: Any
) -> None:
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    page = text(response)
    assert response.status_code == 404
    assert 'data-error-page="404"' in page
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in page
    assert "Página no encontrada" in page  # the other language below
    assert 'href="/"' in page and "govuk-footer" in page  # the design system's page
    spanish = text(client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="es"))
    assert '<h1 class="govuk-heading-l">Página no encontrada</h1>' in spanish


def test_the_404_page_never_shows_the_reason_a_view_gave(
    client: Client, town: Any, settings: Any
) -> None:
    settings.DEBUG = False
    response = client.get("/check/no_such_grant_xyz/")
    assert response.status_code == 404
    assert "no_such_grant_xyz" not in response.content.decode().replace(
        "/check/no_such_grant_xyz/", ""
    )


@pytest.mark.urls("tests.portal.error_urls")
def test_the_500_page_is_friendly_bilingual_and_shows_no_trace(town: Any, settings: Any) -> None:
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    response = client.get("/broken/")
    page = text(response)
    assert response.status_code == 500
    assert 'data-error-page="500"' in page
    assert "Sorry, there is a problem with the service" in page
    assert "Lo sentimos, hay un problema con el servicio" in page
    assert 'href="/"' in page
    for leak in ("hunter2", "secret detail", "Traceback", "RuntimeError", "broken_view"):
        assert leak not in page
