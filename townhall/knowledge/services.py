"""Writes of the knowledge app: each public function is one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils.text import slugify

from townhall.core.errors import NotFound, ValidationFailed
from townhall.knowledge.embeddings import (
    article_vector_text,
    embedder_get,
    texts_encode,
    vectors_pack,
    vectors_tag,
)
from townhall.knowledge.importing import article_rows
from townhall.knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleStatus,
    ArticleVersion,
    IndexState,
    SearchLog,
    SearchSource,
)

EDITABLE = ("title", "summary", "body", "language", "tags", "service_codes", "review_by")


def _index_bump() -> None:
    updated = IndexState.objects.filter(pk=1).update(generation=F("generation") + 1)
    if not updated:
        IndexState.objects.get_or_create(pk=1, defaults={"generation": 1})


def _embed(articles: list[Article]) -> None:
    embedder = embedder_get()
    if embedder is None or not articles:
        return
    titles = texts_encode(embedder, [a.title for a in articles])
    wholes = texts_encode(
        embedder,
        [article_vector_text(title=a.title, summary=a.summary, body=a.body) for a in articles],
    )
    for article, title, whole in zip(articles, titles, wholes, strict=True):
        article.embedding = vectors_pack(title, whole)
        article.embedding_model = vectors_tag(embedder)


def _validate(fields: Mapping[str, Any]) -> None:
    problems: dict[str, list[str]] = {}
    if not str(fields.get("title", "")).strip():
        problems["title"] = ["Enter a title."]
    if not str(fields.get("body", "")).strip():
        problems["body"] = ["Enter the article text."]
    for name in ("tags", "service_codes"):
        value = fields.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems[name] = ["Give a list of strings."]
    review_by = fields.get("review_by")
    if review_by is not None and not isinstance(review_by, dt.date):
        problems["review_by"] = ["Give a date."]
    if problems:
        raise ValidationFailed("The article is not valid.", details=problems)


def _unique_slug(title: str, *, exclude: int | None = None) -> str:
    base = slugify(title)[:100] or "article"
    slug, n = base, 1
    others = Article.objects.exclude(pk=exclude) if exclude is not None else Article.objects
    while others.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _version_record(article: Article, editor: Any) -> None:
    ArticleVersion.objects.create(
        article=article,
        version=article.version,
        title=article.title,
        summary=article.summary,
        body=article.body,
        tags=article.tags,
        status=article.status,
        edited_by=editor,
    )


@transaction.atomic
def article_create(
    *,
    title: str,
    body: str,
    summary: str = "",
    language: str = "en",
    tags: list[str] | None = None,
    service_codes: list[str] | None = None,
    review_by: dt.date | None = None,
    owner: Any = None,
    publish: bool = False,
    external_id: str = "",
    slug: str = "",
) -> Article:
    """Create an article (draft unless `publish`), its first version and its vectors.

    Raise ValidationFailed if a field is missing or malformed.
    """
    fields = {"title": title, "body": body, "tags": tags or [], "review_by": review_by}
    fields["service_codes"] = service_codes or []
    _validate(fields)
    if slug and Article.objects.filter(slug=slugify(slug)).exists():
        raise ValidationFailed(
            "The article is not valid.", details={"slug": ["Another article uses this slug."]}
        )
    article = Article(
        title=title.strip(),
        body=body,
        summary=summary,
        language=language,
        tags=tags or [],
        service_codes=service_codes or [],
        review_by=review_by,
        owner=owner,
        external_id=external_id,
        slug=slugify(slug) or _unique_slug(title),
        status=ArticleStatus.PUBLISHED if publish else ArticleStatus.DRAFT,
    )
    _embed([article])
    article.save()
    _version_record(article, owner)
    _index_bump()
    return article


@transaction.atomic
def article_update(*, article_id: int, editor: Any = None, **changes: Any) -> Article:
    """Change an article's editable fields, record a new version and re-index it.

    Raise NotFound if there is no such article; ValidationFailed if a change is invalid.
    """
    article = Article.objects.select_for_update().filter(pk=article_id).first()
    if article is None:
        raise NotFound("No such article.")
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed(
            "Unknown fields.", details={name: ["Not editable."] for name in unknown}
        )
    current = {name: getattr(article, name) for name in EDITABLE}
    _validate({**current, **changes})
    for name, value in changes.items():
        setattr(article, name, value)
    article.version += 1
    if {"title", "summary", "body"} & set(changes):
        _embed([article])
    article.save()
    _version_record(article, editor)
    _index_bump()
    return article


def _status_set(article_id: int, status: str, editor: Any) -> Article:
    article = Article.objects.select_for_update().filter(pk=article_id).first()
    if article is None:
        raise NotFound("No such article.")
    if article.status != status:
        article.status = status
        article.version += 1
        article.save(update_fields=["status", "version", "updated_at"])
        _version_record(article, editor)
        _index_bump()
    return article


@transaction.atomic
def article_publish(*, article_id: int, editor: Any = None) -> Article:
    """Publish an article so it appears on /help/ and in search. Raise NotFound if absent."""
    return _status_set(article_id, ArticleStatus.PUBLISHED, editor)


@transaction.atomic
def article_unpublish(*, article_id: int, editor: Any = None) -> Article:
    """Return an article to draft. Raise NotFound if absent."""
    return _status_set(article_id, ArticleStatus.DRAFT, editor)


@transaction.atomic
def article_feedback_record(*, article_id: int, helpful: bool, comment: str = "") -> None:
    """Record a reader's "Was this helpful?" answer. Raise NotFound for a non-public article."""
    article = Article.objects.filter(pk=article_id, status=ArticleStatus.PUBLISHED).first()
    if article is None:
        raise NotFound("No such article.")
    ArticleFeedback.objects.create(article=article, helpful=helpful, comment=comment[:2000])


