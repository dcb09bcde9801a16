"""Open data at /open-data/: public service requests as GeoReport v2 JSON or CSV."""

from django.urls import URLPattern, path

from townhall.open311.open_data import open_data_view

app_name = "open-data"
urlpatterns: list[URLPattern] = [
    path("requests.<str:fmt>", open_data_view, name="requests"),
]
