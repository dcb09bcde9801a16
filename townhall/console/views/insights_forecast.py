"""The demand forecast page: the next eight weeks of requests, a day at a time, with the
80 % interval, as a server-rendered chart and its table (and CSV or Excel)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from townhall.console.insights_forms import InsightsFilterForm, export_format, filters_query
from townhall.console.views.common import staff_required
from townhall.console.views.insights import bad_request, console_page, scope_of
from townhall.insights.exports import dict_rows, export_response
from townhall.insights.selectors_forecast import (
    forecast_allowed,
    forecast_chart,
    forecast_days,
    forecast_weeks,
)

COLUMNS = ("date", "mean", "lower", "upper")


@require_GET
@staff_required
def forecast_view(request: HttpRequest) -> HttpResponseBase:
    scope = scope_of(request)
    form = InsightsFilterForm(request.GET, scope=scope)
    fmt = export_format(request.GET)
    if fmt is None:
        return bad_request(_("Ask for format=csv or format=xlsx."))
    if not form.is_valid():
        if fmt:
            return bad_request(_("The filters are not valid."))
        return console_page(request, "console/insights/forecast.html", {"form": form}, 400)
    filters = form.filters()
    service_id = filters.service_type_id
    allowed = forecast_allowed(scope, service_id)
    if fmt and not allowed:
        raise PermissionDenied
    days = forecast_days(service_id) if allowed else []
    if fmt:
        name = f"forecast-{service_id or 'all'}"
        return export_response(fmt, COLUMNS, dict_rows(days, COLUMNS), name=name)
    return console_page(
        request,
        "console/insights/forecast.html",
        {
            "form": form,
            "query": filters_query(filters),
            "allowed": allowed,
            "days": days,
            "weeks": forecast_weeks(days),
            "chart": forecast_chart(days),
        },
    )
