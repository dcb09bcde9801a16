from __future__ import annotations

from typing import Any

from django.contrib import admin

from townhall.console.models import CannedResponse, SingleSignOnIdentity


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["title", "department", "public", "active"]
    list_filter = ["department", "public", "active"]
    search_fields = ["title", "body"]


@admin.register(SingleSignOnIdentity)
class SingleSignOnIdentityAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Which provider subject each staff account is bound to; delete a row to re-bind."""

    list_display = ["user", "subject", "bound_at"]
    search_fields = ["user__username", "=subject"]
    readonly_fields = ["user", "subject", "bound_at"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
