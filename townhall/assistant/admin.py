"""Admin: conversations read-only with their turns; the examples staff taught editable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from townhall.assistant.models import Conversation, SkillExample, Turn


class TurnInline(admin.TabularInline[Turn, Conversation]):
    model = Turn
    extra = 0
    can_delete = False
    fields = ("created_at", "role", "text", "skill", "confidence", "frustration", "rating")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin[Conversation]):
    # The key is the resident's secret: never shown, never searchable.
    list_display = ["id", "channel", "language", "status", "outcome", "frustration", "created_at"]
    list_filter = ["channel", "status", "outcome", "language"]
    date_hierarchy = "created_at"
    exclude = ["key", "sender_hash", "state"]
    readonly_fields = [
        "channel",
        "language",
        "citizen",
        "status",
        "outcome",
        "agent",
        "frustration",
        "handoff_reason",
        "case",
        "created_at",
        "updated_at",
        "queued_at",
        "taken_at",
        "closed_at",
    ]
    inlines = [TurnInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SkillExample)
class SkillExampleAdmin(admin.ModelAdmin[SkillExample]):
    list_display = ["skill", "language", "text", "active", "created_at"]
    list_filter = ["skill", "language", "active"]
    search_fields = ["text"]
    readonly_fields = ["added_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: SkillExample, form: Any, change: bool) -> None:
        if not change:
            obj.added_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
