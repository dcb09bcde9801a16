from __future__ import annotations

from django.contrib import admin

from townhall.console.models import CannedResponse


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["title", "department", "public", "active"]
    list_filter = ["department", "public", "active"]
    search_fields = ["title", "body"]
