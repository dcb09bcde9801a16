"""Eligibility checker: "Change your answers" and "Answer the remaining questions" come
back with the answers given so far, kept server-side (never in a URL)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.test import Client

from townhall.rules.selectors import rules_cache_clear

pytestmark = pytest.mark.django_db
ENERGY = "/check/energy_subsidy/"
SOME = {"lives_in_town": "yes", "household_size": "3", "household_income": "41234"}


@pytest.fixture(autouse=True)
def _fresh_rules() -> Any:
    rules_cache_clear()
    yield
    rules_cache_clear()


def _checked(html: str, name: str) -> str | None:
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and " checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
    return None


def _value(html: str, name: str) -> str | None:
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag:
            found = re.search(r'value="([^"]*)"', tag)
            return found.group(1) if found else None
    return None


@time_machine.travel("2026-06-01 12:00Z", tick=False)
def test_answer_the_remaining_questions_keeps_what_was_answered(client: Client) -> None:
    result = client.post(ENERGY, SOME, follow=True)
    html = result.content.decode()
    assert 'data-outcome="need_more_information"' in html
    link = re.search(r'href="([^"]*)">Answer the remaining questions', html)
    assert link is not None
    # the link carries no answer, only where to land: the first question still open
    assert link.group(1) == ENERGY + "#id_owner_occupier_0"
    form = client.get(link.group(1).split("#")[0]).content.decode()
    assert _checked(form, "lives_in_town") == "yes"
    assert _value(form, "household_size") == "3"
    assert _value(form, "household_income") == "41234"
    assert _checked(form, "owner_occupier") is None  # still to answer


@time_machine.travel("2026-06-01 12:00Z", tick=False)
def test_change_your_answers_then_answering_the_rest_keeps_both(client: Client) -> None:
    client.post(ENERGY, SOME)
    rest = {
        **SOME,
        "owner_occupier": "yes",
        "year_built": "1975",
        "work_type": "insulation",
        "cost": "10000",
    }
    result = client.post(ENERGY, rest, follow=True)
    assert 'data-outcome="eligible"' in result.content.decode()
    form = client.get(ENERGY).content.decode()  # "Change your answers"
    assert _checked(form, "owner_occupier") == "yes"
    assert _checked(form, "work_type") == "insulation"
    assert _value(form, "year_built") == "1975"
    assert _value(form, "household_income") == "41234"


@time_machine.travel("2026-06-01 12:00Z", tick=False)
def test_no_answer_is_in_a_url(client: Client) -> None:
    result = client.post(ENERGY, SOME, follow=True)
    urls = [url for url, _status in result.redirect_chain]
    urls += re.findall(r'href="([^"]*)"', result.content.decode())
    assert urls and not [u for u in urls if "41234" in u or "household" in u]


def test_forgetting_the_answers_brings_a_blank_form(client: Client) -> None:
    client.post(ENERGY, SOME)
    client.post(ENERGY, {"forget": "1"})
    form = client.get(ENERGY).content.decode()
    assert _value(form, "household_income") == ""
    assert _checked(form, "lives_in_town") is None


def test_another_browser_does_not_see_the_answers(client: Client) -> None:
    client.post(ENERGY, SOME)
    stranger = Client()
    form = stranger.get(ENERGY).content.decode()
    assert _value(form, "household_income") == ""
