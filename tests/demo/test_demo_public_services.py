"""The demo shows issue 21 out of the box: notices (road works near its streets, a recall
with batch codes, a draft), meetings with slots in the coming weeks, a fee through the
sandbox; all reachable on the portal, and made once however often the demo is set up."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.appointments.conftest import sign_in
from townhall.appointments.models import MeetingService, Slot, SlotTemplate
from townhall.core import clock
from townhall.demo.loader import demo_load, demo_places, town_spec
from townhall.notices.demo import RECALL_CODES, RECALL_TITLE, ROAD_WORKS_TITLE
from townhall.notices.models import Notice, NoticeEvent
from townhall.notices.selectors import notices_near, recall_code_check
from townhall.payments.conf import payments_setting
from townhall.payments.models import Fee
from townhall.places.models import Place

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Notice.objects.count(),
        NoticeEvent.objects.count(),
        SlotTemplate.objects.count(),
        Slot.objects.count(),
        Fee.objects.count(),
    )


def test_the_demo_seeds_notices_meetings_and_a_fee_once(client: Client, settings: Any) -> None:
    demo_load(cases=5)
    # notices: the road works cover Main Street, the recall knows its codes, a draft waits
    statuses = dict(Notice.objects.values_list("title", "status"))
    assert statuses[ROAD_WORKS_TITLE] == "published" and statuses[RECALL_TITLE] == "published"
    assert sorted(statuses.values()) == ["draft", "published", "published"]
    main = Place.objects.get(address="14 Main Street")
    near = notices_near(lat=main.lat, long=main.long, kinds=["road_works"])
    assert [n.title for n in near] == [ROAD_WORKS_TITLE]
    recall = Notice.objects.get(title=RECALL_TITLE)
    assert recall.recall.codes_count == len(RECALL_CODES) == 5
    check = recall_code_check(notice_id=recall.pk, raw_code="mb 2026 0412")
    assert check is not None and check.affected
    # meetings: Tuesdays and Thursdays with the housing caseworker, slots in the next weeks
    meeting = MeetingService.objects.get(service_type__code="housing_code")
    templates = SlotTemplate.objects.filter(service=meeting)
    assert sorted(templates.values_list("weekday", flat=True)) == [1, 3]
    assert {t.staff.username for t in templates} == {"caseworker.isd"}
    assert Slot.objects.filter(service=meeting, starts_at__gt=clock.now()).count() >= 6 * 4
    # a fee, paid through the sandbox provider
    fee = Fee.objects.get(service_type__code="bulk_item_pickup", active=True)
    assert fee.kind == "fixed" and fee.amount_minor == 2500
    assert payments_setting("PROVIDER") == "sandbox"

    # reachable on the portal
    page = client.get("/notices/")
    assert page.status_code == 200
    assert ROAD_WORKS_TITLE in page.content.decode() and RECALL_TITLE in page.content.decode()
    assert "Water off on Elm Street" not in page.content.decode()  # the draft
    assert client.get(f"/notices/{recall.pk}/").status_code == 200
    answer = client.post(f"/notices/{recall.pk}/", {"code": "MB-2026-0412"})
    assert "your product is affected" in answer.content.decode()
    resident = sign_in(client, "tenant@example.org")
    assert resident.get("/appointments/").status_code == 200  # a resident's appointments

    # set up again (and an older demo set up again): nothing made twice
    before = _counts()
    demo_load(cases=5)
    assert _counts() == before
    from townhall.demo.loader import demo_public_services_load

    demo_public_services_load(town_spec(), demo_places(town_spec()))
    assert _counts() == before
