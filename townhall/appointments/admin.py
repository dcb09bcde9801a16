"""Council screens: offices, services that need a meeting, slot templates, slots and
appointments. Bookings change only through the portal and the console (the seat counter
and the messages go with them), so appointments and slot counters are read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from townhall.appointments.models import Appointment, MeetingService, Office, Slot, SlotTemplate


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin[Office]):
    list_display = ["name", "jurisdiction", "address", "calendar", "active"]
    list_filter = ["active", "jurisdiction"]
    search_fields = ["name", "address"]


# Video-room links without a scheme are read as https:// (Django 6's default).
_URLS: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}


class SlotTemplateInline(admin.TabularInline[SlotTemplate, MeetingService]):
    model = SlotTemplate
    formfield_overrides = _URLS
    extra = 0
    fields = [
        "office",
        "staff",
        "weekday",
        "starts",
        "ends",
        "slot_minutes",
        "capacity",
        "mode",
        "active",
    ]


@admin.register(MeetingService)
class MeetingServiceAdmin(admin.ModelAdmin[MeetingService]):
    list_display = ["service_type", "programme", "book_days_ahead", "min_notice_hours", "active"]
    list_filter = ["active"]
    inlines = [SlotTemplateInline]


@admin.register(SlotTemplate)
class SlotTemplateAdmin(admin.ModelAdmin[SlotTemplate]):
    formfield_overrides = _URLS
    list_display = [
        "office",
        "service",
        "weekday",
        "starts",
        "ends",
        "slot_minutes",
        "capacity",
        "mode",
        "staff",
        "active",
    ]
    list_filter = ["office", "service", "weekday", "mode", "active"]


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin[Slot]):
    list_display = ["starts_at", "office", "service", "mode", "booked", "capacity", "withdrawn"]
    list_filter = ["office", "service", "withdrawn"]
    date_hierarchy = "starts_at"
    readonly_fields = ["template", "office", "service", "starts_at", "ends_at", "mode", "booked"]
    fields = [*readonly_fields, "staff", "capacity", "withdrawn"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin[Appointment]):
    list_display = ["slot", "seat", "case", "status", "version", "created_at"]
    list_filter = ["status", "slot__office"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Appointment._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