@transaction.atomic
def search_record(
    *,
    query: str,
    top_score: float | None,
    top_article_id: int | None,
    answered: bool,
    language: str = "",
    source: str = SearchSource.SEARCH,
) -> None:
    """Log one search (or assistant question) with how well it was answered."""
    SearchLog.objects.create(
        query=query[:500],
        language=language,
        source=source,
        top_score=top_score,
        top_article_id=top_article_id,
        answered=answered,
    )


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


@transaction.atomic
def articles_import(
    *,
    rows: Iterable[Mapping[str, Any]],
    publish: bool = True,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 32,
) -> ImportResult:
    """Create or update articles keyed by their external `id`, embedding them in batches.

    Raise ValidationFailed (nothing imported) if a row lacks a field or has a bad value.
    """
    rows = [row.model_dump() for row in article_rows(list(rows))]
    existing = {
        a.external_id: a
        for a in Article.objects.filter(external_id__in=[str(r["id"]) for r in rows])
    }
    created = updated = 0
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        batch: list[Article] = []
        for row in chunk:
            external_id = str(row["id"])
            article = existing.get(external_id)
            if article is None:
                article = Article(
                    external_id=external_id,
                    slug=_unique_slug(f"{row['title']}"[:80] + f" {external_id}"),
                    status=ArticleStatus.PUBLISHED if publish else ArticleStatus.DRAFT,
                )
                created += 1
            else:
                article.version += 1
                updated += 1
            article.title = str(row["title"]).strip()[:300]
            article.body = str(row["body"])
            article.language = str(row.get("language") or "en")
            article.tags = [str(t) for t in row.get("tags") or []]
            batch.append(article)
        _embed(batch)
        for article in batch:
            article.save()
            _version_record(article, None)
        if progress is not None:
            progress(len(chunk))
    _index_bump()
    return ImportResult(created=created, updated=updated)


@transaction.atomic
def article_admin_fields_set(
    *, article_id: int, status: str, owner: Any, editor: Any = None
) -> Article:
    """Set an article's status and owner from the admin. Raise NotFound if absent."""
    article = _status_set(article_id, status, editor)
    if article.owner_id != getattr(owner, "pk", None):
        article.owner = owner
        article.save(update_fields=["owner", "updated_at"])
    return article


@transaction.atomic
def articles_reembed(*, every: bool = False, batch_size: int = 32) -> int:
    """Encode again the articles whose vectors are missing or of another model or layout
    (all of them with `every`), and return how many. Without the model, encode nothing.

    Vectors are written with `update` (no new version: the text did not change); the index
    generation moves on so every process reloads them.
    """
    embedder = embedder_get()
    if embedder is None:
        return 0
    articles = Article.objects.order_by("pk")
    if not every:
        articles = articles.filter(Q(embedding=None) | ~Q(embedding_model=vectors_tag(embedder)))
    done = 0
    pks = list(articles.values_list("pk", flat=True))
    for start in range(0, len(pks), batch_size):
        batch = list(Article.objects.filter(pk__in=pks[start : start + batch_size]))
        _embed(batch)
        for article in batch:
            Article.objects.filter(pk=article.pk).update(
                embedding=article.embedding, embedding_model=article.embedding_model
            )
        done += len(batch)
    if done:
        _index_bump()
    return done
