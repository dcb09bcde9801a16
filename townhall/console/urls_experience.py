"""Console URLs of the experience app: the supervisors' flag queue (low survey scores,
frustrated residents) and handling a flag (console/views/flags.py)."""

from django.urls import URLPattern, path

from townhall.console.views.flags import flag_handle_view, flags_view

urlpatterns: list[URLPattern] = [
    path("flags/", flags_view, name="flags"),
    path("flags/<int:flag_id>/handle/", flag_handle_view, name="flag-handle"),
]
