"""The forecast page: a service's forecast for its department's staff, the whole council's
for council-wide readers only; the chart has its table; CSV matches the days shown."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.console.conftest import signed_in
from tests.insights.dash_data import NOW, fact
from townhall.insights.models import CaseFact

pytestmark = pytest.mark.django_db

URL = "/console/insights/forecast/"


@pytest.fixture
def history(pothole: Any) -> None:
    rows = []
    for n in range(70):
        for k in range(2 + n % 3):
            rows.append(
                CaseFact(
                    source="imported",
                    system="boston",
                    external_id=f"F{n}-{k}",
                    service_type=pothole,
                    department=pothole.department,
                    channel="web",
                    status="closed",
                    opened_at=NOW - dt.timedelta(days=n + 1),
                )
            )
    CaseFact.objects.bulk_create(rows)


def test_staff_see_their_services_forecast_with_its_table(
    staff: Any, history: Any, pothole: Any
) -> None:
    client = signed_in(staff["caseworker"])
    page = client.get(URL, {"service": pothole.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'role="img"' in html and "<polyline" in html
    assert (
        html.count('<tr class="govuk-table__row"><th scope="row" class="govuk-table__header">')
        >= 56
    )
    csv = b"".join(client.get(URL, {"service": pothole.pk, "format": "csv"}).streaming_content)
    lines = csv.decode("utf-8-sig").strip().splitlines()
    assert lines[0] == "date,mean,lower,upper" and len(lines) == 57


def test_the_whole_councils_forecast_is_for_council_wide_readers(
    staff: Any, history: Any, no_heat: Any
) -> None:
    mine = signed_in(staff["caseworker"])
    html = mine.get(URL).content.decode()
    assert "<polyline" not in html and "council-wide staff" in html
    assert mine.get(URL, {"format": "csv"}).status_code == 403
    assert mine.get(URL, {"service": no_heat.pk}).status_code == 400  # another department
    admin = signed_in(staff["council_admin"]).get(URL).content.decode()
    assert "<polyline" in admin


def test_too_little_history_says_so(staff: Any, pothole: Any) -> None:
    fact(pothole)
    html = signed_in(staff["caseworker"]).get(URL, {"service": pothole.pk}).content.decode()
    assert "Not enough history yet" in html


def test_anonymous_and_residents_are_refused(client: Any, staff: Any) -> None:
    assert client.get(URL).status_code == 302
    assert signed_in(staff["resident"]).get(URL).status_code == 403
