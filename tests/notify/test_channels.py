"""Channel adapters: what each one hands to its provider, and how failures are classified.

No database and no network: e-mail goes to Django's locmem backend, HTTP goes through an
in-memory transport (the real urllib transport is exercised against a loopback server).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import io
import json
import pickle
import smtplib
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from townhall.notify.channels import (
    ChannelAdapter,
    ChannelError,
    ConsoleSms,
    EmailChannel,
    FakeSmsProvider,
    HttpResponse,
    HttpSmsGateway,
    InAppChannel,
    OutgoingMessage,
    SendResult,
    WebhookChannel,
    channel_adapter,
    channel_adapters_reset,
    sms_segments,
    urllib_transport,
    webhook_signature,
    webhook_verify,
)
from townhall.notify.channels.base import retry_after_seconds

KEY = "case-42:status_changed:citizen-7:sms"
PHONE = "+16175550199"


def message(**overrides: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "key": KEY,
        "channel": "sms",
        "to": PHONE,
        "subject": "Your request TH-26-004211",
        "body": "Your pothole report TH-26-004211 is now In progress.",
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)


def email_message(**overrides: Any) -> OutgoingMessage:
    return message(channel="email", to="rosa@example.org", **overrides)


def webhook_message(**overrides: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "channel": "webhook",
        "to": "https://hooks.testville.example.org/townhall",
        "body": '{"event":"case.status_changed","case":"TH-26-004211"}',
    }
    fields.update(overrides)
    return message(**fields)


class Recorder:
    """A transport that records each request and answers from a script (default 200)."""

    def __init__(self, *responses: HttpResponse) -> None:
        self.responses = list(responses)
        self.calls: list[tuple[str, str, dict[str, str], bytes]] = []

    def __call__(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> HttpResponse:
        self.calls.append((method, url, dict(headers), body))
        return self.responses.pop(0) if self.responses else HttpResponse(200, {}, b"")


@pytest.fixture(autouse=True)
def _fresh_adapters() -> Iterator[None]:
    channel_adapters_reset()
    yield
    channel_adapters_reset()


@pytest.fixture
def provider() -> FakeSmsProvider:
    return FakeSmsProvider()


@pytest.fixture
def gateway(provider: FakeSmsProvider) -> HttpSmsGateway:
    return HttpSmsGateway(
        account_sid="AC123",
        auth_token="tok-secret",
        from_number="+16175550100",
        base_url="https://sms.example.net/2010-04-01",
        transport=provider,
    )


# --- errors --------------------------------------------------------------------------------


def test_a_channel_error_survives_pickling_with_its_classification() -> None:
    error = ChannelError("slow down", retryable=True, code="rate_limited", retry_after=2.5)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, just made
    assert (copy.message, copy.retryable, copy.code, copy.retry_after) == (
        "slow down",
        True,
        "rate_limited",
        2.5,
    )
    assert str(copy) == "slow down [rate_limited]"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("30", 30.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        ("Wed, 21 Oct 2026 07:28:30 GMT", 20.0),
        ("soon", None),
        ("nan", None),
        ("", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    header: str, expected: float | None
) -> None:
    now = 1792567690.0  # 2026-10-21 07:28:10 UTC
    assert retry_after_seconds({"retry-after": header}, now=now) == expected


# --- e-mail --------------------------------------------------------------------------------


def test_an_email_carries_one_click_unsubscribe_and_a_message_id_from_the_key(
    mailoutbox: list[EmailMessage], settings: Any
) -> None:
    settings.DEFAULT_FROM_EMAIL = "Townhall <noreply@testville.example.org>"
    result = EmailChannel().send(
        email_message(
            html_body="<p>In progress</p>",
            unsubscribe_url="https://testville.example.org/u/abc123",
        )
    )

    assert len(mailoutbox) == 1
    sent = mailoutbox[0].message()
    assert sent["To"] == "rosa@example.org"
    assert sent["Subject"] == "Your request TH-26-004211"
    assert sent["List-Unsubscribe"] == "<https://testville.example.org/u/abc123>"
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent["Auto-Submitted"] == "auto-generated"
    key_hash = hashlib.sha256(KEY.encode()).hexdigest()[:32]
    assert sent["Message-ID"] == result.provider_message_id
    assert result.provider_message_id.startswith("<")
    assert result.provider_message_id.endswith(f".{key_hash}@testville.example.org>")
    assert result.status == "sent"
    assert mailoutbox[0].body == "Your pothole report TH-26-004211 is now In progress."
    assert mailoutbox[0].alternatives == [("<p>In progress</p>", "text/html")]


def test_an_email_without_unsubscribe_url_or_html_is_plain_text_without_list_headers(
    mailoutbox: list[EmailMessage],
) -> None:
    EmailChannel(from_email="alerts@millbrook.example.org").send(email_message())

    sent = mailoutbox[0].message()
    assert sent["List-Unsubscribe"] is None
    assert sent["List-Unsubscribe-Post"] is None
    assert sent["From"] == "alerts@millbrook.example.org"
    assert sent["Message-ID"].endswith("@millbrook.example.org>")
    assert not sent.is_multipart()


@pytest.mark.parametrize(
    ("default_from", "domain"),
    [
        ("Townhall <noreply@testville.example.org>", "testville.example.org"),
        ("noreply@millbrook.example.org", "millbrook.example.org"),
        ("townhall", "townhall.local"),
    ],
)
def test_the_message_id_domain_is_the_senders_or_townhall_local(
    mailoutbox: list[EmailMessage], settings: Any, default_from: str, domain: str
) -> None:
    settings.DEFAULT_FROM_EMAIL = default_from
    result = EmailChannel().send(email_message())
    assert result.provider_message_id.endswith(f"@{domain}>")


def test_different_keys_give_different_message_ids(mailoutbox: list[EmailMessage]) -> None:
    channel = EmailChannel()
    first = channel.send(email_message(key="a"))
    second = channel.send(email_message(key="b"))
    assert first.provider_message_id != second.provider_message_id


class FailingBackend(BaseEmailBackend):
    def __init__(self, error: Exception, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise self.error


@pytest.mark.parametrize(
    ("error", "retryable", "code"),
    [
        (
            smtplib.SMTPRecipientsRefused({"rosa@example.org": (550, b"5.1.1 No such user")}),
            False,
            "recipient_refused",
        ),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True, "smtp"),
        (smtplib.SMTPDataError(451, b"4.3.0 Try again later"), True, "smtp"),
        (ConnectionRefusedError(111, "Connection refused"), True, "network"),
        (TimeoutError("timed out"), True, "network"),
    ],
)
def test_a_refused_recipient_is_permanent_and_other_smtp_trouble_is_retryable(
    error: Exception, retryable: bool, code: str
) -> None:
    channel = EmailChannel(connection_factory=lambda **kw: FailingBackend(error, **kw))
    with pytest.raises(ChannelError) as caught:
        channel.send(email_message())
    assert (caught.value.retryable, caught.value.code) == (retryable, code)


@pytest.mark.parametrize("to", ["", "not-an-address", "a@example.org, b@example.org"])
def test_an_email_to_something_that_is_not_one_address_is_never_sent(
    mailoutbox: list[EmailMessage], to: str
) -> None:
    with pytest.raises(ChannelError) as caught:
        EmailChannel().send(dataclasses.replace(email_message(), to=to))
    assert (caught.value.retryable, caught.value.code) == (False, "invalid_address")
    assert mailoutbox == []


def test_a_subject_with_a_line_break_is_a_permanent_failure(
    mailoutbox: list[EmailMessage],
) -> None:
    with pytest.raises(ChannelError) as caught:
        EmailChannel().send(email_message(subject="Hello\nBcc: everyone@example.org"))
    assert (caught.value.retryable, caught.value.code) == (False, "bad_header")
    assert mailoutbox == []


# --- SMS gateway ---------------------------------------------------------------------------


def test_an_sms_is_posted_as_a_form_with_basic_auth_and_the_idempotency_key(
    gateway: HttpSmsGateway, provider: FakeSmsProvider
) -> None:
    result = gateway.send(
        message(status_callback_url="https://testville.example.org/notify/status/42")
    )

    assert result == SendResult(provider_message_id="SM1", status="queued")
    assert provider.sent == [
        {
            "To": PHONE,
            "From": "+16175550100",
            "Body": "Your pothole report TH-26-004211 is now In progress.",
            "StatusCallback": "https://testville.example.org/notify/status/42",
        }
    ]
    request = provider.requests[0]
    assert request.method == "POST"
    assert request.url == "https://sms.example.net/2010-04-01/Accounts/AC123/Messages.json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(
        b"AC123:tok-secret"
    ).decode("ascii")
    assert provider.authorization() == request.headers["Authorization"]
    assert request.headers["Idempotency-Key"] == KEY
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert provider.messages_to(PHONE) == ["Your pothole report TH-26-004211 is now In progress."]


def test_an_sms_without_status_callback_sends_no_statuscallback_field(
    gateway: HttpSmsGateway, provider: FakeSmsProvider
) -> None:
    gateway.send(message(body="Olá! Ação concluída & fechada = sim"))
    assert provider.sent == [
        {"To": PHONE, "From": "+16175550100", "Body": "Olá! Ação concluída & fechada = sim"}
    ]


@pytest.mark.parametrize(
    ("provider_status", "expected"),
    [
        ("queued", "queued"),
        ("accepted", "queued"),
        ("sending", "queued"),
        ("sent", "sent"),
        ("delivered", "delivered"),
    ],
)
def test_the_providers_status_maps_onto_sent_queued_or_delivered(
    provider_status: str, expected: str
) -> None:
    answer = json.dumps({"sid": "SMabc", "status": provider_status}).encode()
    gateway = HttpSmsGateway(
        account_sid="AC1",
        auth_token="t",
        from_number="+16175550100",
        transport=Recorder(HttpResponse(200, {}, answer)),
    )
    assert gateway.send(message()) == SendResult("SMabc", expected)


def test_a_429_is_retryable_with_the_providers_delay(
    gateway: HttpSmsGateway, provider: FakeSmsProvider
) -> None:
    provider.fail_next(429, retry_after=30)

    with pytest.raises(ChannelError) as caught:
        gateway.send(message())
    assert caught.value.retryable is True
    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after == 30.0
    assert provider.sent == []

    assert gateway.send(message()).provider_message_id == "SM1"
    assert len(provider.sent) == 1
    assert [r.status for r in provider.requests] == [429, 201]


def test_a_429_without_retry_after_leaves_the_delay_to_the_outbox(
    gateway: HttpSmsGateway, provider: FakeSmsProvider
) -> None:
    provider.fail_next(429)
    with pytest.raises(ChannelError) as caught:
        gateway.send(message())
    assert (caught.value.retryable, caught.value.retry_after) == (True, None)


@pytest.mark.parametrize(
    ("status", "code", "retryable", "expected_code"),
    [
        (500, "", True, "http_500"),
        (503, "", True, "http_503"),
        (408, "", True, "http_408"),
        (400, "21211", False, "21211"),  # invalid 'To' phone number
        (400, "21610", False, "21610"),  # recipient replied STOP
        (401, "20003", False, "20003"),  # bad credentials
        (404, "", False, "http_404"),
    ],
)
def test_5xx_and_408_are_retryable_and_other_4xx_are_permanent_with_the_providers_code(
    gateway: HttpSmsGateway,
    provider: FakeSmsProvider,
    status: int,
    code: str,
    retryable: bool,
    expected_code: str,
) -> None:
    provider.fail_next(status, code=code)
    with pytest.raises(ChannelError) as caught:
        gateway.send(message())
    assert (caught.value.retryable, caught.value.code) == (retryable, expected_code)
    assert provider.sent == []


def test_scripted_failures_repeat_the_given_number_of_times(
    gateway: HttpSmsGateway, provider: FakeSmsProvider
) -> None:
    provider.fail_next(503, times=2)
    for _ in range(2):
        with pytest.raises(ChannelError):
            gateway.send(message())
    assert gateway.send(message()).status == "queued"
    assert [r.status for r in provider.requests] == [503, 503, 201]


@pytest.mark.parametrize(
    "to",
    [
        "617-555-0199",  # national format, never normalised here
        "16175550199",  # no plus
        "+06175550199",  # country code cannot start with 0
        "+1 617 555 0199",
        "+123456",  # too short
        "+1234567890123456",  # too long
        "+١٦١٧٥٥٥٠١٩٩",  # Arabic-Indic digits
        "+16175550199\n",
        "",
    ],
)
def test_an_invalid_number_is_never_sent(
    gateway: HttpSmsGateway, provider: FakeSmsProvider, to: str
) -> None:
    with pytest.raises(ChannelError) as caught:
        gateway.send(message(to=to))
    assert (caught.value.retryable, caught.value.code) == (False, "invalid_number")
    assert provider.requests == []


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (b"<html>Accepted</html>", "bad_response"),
        (b'{"status": "queued"}', "bad_response"),
        (b'{"sid": "SM9", "status": "failed", "error_code": 30007}', "30007"),
        (b'{"sid": "SM9", "status": "undelivered"}', "undelivered"),
    ],
)
def test_an_accepted_request_with_an_unusable_answer_is_not_resent(
    answer: bytes, code: str
) -> None:
    gateway = HttpSmsGateway(
        account_sid="AC1",
        auth_token="t",
        from_number="+16175550100",
        transport=Recorder(HttpResponse(201, {}, answer)),
    )
    with pytest.raises(ChannelError) as caught:
        gateway.send(message())
    assert (caught.value.retryable, caught.value.code) == (False, code)


def test_the_gateway_never_shows_its_auth_token(gateway: HttpSmsGateway) -> None:
    assert "tok-secret" not in repr(gateway)


def test_two_workers_can_share_one_fake_provider(provider: FakeSmsProvider) -> None:
    gateway = HttpSmsGateway(
        account_sid="AC1", auth_token="t", from_number="+16175550100", transport=provider
    )
    results: list[SendResult] = []
    results_lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(50):
            result = gateway.send(message(key=f"{n}-{i}", to=f"+1617555{n:04d}", body=str(i)))
            with results_lock:
                results.append(result)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(provider.sent) == 200
    assert len({r.provider_message_id for r in results}) == 200
    assert provider.messages_to("+16175550002") == [str(i) for i in range(50)]


# --- console SMS ---------------------------------------------------------------------------


def test_the_console_adapter_writes_the_sms_to_its_stream() -> None:
    stream = io.StringIO()
    result = ConsoleSms(stream=stream).send(message(body="Hello Rosa"))
    assert stream.getvalue() == f"SMS to {PHONE}: Hello Rosa\n"
    assert result.status == "sent"
    assert result.provider_message_id


def test_the_console_adapter_writes_to_stdout_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = ConsoleSms().send(message(body="One"))
    second = ConsoleSms().send(message(body="Two"))
    assert capsys.readouterr().out == f"SMS to {PHONE}: One\nSMS to {PHONE}: Two\n"
    assert first.provider_message_id != second.provider_message_id


# --- segments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("Your pothole report TH-26-004211 was received.", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("café à Genève: è é ù ì ò Ç Ø Å Δ", 1),  # all in the GSM-7 basic set
        ("€" * 80, 1),  # extension characters count two: 160
        ("a" * 159 + "€", 2),  # 161
        ("[" + "a" * 159, 2),
        ("a" * 152 + "€" + "a" * 152, 3),  # 306 septets, but the pair never straddles parts
        ("Olá, a sua reclamação", 1),  # á, ã are not GSM-7: UCS-2
        ("á" * 70, 1),
        ("á" * 71, 2),
        ("á" * 134, 2),
        ("á" * 135, 3),
        ("a" * 150 + "á", 3),  # one accent turns 151 characters into UCS-2
        ("👍" * 35, 1),  # beyond the BMP: two UCS-2 units each
        ("👍" * 36, 2),
    ],
)
def test_segments_are_counted_per_gsm7_or_ucs2(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


# --- webhook signatures --------------------------------------------------------------------

SECRET = "whsec_demo_secret"
TIMESTAMP = 1767225600
BODY = b'{"event":"case.status_changed","case":"TH-26-004211"}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(
        SECRET.encode(), f"{TIMESTAMP}.".encode() + BODY, hashlib.sha256
    ).hexdigest()
    signature = webhook_signature(secret=SECRET, timestamp=TIMESTAMP, body=BODY)
    assert signature == "v1=" + expected
    # The same vector as docs/webhooks.md.
    assert signature == "v1=5911d16f304d5eca366aaeabab9654c79b60f61fbe012bd05fbfa747301a46df"


GOOD = webhook_signature(secret=SECRET, timestamp=TIMESTAMP, body=BODY)
OLD = webhook_signature(secret="whsec_old_secret", timestamp=TIMESTAMP, body=BODY)


@pytest.mark.parametrize(
    ("signature_header", "timestamp_header", "body", "secret", "now", "accepted"),
    [
        pytest.param(GOOD, str(TIMESTAMP), BODY, SECRET, TIMESTAMP + 5, True, id="good"),
        pytest.param(GOOD, str(TIMESTAMP), BODY + b" ", SECRET, TIMESTAMP, False, id="tampered"),
        pytest.param(GOOD, str(TIMESTAMP), BODY, "whsec_wrong", TIMESTAMP, False, id="wrong-key"),
        pytest.param(GOOD, str(TIMESTAMP), BODY, SECRET, TIMESTAMP + 300, True, id="edge"),
        pytest.param(GOOD, str(TIMESTAMP), BODY, SECRET, TIMESTAMP + 301, False, id="stale"),
        pytest.param(GOOD, str(TIMESTAMP), BODY, SECRET, TIMESTAMP - 301, False, id="future"),
        pytest.param(GOOD, str(TIMESTAMP + 1), BODY, SECRET, TIMESTAMP, False, id="other-ts"),
        pytest.param(GOOD, "soon", BODY, SECRET, TIMESTAMP, False, id="bad-timestamp"),
        pytest.param(f"{OLD},{GOOD}", str(TIMESTAMP), BODY, SECRET, TIMESTAMP, True, id="rotate"),
        pytest.param(f"{GOOD}, {OLD}", str(TIMESTAMP), BODY, SECRET, TIMESTAMP, True, id="rot-2"),
        pytest.param(OLD, str(TIMESTAMP), BODY, SECRET, TIMESTAMP, False, id="only-old-key"),
        pytest.param(GOOD[3:], str(TIMESTAMP), BODY, SECRET, TIMESTAMP, False, id="no-scheme"),
        pytest.param("v0" + GOOD[2:], str(TIMESTAMP), BODY, SECRET, TIMESTAMP, False, id="v0"),
        pytest.param("", str(TIMESTAMP), BODY, SECRET, TIMESTAMP, False, id="empty"),
        pytest.param("v1=é", str(TIMESTAMP), BODY, SECRET, TIMESTAMP, False, id="non-ascii"),
    ],
)
def test_verify_accepts_only_a_fresh_signature_by_a_current_secret(
    signature_header: str,
    timestamp_header: str,
    body: bytes,
    secret: str,
    now: int,
    accepted: bool,
) -> None:
    assert (
        webhook_verify(
            secret=secret,
            signature_header=signature_header,
            timestamp_header=timestamp_header,
            body=body,
            now=now,
        )
        is accepted
    )


def test_verify_honours_a_custom_tolerance() -> None:
    common: dict[str, Any] = {
        "secret": SECRET,
        "signature_header": GOOD,
        "timestamp_header": str(TIMESTAMP),
        "body": BODY,
    }
    assert webhook_verify(**common, now=TIMESTAMP + 60, tolerance=60)
    assert not webhook_verify(**common, now=TIMESTAMP + 61, tolerance=60)


# --- webhook channel -----------------------------------------------------------------------


def webhook_channel(transport: Recorder, asked: list[str] | None = None) -> WebhookChannel:
    def secret_for(url: str) -> str:
        if asked is not None:
            asked.append(url)
        return SECRET

    return WebhookChannel(secret_for=secret_for, transport=transport, clock=lambda: TIMESTAMP + 0.9)


def test_a_webhook_is_a_signed_json_post_that_the_receiver_can_verify() -> None:
    transport = Recorder(HttpResponse(204, {}, b""))
    asked: list[str] = []
    result = webhook_channel(transport, asked).send(webhook_message())

    assert result == SendResult(provider_message_id=KEY, status="delivered")
    assert asked == ["https://hooks.testville.example.org/townhall"]
    [(method, url, headers, body)] = transport.calls
    assert (method, url, body) == ("POST", "https://hooks.testville.example.org/townhall", BODY)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Townhall-Delivery"] == KEY
    assert headers["X-Townhall-Timestamp"] == str(TIMESTAMP)
    assert headers["X-Townhall-Signature"] == GOOD
    assert webhook_verify(
        secret=SECRET,
        signature_header=headers["X-Townhall-Signature"],
        timestamp_header=headers["X-Townhall-Timestamp"],
        body=body,
        now=TIMESTAMP + 10,
    )


@pytest.mark.parametrize(
    ("response", "retryable", "code", "retry_after"),
    [
        (HttpResponse(410, {}, b""), False, "gone", None),
        (HttpResponse(429, {"Retry-After": "120"}, b""), True, "rate_limited", 120.0),
        (HttpResponse(503, {"retry-after": "5"}, b""), True, "http_503", 5.0),
        (HttpResponse(500, {}, b"boom"), True, "http_500", None),
        (HttpResponse(408, {}, b""), True, "http_408", None),
        (HttpResponse(400, {}, b"bad"), False, "http_400", None),
        (HttpResponse(401, {}, b""), False, "http_401", None),
        (
            HttpResponse(301, {"Location": "https://elsewhere.example/"}, b""),
            False,
            "redirect",
            None,
        ),
    ],
)
def test_a_410_means_gone_and_429_5xx_408_are_retried_other_answers_are_permanent(
    response: HttpResponse, retryable: bool, code: str, retry_after: float | None
) -> None:
    with pytest.raises(ChannelError) as caught:
        webhook_channel(Recorder(response)).send(webhook_message())
    assert (caught.value.retryable, caught.value.code, caught.value.retry_after) == (
        retryable,
        code,
        retry_after,
    )


@pytest.mark.parametrize(
    "to", ["file:///etc/passwd", "ftp://hooks.example.org/x", "hooks.example.org/x", ""]
)
def test_a_webhook_to_a_non_http_url_is_never_sent(to: str) -> None:
    transport = Recorder()
    with pytest.raises(ChannelError) as caught:
        webhook_channel(transport).send(webhook_message(to=to))
    assert (caught.value.retryable, caught.value.code) == (False, "invalid_url")
    assert transport.calls == []


# --- in-app --------------------------------------------------------------------------------


def test_an_in_app_notice_is_delivered_by_being_in_the_outbox() -> None:
    result = InAppChannel().send(message(channel="inapp", to="citizen-7"))
    assert result == SendResult(provider_message_id=KEY, status="delivered")


# --- registry ------------------------------------------------------------------------------


def test_the_default_channels_need_no_settings(settings: Any) -> None:
    del settings.TOWNHALL_CHANNELS

    adapters = {name: channel_adapter(name) for name in ("email", "sms", "webhook", "inapp")}

    assert isinstance(adapters["email"], EmailChannel)
    assert isinstance(adapters["sms"], ConsoleSms)
    assert isinstance(adapters["webhook"], WebhookChannel)
    assert isinstance(adapters["inapp"], InAppChannel)
    assert {name: a.name for name, a in adapters.items()} == {n: n for n in adapters}
    assert all(isinstance(a, ChannelAdapter) for a in adapters.values())
    assert channel_adapter("email") is adapters["email"]


def test_the_default_webhook_channel_refuses_to_send_without_a_secret(settings: Any) -> None:
    del settings.TOWNHALL_CHANNELS
    with pytest.raises(ChannelError) as caught:
        channel_adapter("webhook").send(webhook_message())
    assert (caught.value.retryable, caught.value.code) == (False, "no_secret")


def test_settings_replace_one_channel_and_keep_the_other_defaults(
    settings: Any, provider: FakeSmsProvider
) -> None:
    settings.TOWNHALL_CHANNELS = {
        "sms": {
            "BACKEND": "townhall.notify.channels.sms.HttpSmsGateway",
            "OPTIONS": {
                "account_sid": "AC9",
                "auth_token": "t",
                "from_number": "+16175550100",
                "transport": provider,
            },
        },
        "sms_backup": {"BACKEND": ConsoleSms, "OPTIONS": {"stream": io.StringIO()}},
    }

    sms = channel_adapter("sms")
    assert isinstance(sms, HttpSmsGateway)
    assert sms.name == "sms"
    assert sms.send(message()).provider_message_id == "SM1"
    assert provider.messages_to(PHONE) == [message().body]
    assert channel_adapter("sms_backup").name == "sms_backup"
    assert isinstance(channel_adapter("email"), EmailChannel)


def test_changing_the_setting_or_resetting_rebuilds_the_adapters(settings: Any) -> None:
    first = channel_adapter("sms")
    settings.TOWNHALL_CHANNELS = {"sms": {"BACKEND": "townhall.notify.channels.sms.ConsoleSms"}}
    second = channel_adapter("sms")
    assert second is not first
    assert channel_adapter("sms") is second
    channel_adapters_reset()
    assert channel_adapter("sms") is not second


@pytest.mark.parametrize(
    ("configured", "name", "fragment"),
    [
        ({}, "fax", "'fax' is not configured"),
        ({"sms": None}, "sms", "'sms' is turned off"),
    ],
)
def test_an_unknown_or_disabled_channel_is_a_key_error_that_says_so(
    settings: Any, configured: dict[str, Any], name: str, fragment: str
) -> None:
    settings.TOWNHALL_CHANNELS = configured
    with pytest.raises(KeyError, match=fragment) as caught:
        channel_adapter(name)
    assert "TOWNHALL_CHANNELS" in str(caught.value)


@pytest.mark.parametrize(
    "entry",
    [
        {"OPTIONS": {}},
        {
            "BACKEND": "townhall.notify.channels.base.SendResult",
            "OPTIONS": {"provider_message_id": "x", "status": "sent"},
        },
    ],
)
def test_a_broken_setting_is_improperly_configured(settings: Any, entry: dict[str, Any]) -> None:
    settings.TOWNHALL_CHANNELS = {"sms": entry}
    with pytest.raises(ImproperlyConfigured):
        channel_adapter("sms")


# --- the real transport, against a loopback server -----------------------------------------


class _Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.seen.append((self.command, self.path, dict(self.headers.items()), body))
        if self.path == "/slow":
            time.sleep(1.0)
        status, headers, answer = {
            "/ok": (201, {"Content-Type": "application/json"}, b'{"sid": "SM7"}'),
            "/bad": (400, {"Content-Type": "application/json"}, b'{"code": 21211}'),
            "/busy": (429, {"Retry-After": "7"}, b""),
            "/moved": (302, {"Location": "/ok"}, b""),
        }.get(self.path, (404, {}, b""))
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except OSError:  # the client gave up waiting (the timeout test)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[str]:
    _Handler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_urllib_transport_returns_success_and_error_answers_alike(loopback: str) -> None:
    transport = urllib_transport(timeout=5)

    ok = transport("POST", f"{loopback}/ok", {"Idempotency-Key": "k1"}, b"To=%2B1")
    bad = transport("POST", f"{loopback}/bad", {}, b"")
    busy = transport("POST", f"{loopback}/busy", {}, b"")

    assert (ok.status, json.loads(ok.body)) == (201, {"sid": "SM7"})
    assert (bad.status, json.loads(bad.body)) == (400, {"code": 21211})
    assert (busy.status, retry_after_seconds(busy.headers)) == (429, 7.0)
    method, path, headers, body = _Handler.seen[0]
    assert (method, path, headers["Idempotency-Key"], body) == ("POST", "/ok", "k1", b"To=%2B1")


def test_the_urllib_transport_does_not_follow_redirects(loopback: str) -> None:
    answer = urllib_transport(timeout=5)("POST", f"{loopback}/moved", {}, b"x")
    assert answer.status == 302
    assert [path for _, path, _, _ in _Handler.seen] == ["/moved"]


def test_the_urllib_transport_turns_timeouts_and_refusals_into_retryable_network_errors(
    loopback: str,
) -> None:
    with pytest.raises(ChannelError) as slow:
        urllib_transport(timeout=0.2)("POST", f"{loopback}/slow", {}, b"")
    assert (slow.value.retryable, slow.value.code) == (True, "network")

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ChannelError) as refused:
        urllib_transport(timeout=2)("POST", f"http://127.0.0.1:{port}/", {}, b"")
    assert (refused.value.retryable, refused.value.code) == (True, "network")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "/relative"])
def test_the_urllib_transport_only_speaks_http(url: str) -> None:
    with pytest.raises(ChannelError) as caught:
        urllib_transport()("POST", url, {}, b"")
    assert (caught.value.retryable, caught.value.code) == (False, "bad_url")
