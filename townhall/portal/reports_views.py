"""Everyone's reports (/reports/): a list and a map of the same reports, filtered by area,
service and status in the query string. Public fields only (insights.selectors_public);
personal services never appear; each report links to its public tracking page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from townhall.insights.selectors_public import (
    PublicFilters,
    public_filter_choices,
    public_map_points,
    public_report_rows,
    public_reports,
)
from townhall.portal.throttle import portal_rate_limited

PAGE_SIZE = 20
MAX_PAGE = 10_000


class ReportsFilterForm(forms.Form):
    area = forms.ChoiceField(label=_("Area"), required=False)
    service = forms.TypedChoiceField(
        label=_("Service"), coerce=int, empty_value=None, required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open or closed")), ("open", _("Open")), ("closed", _("Closed"))],
    )
    page = forms.IntegerField(
        min_value=1, max_value=MAX_PAGE, required=False, widget=forms.HiddenInput
    )

    def __init__(self, data: Any) -> None:
        super().__init__(data)
        choices = public_filter_choices()
        area, service = self.fields["area"], self.fields["service"]
        assert isinstance(area, forms.ChoiceField)
        assert isinstance(service, forms.ChoiceField)
        area.choices = [("", _("All areas")), *choices["area"]]
        service.choices = [("", _("All services")), *[(str(k), v) for k, v in choices["service"]]]

    def filters(self) -> PublicFilters:
        d = self.cleaned_data
        return PublicFilters(
            area=d.get("area") or "", service_type_id=d.get("service"), status=d.get("status") or ""
        )


def _query(filters: PublicFilters) -> str:
    pairs = {
        "area": filters.area,
        "service": filters.service_type_id or "",
        "status": filters.status,
    }
    return urlencode({k: v for k, v in pairs.items() if v})


@require_GET
# The same public data as Open311's GET requests: the same limit per client address.
@portal_rate_limited("open311_read", methods=("GET",))
def reports_view(request: HttpRequest) -> HttpResponse:
    form = ReportsFilterForm(request.GET)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return render(request, "portal/reports/list.html", context, status=400)
    filters = form.filters()
    qs = public_reports(filters)
    paginator = Paginator(qs, PAGE_SIZE)
    page = paginator.get_page(form.cleaned_data.get("page") or 1)
    rows = public_report_rows(page.object_list)  # type: ignore[arg-type]
    track = reverse("portal:track")
    for row in rows:
        row["url"] = f"{track}?{urlencode({'reference': row['reference']})}"
    points = public_map_points(qs)
    for point in points:
        point["url"] = f"{track}?{urlencode({'reference': point['reference']})}"
    context.update(
        {
            "rows": rows,
            "page": page,
            "count": paginator.count,
            "query": _query(filters),
            "points": points,
            "map_settings": {
                "tiles": settings.TOWNHALL_MAP_TILE_URL,
                "attribution": settings.TOWNHALL_MAP_ATTRIBUTION,
            },
        }
    )
    return render(request, "portal/reports/list.html", context)
