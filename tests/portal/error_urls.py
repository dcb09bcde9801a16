"""The site's routes plus one that fails, for the server error page's tests."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from townhall.urls import urlpatterns as site


def broken_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret detail: database password hunter2")


urlpatterns = [path("broken/", broken_view), *site]
