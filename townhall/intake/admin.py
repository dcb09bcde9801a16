"""Admin screens: inbound messages (read-only audit), partner webhooks, triage models."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from townhall.cases.access import access_cases
from townhall.intake import models as m


class CaseScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Rows about a case are shown only to staff who may see the case (cases.access), as in
    the console; rows about no case only to council admins."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        user: Any = request.user
        if user.is_superuser:
            return qs
        return qs.filter(case__in=access_cases(user))


class AttachmentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = m.InboundAttachment
    extra = 0
    can_delete = False
    fields = ["filename", "content_type", "size", "inline", "file"]
    readonly_fields = ["filename", "content_type", "size", "inline", "file"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(m.InboundMessage)
class InboundMessageAdmin(CaseScopedAdmin):
    """Everything that arrived, as it arrived: for audit and for finding a lost request."""

    list_display = ["received_at", "channel", "sender_key", "subject", "outcome", "case"]
    list_filter = ["channel", "outcome", "source"]
    search_fields = ["sender_key", "subject", "text", "external_id", "thread_hint"]
    date_hierarchy = "received_at"
    list_select_related = ["case"]
    inlines = [AttachmentInline]
    readonly_fields = [f.name for f in m.InboundMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(m.WebhookSource)
class WebhookSourceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "slug", "channel", "active", "created_at"]
    list_filter = ["active", "channel"]
    prepopulated_fields = {"slug": ["name"]}

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"secret": secrets.token_urlsafe(32)}


@admin.register(m.TriageModel)
class TriageModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Trained classifiers: which one is active, and how well each scored."""

    list_display = ["name", "created_at", "rows", "label_count", "macro_f1", "active"]
    list_filter = ["active"]
    fields = ["name", "created_at", "rows", "labels", "metrics", "active", "trained_by"]
    readonly_fields = ["created_at", "rows", "labels", "metrics", "trained_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # models come from `townhall triage train`

    @admin.display(description=_("Services"))
    def label_count(self, obj: m.TriageModel) -> int:
        return len(obj.labels or [])

    @admin.display(description=_("Macro-F1"))
    def macro_f1(self, obj: m.TriageModel) -> str:
        value = (obj.metrics or {}).get("macro_f1")
        return f"{value:.3f}" if isinstance(value, int | float) else "–"


@admin.register(m.TriageReview)
class TriageReviewAdmin(CaseScopedAdmin):
    list_display = ["case", "confidence", "status", "created_at", "decided_by"]
    list_filter = ["status"]
    raw_id_fields = ["case"]
    readonly_fields = ["suggestions", "confidence", "created_at", "decided_at", "decided_by"]


@admin.register(m.DuplicateSuggestion)
class DuplicateSuggestionAdmin(CaseScopedAdmin):
    list_display = ["case", "candidate", "score", "distance_m", "similarity", "status"]
    list_filter = ["status"]
    raw_id_fields = ["case", "candidate"]
