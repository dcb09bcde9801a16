"""Admin screens: articles are edited through the services (versions, vectors, index bump);
feedback and the search log are read-only; the gap report clusters unanswered searches."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy

from townhall.knowledge.clustering import gaps_cluster
from townhall.knowledge.models import Article, ArticleFeedback, ArticleVersion, SearchLog
from townhall.knowledge.selectors import gap_threshold, search_gaps
from townhall.knowledge.services import (
    EDITABLE,
    article_admin_fields_set,
    article_create,
    article_update,
)


class ArticleVersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ArticleVersion
    extra = 0
    can_delete = False
    fields = ("version", "status", "title", "edited_by", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("title", "language", "status", "review_by", "version", "helpful", "unhelpful")
    list_filter = ("status", "language")
    search_fields = ("title", "slug", "external_id")
    readonly_fields = ("version", "external_id", "embedding_model", "created_at", "updated_at")
    fields = (
        "title",
        "slug",
        "summary",
        "body",
        "language",
        "tags",
        "service_codes",
        "owner",
        "review_by",
        "status",
        *readonly_fields,
    )
    inlines = [ArticleVersionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        articles: QuerySet[Article] = super().get_queryset(request)
        return articles.annotate(
            yes=Count("feedback", filter=Q(feedback__helpful=True)),
            no=Count("feedback", filter=Q(feedback__helpful=False)),
        )

    @admin.display(description=gettext_lazy("Helpful"))
    def helpful(self, article: Any) -> int:
        return int(getattr(article, "yes", 0))

    @admin.display(description=gettext_lazy("Not helpful"))
    def unhelpful(self, article: Any) -> int:
        return int(getattr(article, "no", 0))

    def save_model(self, request: HttpRequest, obj: Article, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            changes = {k: data[k] for k in form.changed_data if k in EDITABLE}
            saved = obj
            if changes:
                saved = article_update(article_id=obj.pk, editor=request.user, **changes)
            if "status" in form.changed_data or "owner" in form.changed_data:
                saved = article_admin_fields_set(
                    article_id=obj.pk,
                    status=data["status"],
                    owner=data["owner"],
                    editor=request.user,
                )
        else:
            saved = article_create(
                title=data["title"],
                body=data["body"],
                summary=data["summary"],
                language=data["language"],
                tags=data["tags"] or [],
                service_codes=data["service_codes"] or [],
                review_by=data["review_by"],
                owner=data["owner"],
                publish=data["status"] == "published",
                slug=data["slug"],
            )
        obj.pk = saved.pk


@admin.register(ArticleFeedback)
class ArticleFeedbackAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("article", "helpful", "comment", "created_at")
    list_filter = ("helpful",)
    readonly_fields = ("article", "helpful", "comment", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SearchLog)
class SearchLogAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("query", "source", "top_score", "top_article", "answered", "created_at")
    list_filter = ("answered", "source", "language")
    search_fields = ("query",)
    change_list_template = "admin/knowledge/searchlog/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        gaps = path(
            "gaps/", self.admin_site.admin_view(self.gaps_view), name="knowledge_searchlog_gaps"
        )
        return [gaps, *super().get_urls()]

    def gaps_view(self, request: HttpRequest) -> HttpResponse:
        """The content-gap report: unanswered searches and questions, clustered."""
        queries = [log.query for log in search_gaps(limit=500)]
        context = {
            **self.admin_site.each_context(request),
            "title": "Content gaps",
            "clusters": gaps_cluster(queries),
            "threshold": gap_threshold(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/knowledge/gaps.html", context)
