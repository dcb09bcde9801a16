"""Admin screens for citizens (read-mostly: residents' data changes through services)."""

from __future__ import annotations

from django.contrib import admin

from townhall.people import models as m


class ContactPointInline(admin.TabularInline):  # type: ignore[type-arg]
    model = m.ContactPoint
    extra = 0


class ConsentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = m.ConsentRecord
    extra = 0
    readonly_fields = ["purpose", "granted", "at", "channel", "wording"]
    can_delete = False


@admin.register(m.Citizen)
class CitizenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["__str__", "preferred_language", "preferred_channel", "created_at"]
    search_fields = ["display_name", "contact_points__value"]
    inlines = [ContactPointInline, ConsentInline]
