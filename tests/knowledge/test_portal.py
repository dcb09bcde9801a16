"""Portal help pages through the test client: list, search, article, feedback."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from townhall.knowledge.models import ArticleFeedback, SearchLog
from townhall.knowledge.services import article_create

pytestmark = pytest.mark.django_db


def test_the_help_page_lists_published_articles_only(
    client: Client, town: Any, help_articles: list[Any]
) -> None:
    article_create(title="Unreleased draft", body="x")
    response = client.get(reverse("portal:help"))
    assert response.status_code == 200
    assert "When is my bin collected?" in response.text
    assert "Unreleased draft" not in response.text


def test_a_search_shows_results_and_is_logged(
    client: Client, town: Any, help_articles: list[Any]
) -> None:
    response = client.get(reverse("portal:help"), {"q": "what day do the rubbish trucks come"})
    assert response.status_code == 200
    assert response.text.index("When is my bin collected?") < response.text.index("Library")
    log = SearchLog.objects.get()
    assert log.top_article == help_articles[0]
    assert log.answered


def test_an_off_topic_search_is_logged_as_a_gap(
    client: Client, town: Any, help_articles: list[Any]
) -> None:
    client.get(reverse("portal:help"), {"q": "quantum chromodynamics lecture"})
    assert SearchLog.objects.get().answered is False


def test_an_empty_search_is_a_form_error_not_a_crash(client: Client, town: Any) -> None:
    response = client.get(reverse("portal:help"), {"q": ""})
    assert response.status_code == 400
    assert "Enter what you are looking for" in response.text


def test_an_article_renders_its_markdown_safely(client: Client, town: Any) -> None:
    article = article_create(
        title="Tips", body="**Recycle** glass.\n\n<script>alert(1)</script>", publish=True
    )
    response = client.get(reverse("portal:help-article", args=[article.slug]))
    assert response.status_code == 200
    assert "<strong>Recycle</strong>" in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert "Was this page helpful?" in response.text


def test_a_draft_or_unknown_article_is_not_found(client: Client, town: Any) -> None:
    draft = article_create(title="Draft", body="x")
    assert client.get(reverse("portal:help-article", args=[draft.slug])).status_code == 404
    assert client.get(reverse("portal:help-article", args=["nope"])).status_code == 404
    url = reverse("portal:help-feedback", args=[draft.slug])
    assert client.post(url, {"helpful": "yes"}).status_code == 404


def test_feedback_is_recorded_and_thanked(client: Client, town: Any) -> None:
    article = article_create(title="Tips", body="Recycle glass.", publish=True)
    url = reverse("portal:help-feedback", args=[article.slug])
    response = client.post(url, {"helpful": "no", "comment": "Which bin?"}, follow=True)
    assert response.status_code == 200
    assert "Thank you for your feedback" in response.text
    feedback = ArticleFeedback.objects.get()
    assert (feedback.helpful, feedback.comment) == (False, "Which bin?")


def test_feedback_without_an_answer_shows_an_error(client: Client, town: Any) -> None:
    article = article_create(title="Tips", body="Recycle glass.", publish=True)
    url = reverse("portal:help-feedback", args=[article.slug])
    response = client.post(url, {"helpful": "maybe"})
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert not ArticleFeedback.objects.exists()


def test_a_get_on_the_feedback_url_is_refused(client: Client, town: Any) -> None:
    article = article_create(title="Tips", body="Recycle glass.", publish=True)
    response = client.get(reverse("portal:help-feedback", args=[article.slug]))
    assert response.status_code == 405


def test_staff_see_the_gap_report_in_the_admin(admin_client: Client) -> None:
    SearchLog.objects.create(query="dog fouling fines", answered=False)
    response = admin_client.get(reverse("admin:knowledge_searchlog_gaps"))
    assert response.status_code == 200
    assert "dog fouling fines" in response.text
    assert admin_client.get(reverse("admin:knowledge_article_changelist")).status_code == 200


def test_staff_add_and_edit_articles_in_the_admin_with_versions(admin_client: Client) -> None:
    from townhall.knowledge.models import Article

    add = reverse("admin:knowledge_article_add")
    form = {
        "title": "Bulky waste",
        "slug": "bulky-waste",
        "summary": "",
        "body": "Book a collection.",
        "language": "en",
        "tags": '["waste"]',
        "service_codes": "[]",
        "status": "draft",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    }
    response = admin_client.post(add, form)
    assert response.status_code == 302, response.content
    article = Article.objects.get()
    change = reverse("admin:knowledge_article_change", args=[article.pk])
    response = admin_client.post(change, {**form, "body": "Book online.", "status": "published"})
    assert response.status_code == 302, response.content
    article.refresh_from_db()
    assert (article.body, article.status, article.version) == ("Book online.", "published", 3)
    assert article.embedding is not None
    assert "Bulky waste" in admin_client.get(change).text
