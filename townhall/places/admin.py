"""Admin: look up and correct gazetteer entries (bulk loads go through `townhall places import`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from townhall.places.models import Place
from townhall.places.selectors import places_cache_clear
from townhall.places.text import address_fold


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["address", "postcode", "property_id", "lat", "long", "updated_at"]
    search_fields = ["address", "postcode", "property_id"]
    fields = ["property_id", "address", "postcode", "lat", "long"]

    def save_model(self, request: HttpRequest, obj: Place, form: Any, change: bool) -> None:
        obj.search_text = address_fold(obj.address)
        super().save_model(request, obj, form, change)
        places_cache_clear()
