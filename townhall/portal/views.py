"""The portal's front door: the home page with the services by group and the most used
ones, the service finder, the health check and the one-click opt-out from messages.

The report journey lives in report_views.py, the pages after a report (confirmation,
tracking, following, reopening, the resident's own updates) in case_views.py and
case_owner_views.py. Every page works without JavaScript; bad input re-renders the form
with messages, never a 500.
"""

from __future__ import annotations

from itertools import groupby

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from townhall.catalog.i18n import localized
from townhall.catalog.models import ServiceType
from townhall.catalog.selectors import service_type_list
from townhall.core.errors import NotFound
from townhall.intake.selectors_finder import FinderAnswer, service_find
from townhall.notices.selectors import notices_public
from townhall.notify.services import opt_out_by_token
from townhall.portal import finder
from townhall.portal.forms import ServiceSearchForm, TrackForm
from townhall.portal.selectors import service_popularity

POPULAR_COUNT = 6
HOME_NOTICES = 3  # the newest public notices, above the services


# --- finding a service ---------------------------------------------------------------------


def _services() -> list[ServiceType]:
    return list(service_type_list())


@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    services = _services()
    counts = service_popularity()
    popular = sorted(services, key=lambda s: (-counts.get(s.pk, 0), localized(s, "name")))
    popular = popular[:POPULAR_COUNT]
    in_order = sorted(
        services,
        key=lambda s: (finder.fold(localized(s.group, "name")), finder.fold(localized(s, "name"))),
    )
    groups = [(group, list(items)) for group, items in groupby(in_order, key=lambda s: s.group)]
    return render(
        request,
        "portal/home.html",
        {
            "groups": groups,
            "popular": [s for s in popular if counts.get(s.pk)],
            "form": TrackForm(),
            "search_form": ServiceSearchForm(),
            "notices": notices_public(language=get_language() or "en", limit=HOME_NOTICES),
        },
    )


@require_GET
def services_view(request: HttpRequest) -> HttpResponse:
    form = ServiceSearchForm(request.GET or None)
    answer = FinderAnswer(services=[], articles=[], scores={})
    status = 200
    if form.is_valid():
        answer = service_find(query=form.cleaned_data["q"], language=get_language(), limit=10)
    elif request.GET:
        status = 400
    return render(
        request,
        "portal/services.html",
        {
            "search_form": form,
            "results": answer.services,
            "help_results": answer.articles,
            "ask_service": answer.ask,
            "searched": form.is_bound,
        },
        status=status,
    )


# --- the platform ------------------------------------------------------------------------


@require_GET
def health_view(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


@csrf_exempt  # mail clients post RFC 8058 one-click requests; the signed token is the proof
@require_http_methods(["GET", "POST"])
def opt_out_view(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        return render(request, "portal/opt_out.html", {"token": token, "done": False})
    try:
        opt_out = opt_out_by_token(token=token)
    except NotFound:
        return render(request, "portal/opt_out.html", {"invalid": True}, status=404)
    return render(
        request, "portal/opt_out.html", {"done": True, "channel": opt_out.get_channel_display()}
    )
