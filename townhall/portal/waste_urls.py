"""Public pages of the waste app (included by townhall/portal/urls.py)."""

from django.urls import URLPattern, path

from townhall.portal import waste_views

urlpatterns: list[URLPattern] = [
    path("bins/", waste_views.bins_view, name="bins"),
    path("bins/<int:place_id>/", waste_views.bins_address_view, name="bins-address"),
    path("bins/<int:place_id>/calendar.ics", waste_views.bins_ical_view, name="bins-ical"),
    path("bins/<int:place_id>/print/", waste_views.bins_print_view, name="bins-print"),
]
