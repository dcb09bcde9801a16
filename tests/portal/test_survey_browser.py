"""The survey page in headless Chromium, checked with axe (WCAG 2.2 AA), and without
JavaScript."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.browser import assert_accessible
from tests.experience.conftest import resolved_for
from townhall.experience.models import Survey
from townhall.notify.links import survey_token
from townhall.people.services import citizen_resolve

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_resident_answers_the_survey_with_every_page_accessible(
    live_server: Any, page: Any, pothole: Any, resident: Any, caseworker: Any, settings: Any
) -> None:
    settings.TOWNHALL_EXPERIENCE = settings.TOWNHALL_EXPERIENCE._replace(nps_share=1.0)
    case = resolved_for(pothole, resident, caseworker)
    url = f"{live_server.url}/survey/{survey_token(case_id=case.pk)}/"
    page.goto(url)
    assert page.get_by_role("heading", name="How did we do?").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Send my answer").click()  # nothing chosen
    assert "Choose how satisfied you are" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.get_by_label("4 – Satisfied").check()
    page.get_by_role("group", name="How likely").get_by_label("9", exact=True).check()
    page.get_by_label("Anything you would like to tell us?").fill("Quick, thank you")
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_url("**/thanks/")
    assert page.get_by_role("heading", name="Thank you for your answer").is_visible()
    assert_accessible(page)
    survey = Survey.objects.get(case=case)
    assert (survey.csat, survey.nps, survey.comment) == (4, 9, "Quick, thank you")
    page.goto(url)
    assert page.get_by_role("heading", name="You have already answered").is_visible()
    assert_accessible(page)
    page.goto(f"{live_server.url}/survey/{'a' * 32}/")
    assert page.get_by_role("heading", name="This survey link does not work").is_visible()
    assert_accessible(page)


def test_the_spanish_survey_works_without_javascript(
    browser: Any, live_server: Any, pothole: Any, caseworker: Any
) -> None:
    lucia = citizen_resolve(name="Lucía", email="lucia@example.org", language="es")
    case = resolved_for(pothole, lucia, caseworker)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server.url}/survey/{survey_token(case_id=case.pk)}/")
        assert page.get_by_role("heading", name="¿Qué tal lo hicimos?").is_visible()
        page.get_by_label("2 – Insatisfecho").check()
        page.get_by_label("No volver a pedirme mi opinión").check()
        page.get_by_role("button", name="Enviar mi respuesta").click()
        page.wait_for_url("**/thanks/")
        assert "Gracias por su respuesta" in page.content()
        assert Survey.objects.get(case=case).csat == 2
    finally:
        context.close()
