"""The pages every council publishes (included by townhall/portal/urls.py)."""

from django.urls import URLPattern, path

from townhall.portal import pages_views

urlpatterns: list[URLPattern] = [
    path("privacy/", pages_views.privacy_view, name="privacy"),
    path("accessibility/", pages_views.accessibility_view, name="accessibility"),
    path("cookies/", pages_views.cookies_view, name="cookies"),
    path("contact/", pages_views.contact_view, name="contact"),
    path("security/", pages_views.security_view, name="security"),
    path(".well-known/security.txt", pages_views.security_txt_view, name="security-txt"),
]
