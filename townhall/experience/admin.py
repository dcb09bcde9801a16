"""Admin: survey answers read-only (staff read them; nobody edits a resident's answer)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from townhall.experience.models import Survey


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin[Survey]):
    # The token is a bearer secret: only its hash is stored, and it is not shown.
    list_display = ["case", "channel", "language", "csat", "nps", "comment_tone", "answered_at"]
    list_filter = ["channel", "language", "csat", "ask_nps", "answered_via"]
    date_hierarchy = "sent_at"
    search_fields = ["case__id"]
    list_select_related = ["case"]
    fields = (
        "case",
        "channel",
        "language",
        "ask_nps",
        "sent_at",
        "answered_at",
        "answered_via",
        "csat",
        "nps",
        "comment",
        "comment_tone",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
