"""Dashboards: the headline figures, volume over time, breakdowns, hot spots, and the cases
behind every figure (the drill-down). Staff only, each limited to their departments' facts;
filters live in the query string; every table downloads as CSV or Excel (`format=`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from townhall.cases.access import access_department_ids
from townhall.console.insights_forms import (
    DrilldownForm,
    InsightsFilterForm,
    export_format,
    filters_query,
)
from townhall.console.queues import QUEUES
from townhall.console.views.common import staff_required
from townhall.insights.exports import dict_rows, export_response
from townhall.insights.kpis import KpiFilters
from townhall.insights.selectors import (
    BREAKDOWN_FIELDS,
    DRILLDOWN_COLUMNS,
    Scope,
    dashboard_breakdown,
    dashboard_hotspots,
    dashboard_measures,
    dashboard_series,
    dashboard_tiles,
    drilldown_rows,
    figure_facts,
    series_interval,
)

FIGURE_LABELS = {
    "volume": gettext_lazy("Requests"),
    "open": gettext_lazy("Still open"),
    "resolved": gettext_lazy("Resolved"),
    "on_time": gettext_lazy("Closed by the due date"),
    "late": gettext_lazy("Closed after the due date"),
    "digital": gettext_lazy("Made online"),
}
MEASURE_LABELS = {
    "volume": gettext_lazy("Requests"),
    "digital_share": gettext_lazy("Digital share"),
    "first_contact_resolution": gettext_lazy("First-contact resolution"),
    "sla_compliance": gettext_lazy("SLA compliance"),
    "time_to_acknowledge_p50_hours": gettext_lazy("Hours to acknowledge (median)"),
    "time_to_acknowledge_p90_hours": gettext_lazy("Hours to acknowledge (90th percentile)"),
    "time_to_resolve_p50_hours": gettext_lazy("Hours to resolve (median)"),
    "time_to_resolve_p90_hours": gettext_lazy("Hours to resolve (90th percentile)"),
    "backlog": gettext_lazy("Backlog (still open)"),
    "backlog_age_avg_days": gettext_lazy("Backlog age, mean days"),
    "backlog_age_max_days": gettext_lazy("Backlog age, oldest in days"),
    "staff_hours_per_request": gettext_lazy("Staff hours per request"),
    "csat": gettext_lazy("Satisfaction (1-5)"),
    "nps": gettext_lazy("Net promoter score"),
    "reopen_rate": gettext_lazy("Reopen rate"),
    "abandoned_forms": gettext_lazy("Report forms abandoned"),
    "chats_abandoned": gettext_lazy("Chats abandoned"),
    "abandonment_rate": gettext_lazy("Abandonment rate"),
    "assistant_containment": gettext_lazy("Assistant containment"),
}
BREAKDOWN_TITLES = {
    "department": gettext_lazy("By department"),
    "service": gettext_lazy("By service"),
    "channel": gettext_lazy("By channel"),
    "area": gettext_lazy("By area"),
}
BREAKDOWN_COLUMNS = (
    "label",
    "volume",
    "open",
    "resolved",
    "on_time",
    "late",
    "sla_compliance",
    "median_days_to_resolve",
    "digital_share",
)
TABLES = (*BREAKDOWN_FIELDS, "series", "hotspots", "tiles", "measures")
PAGE_SIZE = 50


def scope_of(request: HttpRequest) -> Scope:
    return Scope(access_department_ids(request.user))


def console_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """A dashboard page, with the console's menu."""
    return render(request, template, {"queues": QUEUES, **context}, status=status)


def bad_request(message: str) -> HttpResponse:
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def _drill(filters: KpiFilters, kpi: str = "volume", **narrower: Any) -> str:
    return reverse("console:insights-cases") + "?" + filters_query(filters, kpi=kpi, **narrower)


def _narrowed(filters: KpiFilters, by: str, key: Any) -> KpiFilters:
    field = {"department": "department_id", "service": "service_type_id"}.get(by, by)
    return KpiFilters(**{**filters.__dict__, field: key})


def _export_table(table: str, fmt: str, scope: Scope, filters: KpiFilters) -> HttpResponseBase:
    name = f"insights-{table}-{filters.date_from}-{filters.date_to}"
    if table in BREAKDOWN_FIELDS:
        rows = dashboard_breakdown(scope, filters, table)
        return export_response(
            fmt, BREAKDOWN_COLUMNS, dict_rows(rows, BREAKDOWN_COLUMNS), name=name
        )
    if table == "series":
        columns = ("start", "end", "volume")
        return export_response(
            fmt, columns, dict_rows(dashboard_series(scope, filters), columns), name=name
        )
    if table == "hotspots":
        cells = ("cell", "lat", "long", "volume")
        return export_response(
            fmt, cells, dict_rows(dashboard_hotspots(scope, filters), cells), name=name
        )
    if table == "measures":
        values = [(m["key"], m["value"]) for m in dashboard_measures(scope, filters)]
        return export_response(fmt, ("kpi", "value"), values, name=name)
    tiles = dashboard_tiles(scope, filters)
    return export_response(fmt, ("figure", "value"), list(tiles.items()), name=name)


