"""The survey page a resolution e-mail links to: /survey/<token>/ (works without JavaScript)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.experience.conftest import resolved_for
from townhall.experience.models import SupervisorFlag, Survey
from townhall.notify.links import survey_token
from townhall.people.models import ConsentRecord
from townhall.people.services import citizen_resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(pothole: Any, resident: Any, caseworker: Any) -> Any:
    return resolved_for(pothole, resident, caseworker)


def url(case: Any) -> str:
    return f"/survey/{survey_token(case_id=case.pk)}/"


def test_the_link_opens_the_question_in_the_residents_language(
    client: Client, resolved: Any
) -> None:
    response = client.get(url(resolved))
    assert response.status_code == 200
    page = response.content.decode()
    assert "How did we do?" in page and resolved.reference in page
    assert 'type="radio" value="5"' in page and 'name="comment"' in page
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    )


def test_a_spanish_reporter_gets_the_page_in_spanish(
    client: Client, pothole: Any, caseworker: Any
) -> None:
    lucia = citizen_resolve(name="Lucía", email="lucia@example.org", language="es")
    case = resolved_for(pothole, lucia, caseworker)
    page = client.get(url(case)).content.decode()
    assert '<html lang="es"' in page
    assert "¿Qué tal lo hicimos?" in page and "Bache" in page
    assert "How did we do?" not in page


def test_answering_shows_thanks_and_a_second_visit_says_already_answered(
    client: Client, resolved: Any
) -> None:
    response = client.post(url(resolved), {"csat": "4", "comment": "Good job"})
    assert response.status_code == 302 and response["Location"].endswith("/thanks/")
    assert "Thank you for your answer" in client.get(response["Location"]).content.decode()
    survey = Survey.objects.get(case=resolved)
    assert (survey.csat, survey.comment, survey.answered_via) == (4, "Good job", "web")
    again = client.get(url(resolved))
    assert "You have already answered" in again.content.decode()
    second = client.post(url(resolved), {"csat": "1"})
    assert "You have already answered" in second.content.decode()
    assert Survey.objects.get(case=resolved).csat == 4
    assert not SupervisorFlag.objects.exists()


def test_a_low_score_from_the_page_opens_a_follow_up(client: Client, resolved: Any) -> None:
    client.post(url(resolved), {"csat": "1"})
    assert SupervisorFlag.objects.filter(case=resolved, kind="low_score").exists()


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "Choose how satisfied you are"),
        ({"csat": "9"}, "Select a valid choice"),
        ({"csat": "3", "comment": "x" * 2001}, "under 2000 characters"),
    ],
)
def test_bad_answers_get_an_error_summary_not_a_500(
    client: Client, resolved: Any, form: dict[str, str], message: str
) -> None:
    response = client.post(url(resolved), form)
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page and message in page
    assert Survey.objects.get(case=resolved).answered_at is None


def test_nps_is_on_the_page_only_for_the_sample(
    client: Client, pothole: Any, resident: Any, caseworker: Any, settings: Any
) -> None:
    settings.TOWNHALL_EXPERIENCE = settings.TOWNHALL_EXPERIENCE._replace(nps_share=0.0)
    plain = resolved_for(pothole, resident, caseworker)
    assert 'name="nps"' not in client.get(url(plain)).content.decode()
    settings.TOWNHALL_EXPERIENCE = settings.TOWNHALL_EXPERIENCE._replace(nps_share=1.0)
    sampled = resolved_for(pothole, resident, caseworker)
    assert 'name="nps"' in client.get(url(sampled)).content.decode()
    client.post(url(sampled), {"csat": "5", "nps": "10"})
    assert Survey.objects.get(case=sampled).nps == 10


@pytest.mark.parametrize("token", ["nothing", "a" * 32, "%3Cscript%3E", "A" * 32, "x" * 300])
def test_an_unknown_token_gets_the_same_friendly_404(
    client: Client, resolved: Any, token: str
) -> None:
    for response in (
        client.get(f"/survey/{token}/"),
        client.post(f"/survey/{token}/", {"csat": "5"}),
    ):
        assert response.status_code == 404
        page = response.content.decode()
        assert "This survey link does not work" in page
        assert resolved.reference not in page
    assert Survey.objects.get(case=resolved).answered_at is None


def test_the_done_page_of_another_token_or_outcome_is_a_404(client: Client, resolved: Any) -> None:
    assert client.get(f"/survey/{'b' * 32}/thanks/").status_code == 404
    assert client.get(url(resolved) + "whatever/").status_code == 404
    # Thanks before answering goes back to the question.
    assert client.get(url(resolved) + "thanks/")["Location"] == url(resolved)


def test_a_comment_with_a_script_is_shown_as_text(client: Client, resolved: Any) -> None:
    response = client.post(url(resolved), {"csat": "9", "comment": "<script>alert(1)</script>"})
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_dont_ask_again_records_the_withdrawal(client: Client, resolved: Any) -> None:
    response = client.post(url(resolved), {"opt_out": "on"})
    assert response["Location"].endswith("/opted-out/")
    assert "We will not ask you again" in client.get(response["Location"]).content.decode()
    record = ConsentRecord.objects.get(citizen=resolved.reporter)
    assert (record.purpose, record.granted, record.channel) == ("surveys", False, "web")
    assert Survey.objects.get(case=resolved).answered_at is None


def test_answer_and_opt_out_together(client: Client, resolved: Any) -> None:
    client.post(url(resolved), {"csat": "5", "opt_out": "on"})
    assert Survey.objects.get(case=resolved).csat == 5
    assert ConsentRecord.objects.filter(citizen=resolved.reporter, granted=False).exists()


def test_posts_are_rate_limited(client: Client, resolved: Any, settings: Any) -> None:
    from townhall.core.ratelimit import rate_limits_reset

    settings.TOWNHALL_RATE_LIMITS_ENABLED = True
    settings.TOWNHALL_RATE_LIMITS = {**settings.TOWNHALL_RATE_LIMITS, "resident_case": "3/minute"}
    rate_limits_reset()
    codes = [client.post(f"/survey/{'c' * 32}/", {"csat": "5"}).status_code for _ in range(5)]
    assert codes[:3] == [404, 404, 404] and codes[3:] == [429, 429]
