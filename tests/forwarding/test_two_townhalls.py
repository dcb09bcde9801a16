"""Two Townhalls over real HTTP: ours forwards a case to the county's, and follows it.

The county is a second Townhall (tests/forwarding/remote_townhall.py): gunicorn on a
loopback port, its own database, its own catalogue (`road_defect` with a required
`severity`), an Open311 key for us. Ours runs in the test process with a Body pointing at
it, a routing rule for potholes inside the county's boundary, and a mapping of our pothole
and its answers to the county's road defect.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from tests.forwarding.remote_townhall import RemoteTownhall, remote_townhall
from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case
from townhall.cases.selectors import case_public_timeline
from townhall.cases.services import case_open
from townhall.core import clock
from townhall.forwarding.models import (
    Body,
    BodyKind,
    Forward,
    ForwardState,
    ForwardSync,
    RoutingRule,
    ServiceMapping,
    SyncKind,
)
from townhall.forwarding.routing import routing_cache_clear
from townhall.forwarding.sending import forwards_send_due
from townhall.forwarding.syncing import forwards_poll, forwards_poll_due

__all__ = ["remote_townhall"]  # the fixture, used below

pytestmark = pytest.mark.django_db(transaction=True)

# The county's area: a square around the town centre (42.36, -71.09); GeoJSON is [long, lat].
BOUNDARY = {
    "type": "Polygon",
    "coordinates": [
        [[-71.12, 42.34], [-71.06, 42.34], [-71.06, 42.38], [-71.12, 42.38], [-71.12, 42.34]]
    ],
}
INSIDE = {"lat": 42.361, "long": -71.091}
OUTSIDE = {"lat": 42.50, "long": -71.30}


@pytest.fixture
def county(remote_townhall: RemoteTownhall, pothole: Any) -> Iterator[Body]:
    """Our Body for the county's Townhall, its routing rule and service mapping."""
    remote_townhall.start()  # a test that stopped it may have failed before starting it again
    body = Body.objects.create(
        name="Middlesex County",
        slug="county",
        kind=BodyKind.OPEN311,
        boundary=BOUNDARY,
        endpoint=remote_townhall.open311_url,
        jurisdiction_id=remote_townhall.jurisdiction_id,
        api_key=remote_townhall.api_key,
        poll_seconds=0,  # every poll reads every sent forward
        timeout_seconds=5,
    )
    rule = RoutingRule.objects.create(body=body)
    rule.service_types.add(pothole)
    ServiceMapping.objects.create(
        body=body,
        service_type=pothole,
        remote_code="road_defect",
        attributes={
            "size": {"code": "severity", "values": {"small": "minor", "large": "major"}},
            "depth_cm": "depth",
        },
    )
    routing_cache_clear()
    yield body
    routing_cache_clear()
    remote_townhall.start()


def report(pothole: Any, where: dict[str, float], text: str = "Deep pothole by no. 12") -> Case:
    return case_open(
        service_type=pothole,
        channel="web",
        description=text,
        answers={"size": "large", "depth_cm": 12},
        **where,
    )


def public_texts(case: Case) -> list[str]:
    """What the resident reads on the case's page, oldest first."""
    return [
        str(event.content.get("note") or event.content.get("text") or "")
        for event in case_public_timeline(case=case)
    ]


def test_a_case_goes_to_the_county_and_comes_back_fixed(
    remote_townhall: RemoteTownhall, county: Body, pothole: Any
) -> None:
    case = report(pothole, INSIDE)
    forward = Forward.objects.get(case=case)
    assert forward.state == ForwardState.PENDING

    assert forwards_send_due() == 1
    forward.refresh_from_db()
    assert forward.state == ForwardState.SENT
    assert forward.remote_id.startswith("CO-"), forward.remote_id
    assert forward.syncs.filter(kind=SyncKind.SEND, ok=True).count() == 1

    theirs = remote_townhall.case(forward.remote_id)
    assert theirs["service_code"] == "road_defect"
    assert theirs["answers"]["severity"] == "major"
    assert float(theirs["answers"]["depth"]) == 12
    assert theirs["description"] == "Deep pothole by no. 12"
    assert (theirs["lat"], theirs["long"]) == (INSIDE["lat"], INSIDE["long"])
    assert theirs["channel"] == "open311"
    assert theirs["status"] == CaseStatus.NEW
    # A second sweep sends nothing again: the county has it once.
    count = remote_townhall.case_count()
    assert forwards_send_due() == 0
    assert remote_townhall.case_count() == count

    remote_townhall.set_status(forward.remote_id, "in_progress", "A crew is booked for Tuesday.")
    first = forwards_poll()
    assert (first.read, first.applied, first.failed_bodies) == (1, 1, 0)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert "A crew is booked for Tuesday." in public_texts(case), public_texts(case)
    # Read again with nothing new at the county: nothing applied, no update written twice.
    events = case.events.count()
    again = forwards_poll()
    assert (again.read, again.applied) == (1, 0)
    assert case.events.count() == events

    remote_townhall.set_status(forward.remote_id, "resolved", "Filled and sealed.")
    assert forwards_poll().applied == 1
    case.refresh_from_db()
    forward.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert "Filled and sealed." in public_texts(case), public_texts(case)
    assert forward.state == ForwardState.CLOSED
    events = case.events.count()
    # A closed forward is not read any more.
    assert forwards_poll_due() == 0
    assert case.events.count() == events


