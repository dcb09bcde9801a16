"""Every intake adapter, fed arbitrary bytes and strings, never raises and never loses the
message: it is stored (whatever became of it), or refused with a clear error in the
caller's format (issue 15; docs/security/input.md).

Strings include NUL, every other control character and lone surrogates; e-mails are
arbitrary bytes and mutated real messages.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from townhall.core.errors import ValidationFailed
from townhall.intake.channels import (
    intake_email_receive,
    intake_sms_receive,
    intake_webhook_receive,
)
from townhall.intake.email_in import email_parse
from townhall.intake.imap import mailbox_poll
from townhall.intake.messages import Dedupe, IncomingMessage, Location, Sender
from townhall.intake.models import InboundMessage, Outcome, WebhookSource
from townhall.intake.services import intake_accept, intake_submit
from townhall.notify.channels.webhook import webhook_signature
from townhall.open311.keys import api_key_issue

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).parent.parent / "intake" / "samples"
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any code point, surrogates included (what a broken encoder or a hostile client sends).
anything = st.text(alphabet=st.characters(blacklist_categories=()), max_size=300)
# What can travel in an HTTP form (UTF-8: no lone surrogates), NUL and controls included.
form_text = st.text(max_size=300)
SAMPLE_MAILS = sorted(SAMPLES.glob("*.eml"))


@st.composite
def mutated_mail(draw: st.DrawFn) -> bytes:
    """A real message with bytes flipped, cut or inserted: closer to what breaks parsers."""
    raw = bytearray(draw(st.sampled_from(SAMPLE_MAILS)).read_bytes()[:20_000])
    for _ in range(draw(st.integers(0, 8))):
        at = draw(st.integers(0, max(0, len(raw) - 1)))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and raw:
            raw[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[at : at + draw(st.integers(1, 200))]
        else:
            raw[at:at] = draw(st.binary(max_size=40))
    return bytes(raw)


mails = st.one_of(st.binary(max_size=2000), mutated_mail())


@pytest.fixture
def inbound(settings: Any, town: Any) -> Any:
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    settings.TOWNHALL_INTAKE_RATE_LIMIT_PER_HOUR = 100_000
    return settings


def _refusal(call: Any) -> Any:
    """The call's result, or the refusal it raised (ValidationFailed, InvalidCaseInput)."""
    from townhall.cases.errors import InvalidCaseInput

    try:
        return call()
    except (ValidationFailed, InvalidCaseInput) as exc:
        return exc


def _stored_one_more(before: int) -> None:
    assert InboundMessage.objects.count() == before + 1


@FUZZ
@given(raw=mails)
def test_email_parse_never_raises(raw: bytes) -> None:
    parsed = email_parse(raw, max_bytes=10_000_000)
    assert isinstance(parsed.text, str)


@FUZZ
@given(raw=mails)
def test_any_email_is_kept_or_refused_clearly(inbound: Any, raw: bytes) -> None:
    before = InboundMessage.objects.count()
    refused = _refusal(lambda: intake_email_receive(raw, source="webhook"))
    if isinstance(refused, ValidationFailed):  # too large, the only refusal
        assert refused.details
        return
    result = refused
    if result.message.pk is not None and InboundMessage.objects.count() == before:
        # A redelivery (same Message-ID as an earlier example): the first one is kept.
        assert InboundMessage.objects.filter(pk=result.message.pk).exists()
        return
    _stored_one_more(before)
    assert result.message.outcome != Outcome.RECEIVED or result.message.pk


@FUZZ
@given(number=anything, body=anything, sid=anything, extra=st.dictionaries(anything, anything))
def test_any_sms_is_kept(inbound: Any, number: str, body: str, sid: str, extra: Any) -> None:
    before = InboundMessage.objects.count()
    result = intake_sms_receive(from_number=number, body=body, message_id=sid, raw=extra)
    assert InboundMessage.objects.filter(pk=result.message.pk).exists()
    assert InboundMessage.objects.count() in (before, before + 1)  # same sid: a redelivery


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | anything,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(anything, children, max_size=4)
    ),
    max_leaves=12,
)
partner_payloads = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "id": json_values,
            "text": anything,
            "subject": anything,
            "thread": anything,
            "service_code": anything,
            "sender": st.fixed_dictionaries(
                {}, optional=dict.fromkeys(("name", "email", "phone", "handle"), json_values)
            ),
            "location": st.fixed_dictionaries(
                {}, optional={"lat": json_values, "long": json_values, "address": anything}
            ),
        },
    ),
)


@FUZZ
@given(payload=partner_payloads, raw=anything)
def test_any_partner_payload_is_kept_or_refused_with_its_problems(
    inbound: Any, payload: Any, raw: str
) -> None:
    source, _ = WebhookSource.objects.get_or_create(
        slug="social", defaults={"name": "Social", "secret": "s3cret"}
    )
    before = InboundMessage.objects.count()
    result = _refusal(lambda: intake_webhook_receive(source, payload, raw=raw))
    if isinstance(result, ValidationFailed):
        assert result.details and all(result.details.values())
        assert InboundMessage.objects.count() == before
        return
    assert InboundMessage.objects.filter(pk=result.message.pk).exists()


