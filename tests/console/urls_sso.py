"""The site's URLs with single sign-on switched on (settings decide it at start-up)."""

from django.urls import include, path

from townhall.urls import urlpatterns as site

urlpatterns = [path("oidc/", include("mozilla_django_oidc.urls")), *site]
