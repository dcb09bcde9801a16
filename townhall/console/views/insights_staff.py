"""Staff performance, for supervisors: per person, the cases they handled in the period
(within the supervisor's departments), as a table and as CSV or Excel."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from townhall.cases.access import Action
from townhall.console.insights_forms import InsightsFilterForm, export_format, filters_query
from townhall.console.views.common import require, staff_required
from townhall.console.views.insights import bad_request, console_page, scope_of
from townhall.insights.exports import dict_rows, export_response
from townhall.insights.selectors_staff import STAFF_COLUMNS, staff_performance


@require_GET
@staff_required
def staff_view(request: HttpRequest) -> HttpResponseBase:
    require(request, Action.SUPERVISE)
    scope = scope_of(request)
    form = InsightsFilterForm(request.GET, scope=scope)
    fmt = export_format(request.GET)
    if fmt is None:
        return bad_request(_("Ask for format=csv or format=xlsx."))
    if not form.is_valid():
        if fmt:
            return bad_request(_("The filters are not valid."))
        return console_page(request, "console/insights/staff.html", {"form": form}, status=400)
    filters = form.filters()
    rows = staff_performance(scope, filters)
    if fmt:
        name = f"staff-performance-{filters.date_from}-{filters.date_to}"
        return export_response(fmt, STAFF_COLUMNS, dict_rows(rows, STAFF_COLUMNS), name=name)
    return console_page(
        request,
        "console/insights/staff.html",
        {"form": form, "rows": rows, "query": filters_query(filters)},
    )
