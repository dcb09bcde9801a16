"""Council screens: settings (country, holiday rule), streams, zones with rules, overrides."""

from __future__ import annotations

from django.contrib import admin

from townhall.waste.models import (
    CollectionOverride,
    CollectionRule,
    Stream,
    WasteConfig,
    WasteReminder,
    Zone,
)


@admin.register(WasteConfig)
class WasteConfigAdmin(admin.ModelAdmin[WasteConfig]):
    list_display = ["country", "subdivision", "holiday_rule", "crews_done_by", "reminder_at"]


@admin.register(Stream)
class StreamAdmin(admin.ModelAdmin[Stream]):
    list_display = ["code", "name", "order"]
    list_editable = ["name", "order"]


class CollectionRuleInline(admin.TabularInline[CollectionRule, Zone]):
    model = CollectionRule
    extra = 0


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin[Zone]):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    inlines = [CollectionRuleInline]


@admin.register(CollectionOverride)
class CollectionOverrideAdmin(admin.ModelAdmin[CollectionOverride]):
    list_display = ["day", "zone", "stream", "action", "to", "note"]
    list_filter = ["action", "zone"]
    date_hierarchy = "day"


@admin.register(WasteReminder)
class WasteReminderAdmin(admin.ModelAdmin[WasteReminder]):
    list_display = ["place", "email", "phone", "language", "active"]
    list_filter = ["active"]
    raw_id_fields = ["place"]
