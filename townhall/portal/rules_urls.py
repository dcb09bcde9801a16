"""Public pages of the rules app (included by townhall/portal/urls.py)."""

from django.urls import URLPattern, path

from townhall.portal import rules_views

urlpatterns: list[URLPattern] = [
    path("check/", rules_views.check_list_view, name="check"),
    path("check/<slug:rule_id>/", rules_views.check_programme_view, name="check-programme"),
    path("check/<slug:rule_id>/result/", rules_views.check_result_view, name="check-result"),
    path("permits/", rules_views.permits_view, name="permits"),
]
