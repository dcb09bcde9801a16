"""The console dashboard: staff only, limited to their departments, filters in the URL,
every figure drilling down to exactly the cases it counts, bad input answered 400."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from tests.console.conftest import signed_in
from tests.insights.dash_data import NOW, fact, live_fact

pytestmark = pytest.mark.django_db

URL = "/console/insights/"


@pytest.fixture
def facts(pothole: Any, no_heat: Any) -> dict[str, Any]:
    """Public Works: 3 potholes (one resolved on time, one late, one open) and one live;
    Inspectional Services: 2 no-heat reports."""
    due = NOW + dt.timedelta(days=2)
    return {
        "on_time": fact(
            pothole,
            status="closed",
            due_at=due,
            resolved_at=NOW - dt.timedelta(hours=2),
            closed_at=NOW - dt.timedelta(hours=2),
            lat=42.3601,
            long=-71.0901,
        ),
        "late": fact(
            pothole,
            status="closed",
            due_at=NOW - dt.timedelta(hours=20),
            resolved_at=NOW - dt.timedelta(hours=1),
            closed_at=NOW - dt.timedelta(hours=1),
            area="Ward 2",
            channel="phone",
            lat=42.3602,
            long=-71.0902,
        ),
        "open": fact(pothole, status="new", lat=42.40, long=-71.10),
        "live": live_fact(pothole, status="new"),
        "heat": [fact(no_heat, status="new"), fact(no_heat, status="new")],
    }


def _links(html: str) -> list[str]:
    return [
        h.replace("&amp;", "&") for h in re.findall(r'href="([^"]*insights/cases/[^"]*)"', html)
    ]


def test_anonymous_goes_to_sign_in_and_residents_are_refused(client: Client, staff: Any) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]
    assert signed_in(staff["resident"]).get(URL).status_code == 403
    assert client.get(URL + "cases/?kpi=volume").status_code == 302


def test_staff_see_only_their_departments(staff: Any, facts: Any) -> None:
    html = signed_in(staff["caseworker"]).get(URL).content.decode()
    assert "Public Works" in html and "Inspectional Services" not in html
    assert '<span class="th-tile__value">4</span> <span class="th-tile__label">Requests' in html
    admin = signed_in(staff["council_admin"]).get(URL).content.decode()
    assert '<span class="th-tile__value">6</span> <span class="th-tile__label">Requests' in admin


def test_another_departments_filter_is_refused_not_shown(staff: Any, facts: Any, isd: Any) -> None:
    response = signed_in(staff["caseworker"]).get(URL, {"department": isd.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    drill = signed_in(staff["caseworker"]).get(
        URL + "cases/", {"kpi": "volume", "department": isd.pk}
    )
    assert drill.status_code == 400
    export = signed_in(staff["caseworker"]).get(
        URL, {"department": isd.pk, "format": "csv", "table": "service"}
    )
    assert export.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "yesterday"},
        {"date_from": "2026-05-01", "date_to": "2026-04-01"},
        {"date_from": "1900-01-01", "date_to": "2026-01-01"},
        {"department": "x"},
        {"service": "99999"},
        {"channel": "pigeon"},
        {"area": "<script>"},
        {"format": "pdf"},
        {"format": "csv", "table": "secrets"},
    ],
)
def test_bad_query_parameters_are_400_never_500(staff: Any, facts: Any, query: Any) -> None:
    assert signed_in(staff["caseworker"]).get(URL, query).status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        {"kpi": "salaries"},
        {"kpi": "volume", "cell": "1;DROP"},
        {"kpi": "volume", "page": "0"},
        {"kpi": "volume", "page": "x"},
        {},
    ],
)
def test_bad_drilldown_parameters_are_400(staff: Any, facts: Any, query: Any) -> None:
    assert signed_in(staff["caseworker"]).get(URL + "cases/", query).status_code == 400


def test_filters_round_trip_in_the_links(staff: Any, facts: Any, pothole: Any) -> None:
    query = {
        "date_from": (NOW - dt.timedelta(days=7)).date().isoformat(),
        "date_to": NOW.date().isoformat(),
        "service": str(pothole.pk),
        "channel": "web",
        "area": "Ward 1",
    }
    response = signed_in(staff["caseworker"]).get(URL, query)
    assert response.status_code == 200
    html = response.content.decode()
    links = _links(html)
    assert links
    for link in links:
        got = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
        for key, value in query.items():
            if key.startswith("date_") and got["date_from"] == got["date_to"]:
                continue  # a day of the chart: the period narrowed to that day
            assert got.get(key) == value, (link, key)
    assert f'<option value="{pothole.pk}" selected>' in html
    assert 'value="Ward 1" selected' in html


def test_without_dates_the_page_uses_and_carries_the_last_90_days(staff: Any, facts: Any) -> None:
    html = signed_in(staff["caseworker"]).get(URL).content.decode()
    # the page counts days in the council's time zone, not UTC (CI runs across midnight)
    start = (timezone.localdate(NOW) - dt.timedelta(days=89)).isoformat()
    assert f'value="{start}"' in html
    tiles = _tile_figures(html)
    assert tiles and all(f"date_from={start}" in link for _, link in tiles.values())


def _tile_figures(html: str) -> dict[str, tuple[int, str]]:
    found = re.findall(
        r'<a class="govuk-link th-tile__link" href="([^"]*)">'
        r'<span class="th-tile__value">(\d+)</span>',
        html,
    )
    return {
        parse_qs(urlsplit(h.replace("&amp;", "&")).query)["kpi"][0]: (
            int(v),
            h.replace("&amp;", "&"),
        )
        for h, v in found
    }


def test_every_figure_drills_down_to_as_many_cases(staff: Any, facts: Any) -> None:
    client = signed_in(staff["caseworker"])
    html = client.get(URL).content.decode()
    tiles = _tile_figures(html)
    assert tiles["volume"][0] == 4
    assert tiles["on_time"][0] == 1 and tiles["late"][0] == 1 and tiles["resolved"][0] == 2
    for key, (figure, link) in tiles.items():
        page = client.get(link)
        assert page.status_code == 200, key
        rows = page.content.decode().count('<tr class="govuk-table__row">\n    <th scope="row"')
        assert rows == figure, key
        csv = b"".join(client.get(link + "&format=csv").streaming_content).decode("utf-8-sig")
        assert len(csv.strip().splitlines()) == figure + 1, key


def test_breakdown_and_hotspot_links_add_up(staff: Any, facts: Any) -> None:
    client = signed_in(staff["caseworker"])
    html = client.get(URL).content.decode()
    cells = re.findall(
        r'<a class="govuk-link" href="([^"]*cell=[^"]*)">(\d+)</a>', html.replace("&amp;", "&")
    )
    assert sorted(int(n) for _, n in cells) == [1, 2]
    for link, n in cells:
        body = client.get(link).content.decode()
        assert body.count('<tr class="govuk-table__row">\n    <th scope="row"') == int(n)
    # Every number on the page that links to cases (chart table, breakdowns, squares).
    numbered = re.findall(
        r'<a class="govuk-link" href="([^"]*insights/cases/[^"]*)">(\d+)</a>',
        html.replace("&amp;", "&"),
    )
    assert len(numbered) >= 20
    for link, n in numbered:
        body = client.get(link).content.decode()
        assert body.count('<tr class="govuk-table__row">\n    <th scope="row"') == int(n), link
    # No point of any single request is on the page: only cell centres.
    assert "42.3601" not in html and "-71.0901" not in html


def test_live_cases_link_to_the_case_and_imported_show_their_id(staff: Any, facts: Any) -> None:
    body = signed_in(staff["caseworker"]).get(URL + "cases/", {"kpi": "volume"}).content.decode()
    assert f'href="/console/cases/{facts["live"].case_id}/"' in body
    assert facts["open"].external_id in body


def test_median_days_to_resolve_per_breakdown_and_overall(staff: Any, pothole: Any) -> None:
    opened = NOW - dt.timedelta(days=10)
    for days, area in [(1, "Ward 1"), (2, "Ward 1"), (4, "Ward 1"), (6, "Ward 2")]:
        fact(
            pothole,
            area=area,
            status="resolved",
            opened_at=opened,
            resolved_at=opened + dt.timedelta(days=days),
        )
    fact(pothole, area="Ward 2", status="new", opened_at=opened)
    client = signed_in(staff["caseworker"])
    tiles = b"".join(client.get(URL, {"format": "csv", "table": "tiles"}).streaming_content)
    assert "median_days_to_resolve,3.0" in tiles.decode("utf-8-sig")
    areas = b"".join(client.get(URL, {"format": "csv", "table": "area"}).streaming_content)
    lines = areas.decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    by_area = {
        row.split(",")[0]: dict(zip(header, row.split(","), strict=True)) for row in lines[1:]
    }
    assert by_area["Ward 1"]["median_days_to_resolve"] == "2.0"
    assert by_area["Ward 2"]["median_days_to_resolve"] == "6.0"
    assert by_area["Ward 2"]["volume"] == "2" and by_area["Ward 2"]["resolved"] == "1"


def _measures(client: Any) -> dict[str, str]:
    body = b"".join(client.get(URL, {"format": "csv", "table": "measures"}).streaming_content)
    return dict(line.split(",", 1) for line in body.decode("utf-8-sig").splitlines()[1:])


def test_every_kpi_is_shown_within_the_readers_departments(staff: Any, facts: Any) -> None:
    mine = _measures(signed_in(staff["caseworker"]))
    everyone = _measures(signed_in(staff["council_admin"]))
    assert mine["volume"] == "4" and everyone["volume"] == "6"
    assert mine["backlog"] == "2" and everyone["backlog"] == "4"
    assert mine["sla_compliance"] == "0.5"
    assert "abandonment_rate" not in mine  # journey signals know no department
    assert "abandonment_rate" in everyone


def test_kpi_drill_downs_list_the_cases_each_is_measured_over(staff: Any, facts: Any) -> None:
    client = signed_in(staff["caseworker"])
    html = client.get(URL).content.decode().replace("&amp;", "&")
    links = {
        parse_qs(urlsplit(h).query)["kpi"][0]: h
        for h in re.findall(r'<a class="govuk-link" href="([^"]*kpi=[a-z0-9_]+[^"]*)">Cases<', html)
    }
    assert {"backlog", "sla_compliance", "volume"} <= set(links)
    expected = {"backlog": 2, "sla_compliance": 2, "volume": 4}
    for key, n in expected.items():
        page = client.get(links[key]).content.decode()
        assert page.count('<tr class="govuk-table__row">\n    <th scope="row"') == n, key