@require_GET
@staff_required
def dashboard_view(request: HttpRequest) -> HttpResponseBase:
    scope = scope_of(request)
    form = InsightsFilterForm(request.GET, scope=scope)
    fmt = export_format(request.GET)
    table = request.GET.get("table", "")
    if fmt is None or (fmt and table not in TABLES):
        return bad_request(_("Ask for format=csv or format=xlsx and one of the tables."))
    if not form.is_valid():
        if fmt:
            return bad_request(_("The filters are not valid: %s") % form.errors.as_text())
        return console_page(request, "console/insights/dashboard.html", {"form": form}, status=400)
    filters = form.filters()
    if fmt:
        return _export_table(table, fmt, scope, filters)
    tiles = dashboard_tiles(scope, filters)
    series = dashboard_series(scope, filters)
    top = max((b["volume"] for b in series), default=0)
    for n, bucket in enumerate(series):
        bucket["height"] = round(100 * bucket["volume"] / top, 1) if top else 0
        bucket["x"], bucket["y"] = n * 12, round(105 - bucket["height"], 1)
        bucket["url"] = _drill(
            KpiFilters(
                **{**filters.__dict__, "date_from": bucket["start"], "date_to": bucket["end"]}
            )
        )
    breakdowns = []
    for by in BREAKDOWN_FIELDS:
        rows = dashboard_breakdown(scope, filters, by)
        for row in rows:
            narrowed = _narrowed(filters, by, row["key"]) if row["key"] != "" else None
            row["urls"] = {
                k: _drill(narrowed, k) if narrowed else ""
                for k in ("volume", "open", "resolved", "late")
            }
        breakdowns.append({"by": by, "title": BREAKDOWN_TITLES[by], "rows": rows})
    measures = dashboard_measures(scope, filters)
    for measure in measures:
        measure["label"] = MEASURE_LABELS.get(measure["key"], measure["key"])
        measure["url"] = _drill(filters, measure["key"]) if measure["drill"] else ""
    hotspots = dashboard_hotspots(scope, filters)
    for spot in hotspots:
        spot["url"] = _drill(filters, cell=spot["cell"])
    query = filters_query(filters)
    context = {
        "form": form,
        "query": query,
        "tiles": [
            {"key": k, "label": FIGURE_LABELS[k], "value": tiles[k], "url": _drill(filters, k)}
            for k in FIGURE_LABELS
        ],
        "rates": tiles,
        "measures": measures,
        "series": series,
        "series_top": top,
        "chart_width": max(len(series) * 12, 12),
        "map_settings": {
            "tiles": settings.TOWNHALL_MAP_TILE_URL,
            "attribution": settings.TOWNHALL_MAP_ATTRIBUTION,
        },
        "interval": series_interval(filters),
        "breakdowns": breakdowns,
        "hotspots": hotspots,
        "hotspot_data": [
            {"lat": s["lat"], "long": s["long"], "volume": s["volume"], "url": s["url"]}
            for s in hotspots
        ],
        "filters": filters,
    }
    return console_page(request, "console/insights/dashboard.html", context)


@require_GET
@staff_required
def drilldown_view(request: HttpRequest) -> HttpResponseBase:
    scope = scope_of(request)
    form = InsightsFilterForm(request.GET, scope=scope)
    drill = DrilldownForm(request.GET)
    fmt = export_format(request.GET)
    if fmt is None:
        return bad_request(_("Ask for format=csv or format=xlsx."))
    if not (form.is_valid() and drill.is_valid()):
        if fmt:
            return bad_request(_("The filters are not valid."))
        keep = [(k, request.GET.get(k, "")) for k in ("kpi", "cell")]
        context = {"form": form, "drill": drill, "keep": keep}
        return console_page(request, "console/insights/cases.html", context, status=400)
    filters = form.filters()
    kpi = drill.cleaned_data["kpi"]
    qs = figure_facts(scope, filters, kpi, cell=drill.cell_pair())
    if fmt:
        return export_response(
            fmt,
            DRILLDOWN_COLUMNS,
            dict_rows(drilldown_rows(qs), DRILLDOWN_COLUMNS),
            name=f"cases-{kpi}",
        )
    paginator = Paginator(qs.order_by("-opened_at", "-pk").values_list("pk", flat=True), PAGE_SIZE)
    page = paginator.get_page(drill.cleaned_data.get("page") or 1)
    ids = list(page.object_list)
    rows = list(drilldown_rows(qs.filter(pk__in=ids)))
    cell = drill.cleaned_data.get("cell") or ""
    query = filters_query(filters, kpi=kpi, cell=cell)
    return console_page(
        request,
        "console/insights/cases.html",
        {
            "keep": [("kpi", kpi), ("cell", cell)],
            "form": form,
            "drill": drill,
            "kpi": kpi,
            "kpi_label": FIGURE_LABELS.get(kpi) or MEASURE_LABELS.get(kpi, kpi),
            "cell": cell,
            "count": paginator.count,
            "page": page,
            "rows": rows,
            "query": query,
            "back": reverse("console:insights") + "?" + filters_query(filters),
        },
    )
