"""The site's routes plus a view that fails quoting what the resident sent."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from townhall.urls import urlpatterns as site


@csrf_exempt
def failing_view(request: HttpRequest) -> HttpResponse:
    email = request.POST.get("email", "")
    phone = request.POST.get("phone", "")
    raise RuntimeError(f"could not reach {email} or {phone}")


urlpatterns = [path("failing/", failing_view, name="failing"), *site]
