"""The map's own layer (included by townhall/portal/urls.py)."""

from django.urls import URLPattern, path

from townhall.portal import map_views

urlpatterns: list[URLPattern] = [
    path("map/streets.geojson", map_views.streets_view, name="map-streets"),
]
