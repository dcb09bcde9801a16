"""Status sync and catalogue import against a second Townhall over real HTTP.

The county is the `remote_townhall` fixture (tests/forwarding/remote_townhall.py, by the
bench helper): gunicorn, its own database and catalogue, an Open311 key for us. Here we
import its catalogue, file a request there with our Open311 client (as sending would),
and follow it as the county's caseworker moves it, through an outage of the county.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.forwarding.remote_townhall import RemoteTownhall, remote_townhall
from tests.forwarding.sync_fixtures import body_make, forward_make
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.catalog.models import ServiceType
from townhall.core import clock
from townhall.forwarding.catalog_import import body_catalog_import
from townhall.forwarding.client import Open311Client
from townhall.forwarding.models import Body, ForwardState, ServiceMapping, SyncKind
from townhall.forwarding.syncing import forwards_poll

__all__ = ["remote_townhall"]  # the fixture, used below

pytestmark = pytest.mark.django_db


@pytest.fixture
def county(remote_townhall: RemoteTownhall, town: Any) -> Body:
    remote_townhall.start()
    return body_make(
        "county",
        endpoint=remote_townhall.open311_url,
        jurisdiction_id=remote_townhall.jurisdiction_id,
        api_key=remote_townhall.api_key,
        poll_seconds=60,
        timeout_seconds=5,
    )


def test_the_county_catalogue_imports_once(county: Body, town: Any) -> None:
    dpw = town.departments.get(code="dpw")
    report = body_catalog_import(body=county, jurisdiction=town, department=dpw)
    assert report.skipped == []
    assert sorted(report.created) == ["county-road_defect", "county-streetlight_out"]
    road = ServiceType.objects.get(code="county-road_defect")
    severity = road.attributes.get(code="severity")
    assert severity.required and [v["key"] for v in severity.values] == ["minor", "major"]
    assert ServiceMapping.objects.get(service_type=road).remote_code == "road_defect"
    again = body_catalog_import(body=county, jurisdiction=town, department=dpw)
    assert again.created == again.updated == [] and len(again.unchanged) == 2


def test_a_case_at_the_county_is_followed_through_an_outage(
    county: Body, remote_townhall: RemoteTownhall, pothole: Any
) -> None:
    client = Open311Client(
        county.endpoint,
        api_key=county.api_key,
        jurisdiction_id=county.jurisdiction_id,
        timeout=5,
    )
    answer = client.post_request(
        {
            "service_code": "road_defect",
            "lat": "42.361",
            "long": "-71.091",
            "description": "Deep pothole outside the library",
            "attribute[severity]": "major",
        }
    )
    assert answer.remote_id.startswith("CO-")
    forward = forward_make(county, pothole, answer.remote_id)
    case = Case.objects.get(pk=forward.case_id)

    now = clock.now()
    result = forwards_poll(now=now + timedelta(minutes=2))
    assert (result.read, result.failed_bodies) == (1, 0)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS  # GeoReport "open"

    remote_townhall.stop()
    try:
        result = forwards_poll(now=now + timedelta(minutes=4))
        assert result.failed_bodies == 1
        county.refresh_from_db()
        assert county.sync_failures == 1 and county.sync_retry_at is not None
        assert forward.syncs.filter(kind=SyncKind.RETRY, ok=False).count() == 1
    finally:
        remote_townhall.start()

    remote_townhall.set_status(answer.remote_id, "resolved", "Patched with hot asphalt.")
    county.refresh_from_db()
    assert county.sync_retry_at is not None
    result = forwards_poll(now=county.sync_retry_at + timedelta(minutes=2))
    assert (result.read, result.applied, result.failed_bodies) == (1, 1, 0)
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    last = CaseEvent.objects.filter(case=case, kind=CaseEventKind.STATUS_CHANGED).latest("seq")
    assert last.content["note"] == "Patched with hot asphalt." and last.public
    forward.refresh_from_db()
    assert forward.state == ForwardState.CLOSED and forward.remote_status == "closed"
    county.refresh_from_db()
    assert county.sync_failures == 0
