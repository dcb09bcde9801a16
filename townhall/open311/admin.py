"""Admin: issue and revoke Open311 API keys (the secret is shown once, at creation)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from townhall.open311.keys import api_key_cache_clear, api_key_issue
from townhall.open311.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "prefix", "contact", "requests_per_minute", "created_at", "revoked_at"]
    fields = ["name", "contact", "requests_per_minute", "revoked_at"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            api_key_cache_clear()  # this process at once; the others within 30 seconds
            return
        key, secret = api_key_issue(
            name=obj.name, contact=obj.contact, requests_per_minute=obj.requests_per_minute
        )
        obj.pk = key.pk
        self.message_user(
            request,
            f"API key for {key.name}: {secret} (copy it now: it is not shown again)",
            messages.WARNING,
        )
