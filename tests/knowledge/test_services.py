"""Article services: versions, publishing, review dates, validation and feedback."""

from __future__ import annotations

import datetime as dt

import pytest

from townhall.core.errors import NotFound, ValidationFailed
from townhall.knowledge.models import ArticleFeedback, ArticleStatus, IndexState
from townhall.knowledge.selectors import (
    article_feedback_counts,
    article_get_public,
    articles_due_review,
)
from townhall.knowledge.services import (
    article_create,
    article_feedback_record,
    article_publish,
    article_unpublish,
    article_update,
)

pytestmark = pytest.mark.django_db


def test_a_new_article_is_a_draft_with_its_first_version_and_vectors() -> None:
    article = article_create(title="Bulky waste", body="Book a collection.", tags=["waste"])
    assert article.status == ArticleStatus.DRAFT
    assert article.slug == "bulky-waste"
    assert [v.version for v in article.versions.all()] == [1]
    assert article.embedding is not None
    assert len(bytes(article.embedding)) == 2 * 384 * 4
    with pytest.raises(NotFound):
        article_get_public(slug="bulky-waste")


def test_editing_records_a_version_and_bumps_the_index_generation() -> None:
    article = article_create(title="Bulky waste", body="Book a collection.")
    before = IndexState.objects.get(pk=1).generation
    article = article_update(article_id=article.pk, body="Book online; we collect in 5 days.")
    assert article.version == 2
    versions = list(article.versions.values_list("version", "body"))
    assert versions == [(2, "Book online; we collect in 5 days."), (1, "Book a collection.")]
    assert IndexState.objects.get(pk=1).generation == before + 1


def test_publishing_makes_the_article_public_and_unpublishing_hides_it() -> None:
    article = article_create(title="Bulky waste", body="Book a collection.")
    article_publish(article_id=article.pk)
    assert article_get_public(slug=article.slug).pk == article.pk
    article_unpublish(article_id=article.pk)
    with pytest.raises(NotFound):
        article_get_public(slug=article.slug)
    assert article.versions.count() == 3


def test_articles_past_their_review_date_are_listed_for_review() -> None:
    due = article_create(title="Old", body="x", review_by=dt.date(2026, 1, 1))
    article_create(title="Fresh", body="y", review_by=dt.date(2027, 1, 1))
    article_create(title="Never", body="z")
    assert list(articles_due_review(on=dt.date(2026, 6, 1))) == [due]


def test_an_article_without_title_or_with_bad_tags_is_refused_with_details() -> None:
    with pytest.raises(ValidationFailed) as error:
        article_create(title=" ", body="", tags="waste")  # type: ignore[arg-type]
    assert set(error.value.details) == {"title", "body", "tags"}


def test_unknown_fields_cannot_be_edited() -> None:
    article = article_create(title="A", body="b")
    with pytest.raises(ValidationFailed) as error:
        article_update(article_id=article.pk, embedding=b"")
    assert "embedding" in error.value.details


def test_feedback_is_counted_and_refused_for_drafts() -> None:
    article = article_create(title="A", body="b", publish=True)
    article_feedback_record(article_id=article.pk, helpful=True)
    article_feedback_record(article_id=article.pk, helpful=False, comment="Too short")
    assert article_feedback_counts(article_id=article.pk) == {"yes": 1, "no": 1}
    draft = article_create(title="B", body="c")
    with pytest.raises(NotFound):
        article_feedback_record(article_id=draft.pk, helpful=True)
    assert ArticleFeedback.objects.count() == 2


def test_a_slug_already_in_use_is_refused() -> None:
    article_create(title="Bins", body="x", slug="bins")
    with pytest.raises(ValidationFailed) as error:
        article_create(title="Bins again", body="y", slug="bins")
    assert "slug" in error.value.details
