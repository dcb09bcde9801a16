"""Admin screens: fees are edited here; payments and provider events are read only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from townhall.payments.models import Fee, Payment, ProviderEvent, Reconciliation


@admin.register(Fee)
class FeeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "service_type", "permit", "kind", "amount_minor", "currency", "active")
    list_filter = ("kind", "active", "currency")
    search_fields = ("name", "programme", "permit")


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(_ReadOnly):
    list_display = ("reference", "case", "amount_minor", "currency", "state", "provider")
    list_filter = ("state", "provider", "currency")
    search_fields = ("reference", "session_id")
    exclude = ("token_hash", "receipt_email")


@admin.register(ProviderEvent)
class ProviderEventAdmin(_ReadOnly):
    list_display = ("event_id", "provider", "kind", "outcome", "received_at")
    list_filter = ("provider", "kind", "outcome")
    search_fields = ("event_id",)


@admin.register(Reconciliation)
class ReconciliationAdmin(_ReadOnly):
    list_display = ("day", "provider", "checked", "ran_at")
