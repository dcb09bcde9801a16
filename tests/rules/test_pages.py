"""The portal pages: /check/, /check/<id>/ and /permits/ through the test client."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.urls import reverse

pytestmark = pytest.mark.django_db

ENERGY = "/check/energy_subsidy/"
ELIGIBLE = {
    "lives_in_town": "yes",
    "owner_occupier": "yes",
    "household_size": "2",
    "household_income": "45,000",
    "year_built": "1975",
    "work_type": "insulation",
    "cost": "10000",
}


def text(response: Any) -> str:
    return " ".join(response.content.decode().split())


def test_routes_are_named_in_the_portal_namespace() -> None:
    assert reverse("portal:check") == "/check/"
    assert reverse("portal:check-programme", args=["energy_subsidy"]) == ENERGY
    assert reverse("portal:permits") == "/permits/"


def test_the_list_shows_every_programme(client: Any) -> None:
    page = text(client.get("/check/"))
    for title in [
        "Home energy renovation grant",
        "Council tax reduction",
        "Resident parking permit",
        "Free bulky waste collection",
    ]:
        assert title in page
    assert 'href="/check/energy_subsidy/"' in page


def test_the_form_asks_the_programme_questions_in_the_resident_language(client: Any) -> None:
    page = text(client.get(ENERGY, HTTP_ACCEPT_LANGUAGE="es"))
    assert "¿Cuántas personas viven en su hogar?" in page
    assert 'inputmode="numeric"' in page
    assert 'type="radio"' in page


@time_machine.travel("2026-06-01 12:00Z", tick=False)
def test_an_eligible_result_shows_amount_reasons_source_and_next_steps(client: Any) -> None:
    response = client.post(ENERGY, ELIGIBLE, follow=True)
    page = text(response)
    assert response.status_code == 200
    assert response.redirect_chain == [(ENERGY + "result/", 302)]
    assert 'data-outcome="eligible"' in page
    assert "<strong>$3,500</strong>" in page
    assert "within the limit of $52,000 for 2 people" in page
    assert "What to do next" in page
    assert 'href="https://council.example.org/demo/energy-grant/2026"' in page
    assert "Change your answers" in page and f'href="{ENERGY}"' in page
    assert "45,000" not in response.redirect_chain[0][0]
    # "Change your answers": the questions again, filled in from the answers kept
    assert 'value="45,000"' in text(client.get(ENERGY))


@time_machine.travel("2026-06-01 12:00Z", tick=False)
def test_a_not_eligible_result_explains_the_deciding_condition_in_spanish(client: Any) -> None:
    response = client.post(ENERGY, {"year_built": "2012"}, HTTP_ACCEPT_LANGUAGE="es", follow=True)
    page = text(response)
    assert 'data-outcome="not_eligible"' in page
    assert "(la suya: 2012) ya cumplen la norma energética" in page
    assert "la respuesta no cambiaría el resultado" in page


@time_machine.travel("2026-06-01 12:00Z", tick=False)
def test_need_more_information_lists_the_missing_questions(client: Any) -> None:
    page = text(client.post(ENERGY, {"lives_in_town": "yes"}, follow=True))
    assert 'data-outcome="need_more_information"' in page
    assert "Do you own the home and live in it?" in page
    assert "Answer the remaining questions" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("household_size", "two", "Enter a whole number between 1 and 20"),
        ("household_size", "0", "Enter a whole number between 1 and 20"),
        ("household_income", "lots", "Enter a number, like 1200 or 1200.50 of at least 0"),
        ("work_type", "rocket", "Select a valid choice"),
    ],
)
def test_bad_answers_are_form_errors_not_server_errors(
    client: Any, field: str, value: str, message: str
) -> None:
    response = client.post(ENERGY, {field: value})
    page = text(response)
    assert response.status_code == 400
    assert "There is a problem" in page
    assert message in page
    assert f'href="#id_{field}' in page


def test_an_unknown_programme_is_404(client: Any) -> None:
    assert client.get("/check/no_such_grant/").status_code == 404


@time_machine.travel("2024-06-01 12:00Z", tick=False)
def test_a_programme_not_in_force_says_so(client: Any) -> None:
    response = client.post(ENERGY, {}, follow=True)
    assert response.status_code == 404
    assert "not open at the moment" in text(response)


def answer(client: Any, q: str, choice: str, **extra: str) -> Any:
    data = {"tree": "home_improvements", "q": q, "choice": choice, **extra}
    return client.post("/permits/", data, follow=True)


def test_the_permit_finder_asks_one_question_at_a_time(client: Any) -> None:
    page = text(client.get("/permits/"))
    assert "What do you want to do?" in page
    assert 'name="q" value="what"' in page
    assert 'method="post"' in page
    response = answer(client, "what", "extension")
    page = text(response)
    assert response.redirect_chain == [("/permits/?tree=home_improvements", 302)]
    assert "How big is the extension?" in page
    assert 'name="step" value="1"' in page
    assert 'href="/permits/?tree=home_improvements&amp;step=0" class="govuk-back-link"' in page
    # back: the first question again; answering it afresh replaces the answers after it
    assert "What do you want to do?" in text(client.get("/permits/?tree=home_improvements&step=0"))
    page = text(answer(client, "what", "fence", step="0"))
    assert "Will it be higher than 2 metres" in page


def test_the_permit_finder_ends_with_permits_documents_fees_and_times(client: Any) -> None:
    answer(client, "what", "extension")
    answer(client, "extension_size", "large")
    response = answer(client, "heritage", "yes")
    page = text(response)
    assert "You need 3 permits" in page
    assert "Fees come to $712 in total" in page
    assert "Allow at least 56 days" in page
    assert "A structural engineer" in page
    assert "Free" in page  # heritage consent has no fee
    assert "Is the building listed or in a conservation area?" in page  # the answers summary
    # "Delete my answers now": gone, back to the first question
    page = text(client.post("/permits/", {"tree": "home_improvements", "forget": "1"}, follow=True))
    assert "What do you want to do?" in page


def test_no_permit_needed_is_a_result_too(client: Any) -> None:
    answer(client, "what", "fence")
    page = text(answer(client, "fence_height", "no"))
    assert "You do not need a permit" in page


def test_the_permit_finder_handles_missing_and_tampered_answers(client: Any) -> None:
    response = client.post("/permits/", {"q": "what"})
    assert response.status_code == 400
    assert "Select an answer" in text(response)
    response = client.post("/permits/", {"q": "what", "choice": "paint"})
    assert response.status_code == 400
    assert "Start again" in text(response)
    assert client.get("/permits/", {"tree": "nope"}).status_code == 404
    assert client.get("/permits/", {"step": "x"}).status_code == 200


@time_machine.travel("2026-06-01 12:00Z", tick=False)
def test_a_council_rule_that_breaks_on_some_answers_is_a_form_error(client: Any) -> None:
    import copy

    from tests.rules.test_evaluation import GRANT
    from townhall.rules.services import programme_save

    broken = copy.deepcopy(GRANT)
    broken["versions"][0]["values"] = {"cap": "limit[size]"}  # no row for 3 people
    programme_save(definition=broken)
    response = client.post(
        "/check/grant/", {"resident": "yes", "size": "3", "income": "1"}, follow=True
    )
    assert response.status_code == 422
    assert "We could not check these answers" in text(response)
