"""Help articles, their version history, reader feedback and the search log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Article(models.Model):
    slug = models.SlugField(max_length=120, unique=True)
    external_id = models.CharField(max_length=100, blank=True, db_index=True)
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    body = models.TextField(help_text=_("Markdown; raw HTML is not rendered."))
    language = models.CharField(max_length=10, default="en")
    tags = models.JSONField(default=list, blank=True)
    service_codes = models.JSONField(
        default=list, blank=True, help_text=_("Codes of related service types.")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    review_by = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    version = models.PositiveIntegerField(default=1)
    # float32 vectors of the title and the body, side by side, so no process re-encodes them.
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["status", "language"], name="knowledge_article_status")]

    def __str__(self) -> str:
        return self.title


class ArticleVersion(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    body = models.TextField()
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=ArticleStatus.choices)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["article", "version"], name="knowledge_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.version}"


class ArticleFeedback(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.article_id}: {'yes' if self.helpful else 'no'}"


class SearchSource(models.TextChoices):
    SEARCH = "search", _("Help search")
    ASSISTANT = "assistant", _("Assistant question")


class SearchLog(models.Model):
    query = models.CharField(max_length=500)
    language = models.CharField(max_length=10, blank=True)
    source = models.CharField(
        max_length=10, choices=SearchSource.choices, default=SearchSource.SEARCH
    )
    top_score = models.FloatField(null=True, blank=True)
    top_article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL)
    answered = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.query


class IndexState(models.Model):
    """One row: a counter every article change bumps, so processes know to reload."""

    generation = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"generation {self.generation}"
