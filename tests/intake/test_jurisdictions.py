"""Two councils on one site may use the same service code: intake looks a code up in the
council the message is for, and refuses clearly when it cannot tell which one that is."""

from __future__ import annotations

import copy
import time
from datetime import timedelta
from typing import Any

import orjson
import pytest
from django.test import Client

from tests.conftest import SMALL_TOWN
from townhall.cases.models import Case
from townhall.catalog.services import catalog_import
from townhall.intake import services as intake_services
from townhall.intake.messages import Message, Sender
from townhall.intake.models import InboundMessage, Outcome, WebhookSource
from townhall.intake.services import intake_accept, intake_process_pending
from townhall.notify.channels.webhook import webhook_signature


@pytest.fixture
def otherton(town: Any) -> Any:
    """A second council whose services have the same codes as Testville's."""
    spec = copy.deepcopy(SMALL_TOWN)
    spec["jurisdiction"].update(
        slug="otherton", name="Otherton Council", open311_id="otherton.example.org"
    )
    jurisdiction, _ = catalog_import(spec=spec)
    return jurisdiction


def post_json(client: Client, source: WebhookSource, payload: Any) -> Any:
    body = orjson.dumps(payload)
    now = int(time.time())
    return client.post(
        f"/hooks/intake/{source.slug}/",
        body,
        content_type="application/json",
        HTTP_X_TOWNHALL_TIMESTAMP=str(now),
        HTTP_X_TOWNHALL_SIGNATURE=webhook_signature(secret=source.secret, timestamp=now, body=body),
    )


def report(**kwargs: Any) -> Message:
    kwargs.setdefault("service_code", "pothole")
    return Message(
        channel="social",
        sender=Sender(handle="social:ann", name="Ann"),
        text="A deep pothole outside number 12 on Main Street",
        **kwargs,
    )


def test_a_partner_bound_to_a_council_gets_that_councils_service(
    client: Client, town: Any, otherton: Any
) -> None:
    for council in (otherton, town):
        source = WebhookSource.objects.create(
            slug=f"bridge-{council.slug}", name="Bridge", secret="s3cret", jurisdiction=council
        )
        response = post_json(client, source, {"text": "Deep hole", "service_code": "pothole"})
        assert response.status_code == 202, response.content
        case = InboundMessage.objects.get(pk=response.json()["id"]).case
        assert case is not None
        assert case.service_type.jurisdiction_id == council.pk
        assert case.service_type.code == "pothole"


def test_a_message_without_a_service_goes_to_its_councils_fallback_service(
    client: Client, town: Any, otherton: Any, settings: Any
) -> None:
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    source = WebhookSource.objects.create(
        slug="bridge-otherton", name="Bridge", secret="s3cret", jurisdiction=otherton
    )
    response = post_json(client, source, {"text": "Something is wrong on Main Street"})
    assert response.status_code == 202, response.content
    case = InboundMessage.objects.get(pk=response.json()["id"]).case
    assert case is not None
    assert (case.service_type.jurisdiction_id, case.service_type.code) == (otherton.pk, "pothole")


def test_a_shared_code_without_a_council_is_refused_clearly(
    client: Client, town: Any, otherton: Any
) -> None:
    source = WebhookSource.objects.create(slug="bridge", name="Bridge", secret="s3cret")
    response = post_json(client, source, {"text": "Deep hole", "service_code": "pothole"})
    assert response.status_code == 422
    body = response.json()
    assert body["outcome"] == "rejected"
    assert "several councils" in body["reason"]
    assert Case.objects.count() == 0


def test_a_code_only_one_council_has_still_needs_no_council(town: Any, otherton: Any) -> None:
    otherton.services.filter(code="no_heat").update(active=False)
    result = intake_accept(report(service_code="no_heat"))
    assert result.case is not None
    assert result.case.service_type.jurisdiction_id == town.pk


def test_a_code_the_council_does_not_offer_is_unknown_there(town: Any, otherton: Any) -> None:
    otherton.services.filter(code="pothole").update(active=False)
    result = intake_accept(report(jurisdiction_id=otherton.pk))
    assert result.case is None
    assert result.message.outcome == Outcome.REJECTED
    assert "Unknown service 'pothole'" in result.message.reason


def test_a_message_processed_later_keeps_its_council(
    town: Any, otherton: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = intake_services.case_open

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(intake_services, "case_open", broken)
    result = intake_accept(report(jurisdiction_id=otherton.pk))
    assert result.outcome == Outcome.RECEIVED
    stored = InboundMessage.objects.get()
    assert stored.jurisdiction_id == otherton.pk
    monkeypatch.setattr(intake_services, "case_open", real)
    assert intake_process_pending(older_than=timedelta(0)) == 1
    stored.refresh_from_db()
    assert stored.outcome == Outcome.OPENED
    assert stored.case is not None
    assert stored.case.service_type.jurisdiction_id == otherton.pk
