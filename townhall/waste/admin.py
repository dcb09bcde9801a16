"""Council screens: settings (country, holiday rule), streams, zones with rules, overrides,
what each holiday does."""

from __future__ import annotations

from django.contrib import admin

from townhall.waste.models import (
    CollectionOverride,
    CollectionRule,
    HolidayHandling,
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


@admin.register(HolidayHandling)
class HolidayHandlingAdmin(admin.ModelAdmin[HolidayHandling]):
    """Learnt rows are replaced by the next import; a row saved here with `learnt` off is
    the council's own and wins over a learnt row for the same holiday, weekday and stream."""

    list_display = ["holiday", "weekday", "stream", "effect", "exact", "learnt"]
    list_filter = ["learnt", "effect"]
    search_fields = ["holiday"]


@admin.register(WasteReminder)
class WasteReminderAdmin(admin.ModelAdmin[WasteReminder]):
    list_display = ["place", "email", "phone", "language", "active"]
    list_filter = ["active"]
    raw_id_fields = ["place"]
