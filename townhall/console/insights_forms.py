"""The dashboards' filters, read from the query string (so a page can be shared or saved).

A department outside the reader's own is refused like any other bad value: the form again,
with its error, answered 400. Without dates the period is the last 90 days, and the links
on the page carry the dates it used.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from townhall.core import clock
from townhall.insights.kpis import KpiFilters
from townhall.insights.selectors import DRILL_KEYS, Scope, channel_choices, filter_choices

DEFAULT_DAYS = 90
MAX_DAYS = 366 * 5
CELL = re.compile(r"^-?\d{1,6}:-?\d{1,6}$")


def _int_choices(pairs: list[tuple[Any, str]], everything: str) -> list[tuple[Any, str]]:
    return [("", everything), *[(str(k), v) for k, v in pairs]]


class InsightsFilterForm(forms.Form):
    date_from = forms.DateField(label=_("Opened from"), required=False)
    date_to = forms.DateField(label=_("Opened to"), required=False)
    department = forms.TypedChoiceField(
        label=_("Department"), coerce=int, empty_value=None, required=False
    )
    service = forms.TypedChoiceField(
        label=_("Service"), coerce=int, empty_value=None, required=False
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    area = forms.ChoiceField(label=_("Area"), required=False)

    def __init__(self, data: Any, *, scope: Scope) -> None:
        super().__init__(data)
        choices = filter_choices(scope)
        self._choose("department", _int_choices(choices["department"], str(_("All departments"))))
        self._choose("service", _int_choices(choices["service"], str(_("All services"))))
        self._choose("channel", [("", _("All channels")), *channel_choices()])
        self._choose("area", [("", _("All areas")), *choices["area"]])
        self.scope = scope

    def _choose(self, name: str, choices: list[Any]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate(clock.now())
        start: dt.date | None = data.get("date_from")
        end: dt.date | None = data.get("date_to")
        if not self.errors:
            if start is None and end is None:
                start, end = today - dt.timedelta(days=DEFAULT_DAYS - 1), today
            elif start is None:
                assert end is not None
                start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
            elif end is None:
                end = today if start <= today else start
            assert start is not None
            assert end is not None
            if start > end:
                self.add_error("date_to", _("The end of the period is before its start."))
            elif (end - start).days > MAX_DAYS:
                self.add_error("date_from", _("Choose a period of at most five years."))
            data["date_from"], data["date_to"] = start, end
            # The page shows (and its links carry) the period it used.
            shown = self.data.copy()  # type: ignore[attr-defined]
            shown["date_from"], shown["date_to"] = start.isoformat(), end.isoformat()
            self.data = shown
        return data

    def filters(self) -> KpiFilters:
        d = self.cleaned_data
        return KpiFilters(
            date_from=d["date_from"],
            date_to=d["date_to"],
            department_id=d.get("department"),
            service_type_id=d.get("service"),
            channel=d.get("channel") or "",
            area=d.get("area") or "",
        )


def filters_query(filters: KpiFilters, **extra: Any) -> str:
    """The query string that gives `filters` back (plus `extra`), for links and exports."""
    pairs = {
        "date_from": filters.date_from.isoformat() if filters.date_from else "",
        "date_to": filters.date_to.isoformat() if filters.date_to else "",
        "department": filters.department_id or "",
        "service": filters.service_type_id or "",
        "channel": filters.channel,
        "area": filters.area,
        **extra,
    }
    return urlencode({k: v for k, v in pairs.items() if v not in ("", None)})


class DrilldownForm(forms.Form):
    kpi = forms.ChoiceField(choices=[(k, k) for k in DRILL_KEYS])
    cell = forms.RegexField(regex=CELL, required=False)
    page = forms.IntegerField(min_value=1, max_value=100_000, required=False)

    def cell_pair(self) -> tuple[int, int] | None:
        cell = self.cleaned_data.get("cell")
        if not cell:
            return None
        i, j = cell.split(":")
        return int(i), int(j)


def export_format(data: Any) -> str | None:
    """The `format` asked for: "" for the page, "csv" or "xlsx"; None if it is neither."""
    fmt = str(data.get("format", ""))
    return fmt if fmt in ("", "csv", "xlsx") else None