def test_a_case_outside_the_boundary_stays_here(
    remote_townhall: RemoteTownhall, county: Body, pothole: Any
) -> None:
    count = remote_townhall.case_count()
    case = report(pothole, OUTSIDE)
    assert not Forward.objects.filter(case=case).exists()
    assert forwards_send_due() == 0
    assert remote_townhall.case_count() == count


def test_the_county_down_means_retries_then_one_send(
    remote_townhall: RemoteTownhall, county: Body, pothole: Any
) -> None:
    count = remote_townhall.case_count()
    remote_townhall.stop()
    case = report(pothole, INSIDE, "Pothole reported while the county is down")

    assert forwards_send_due() == 0
    forward = Forward.objects.get(case=case)
    assert forward.state == ForwardState.PENDING
    assert forward.attempts == 1
    assert forward.last_error
    assert forward.next_attempt_at is not None and forward.next_attempt_at > clock.now()
    retry = forward.syncs.get()
    assert (retry.kind, retry.ok) == (SyncKind.RETRY, False)
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW  # the case is ours still, untouched

    # Not due yet: the sweep leaves it alone even with the county back.
    remote_townhall.start()
    assert forwards_send_due() == 0
    assert remote_townhall.case_count() == count

    with time_machine.travel(forward.next_attempt_at + timedelta(seconds=1), tick=True):
        assert forwards_send_due() == 1
    forward.refresh_from_db()
    assert forward.state == ForwardState.SENT
    assert forward.attempts == 2
    assert remote_townhall.case_count() == count + 1
    assert remote_townhall.case(forward.remote_id)["description"] == (
        "Pothole reported while the county is down"
    )
    kinds = list(forward.syncs.order_by("at", "pk").values_list("kind", "ok"))
    assert kinds == [(SyncKind.RETRY, False), (SyncKind.SEND, True)]


def test_polling_a_stopped_county_records_a_retry_and_changes_nothing(
    remote_townhall: RemoteTownhall, county: Body, pothole: Any
) -> None:
    case = report(pothole, INSIDE)
    assert forwards_send_due() == 1
    forward = Forward.objects.get(case=case)
    remote_townhall.set_status(forward.remote_id, "in_progress", "On our list.")

    remote_townhall.stop()
    down = forwards_poll()
    assert (down.read, down.applied, down.failed_bodies) == (0, 0, 1)
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    assert ForwardSync.objects.filter(forward=forward, kind=SyncKind.RETRY, ok=False).exists()

    remote_townhall.start()
    county.refresh_from_db()
    # The body backs off after a failed poll: the next round is after its retry time.
    later = getattr(county, "sync_retry_at", None) or clock.now()
    with time_machine.travel(later + timedelta(seconds=1), tick=True):
        back = forwards_poll()
    assert (back.read, back.applied, back.failed_bodies) == (1, 1, 0)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS


def test_a_key_the_county_refuses_fails_the_forward_without_posting(
    remote_townhall: RemoteTownhall, county: Body, pothole: Any
) -> None:
    count = remote_townhall.case_count()
    Body.objects.filter(pk=county.pk).update(api_key="not-the-county-key")
    case = report(pothole, INSIDE)
    assert forwards_send_due() == 0
    forward = Forward.objects.get(case=case)
    assert forward.state == ForwardState.FAILED  # a 403 will not pass by retrying
    assert "not-the-county-key" not in forward.last_error
    assert remote_townhall.case_count() == count
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