@FUZZ
@given(payload=partner_payloads)
def test_the_partner_endpoint_answers_in_json_whatever_it_gets(
    client: Client, inbound: Any, payload: Any
) -> None:
    import orjson

    source, _ = WebhookSource.objects.get_or_create(
        slug="social", defaults={"name": "Social", "secret": "s3cret"}
    )
    try:
        body = orjson.dumps(payload)
    except (TypeError, orjson.JSONEncodeError):  # lone surrogates: not JSON at all
        body = str(payload).encode("utf-8", "surrogatepass")
    now = int(time.time())
    response = client.post(
        "/hooks/intake/social/",
        body,
        content_type="application/json",
        HTTP_X_TOWNHALL_TIMESTAMP=str(now),
        HTTP_X_TOWNHALL_SIGNATURE=webhook_signature(secret=source.secret, timestamp=now, body=body),
    )
    assert response.status_code in (202, 400, 409, 422), response.content
    assert response.json()  # errors or the outcome, always JSON


class FakeMailbox:
    def __init__(self, messages: list[bytes]) -> None:
        self.messages = {str(n).encode(): raw for n, raw in enumerate(messages)}
        self.seen: list[bytes] = []

    def unseen(self) -> list[bytes]:
        return [uid for uid in self.messages if uid not in self.seen]

    def fetch(self, uid: bytes) -> bytes:
        return self.messages[uid]

    def done(self, uid: bytes) -> None:
        self.seen.append(uid)

    def close(self) -> None:
        pass


@settings(FUZZ, max_examples=15)
@given(messages=st.lists(mails, min_size=1, max_size=5))
def test_the_imap_poller_takes_every_message_whatever_it_is(
    inbound: Any, messages: list[bytes]
) -> None:
    mailbox = FakeMailbox(messages)
    report = mailbox_poll(mailbox)
    assert sorted(mailbox.seen) == sorted(mailbox.messages)  # nothing left to block it
    assert report.fetched == len(messages) and report.failed == 0


@FUZZ
@given(
    text=anything,
    subject=anything,
    name=anything,
    email=anything,
    phone=anything,
    handle=anything,
    address=anything,
    thread=anything,
    external=anything,
    raw=anything,
)
def test_any_message_through_the_asynchronous_pipeline_is_kept(inbound: Any, **fields: str) -> None:
    message = IncomingMessage(
        channel="social",
        sender=Sender(
            email=fields["email"],
            phone=fields["phone"],
            handle=fields["handle"],
            name=fields["name"],
        ),
        text=fields["text"],
        subject=fields["subject"],
        place=Location(address=fields["address"]),
        thread_hint=fields["thread"],
        external_id=fields["external"],
        source="fuzz",
        raw=fields["raw"],
    )
    result = intake_accept(message)
    stored = InboundMessage.objects.get(pk=result.message.pk)
    assert "\x00" not in stored.raw + stored.text + stored.subject + stored.sender_name


@FUZZ
@given(text=anything, name=anything, email=anything, phone=anything, answer=anything)
def test_a_waiting_channel_opens_a_case_or_refuses_with_nothing_written(
    inbound: Any, pothole: Any, text: str, name: str, email: str, phone: str, answer: str
) -> None:
    from townhall.cases.errors import InvalidCaseInput
    from townhall.cases.models import Case

    before = Case.objects.count()
    message = IncomingMessage(
        channel="phone",
        sender=Sender(email=email, phone=phone, name=name),
        text=text,
        place=Location(lat=42.36, long=-71.09),
        service=pothole,
        answers={"size": answer},
        dedupe=Dedupe.SUGGEST,
        raw=text,
    )
    result = _refusal(lambda: intake_submit(message))
    if isinstance(result, InvalidCaseInput | ValidationFailed):
        assert result.details
        assert Case.objects.count() == before
        return
    assert result.case is not None and Case.objects.count() == before + 1


@FUZZ
@given(
    description=form_text,
    first_name=form_text,
    email=form_text,
    lat=form_text,
    long=form_text,
    size=form_text,
)
def test_open311_answers_in_its_format_whatever_it_is_posted(
    client: Client, inbound: Any, **fields: str
) -> None:
    from xml.etree import ElementTree

    key = inbound.__dict__.setdefault("_fuzz_key", api_key_issue(name="Fuzz")[1])
    data = {
        "api_key": key,
        "service_code": "pothole",
        "lat": fields["lat"],
        "long": fields["long"],
        "attribute[size]": fields["size"],
        "description": fields["description"],
        "first_name": fields["first_name"],
        "email": fields["email"],
    }
    response = client.post("/open311/v2/requests.xml", data)
    assert response.status_code in (200, 400), response.content
    ElementTree.fromstring(response.content)


@FUZZ
@given(description=form_text, name=form_text, email=form_text, phone=form_text, size=form_text)
def test_the_report_form_answers_with_a_page_whatever_it_is_posted(
    client: Client, inbound: Any, description: str, name: str, email: str, phone: str, size: str
) -> None:
    inbound.TOWNHALL_RATE_LIMITS_ENABLED = False  # 40 reports from one client: not a flood here
    response = client.post(
        "/report/pothole/",
        {
            "description": description,
            "attribute_size": size,
            "name": name,
            "email": email,
            "phone": phone,
            "lat": "42.3601",
            "long": "-71.0942",
        },
    )
    assert response.status_code in (302, 400), response.content[:500]
