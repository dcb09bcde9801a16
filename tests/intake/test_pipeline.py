"""The intake pipeline through its doors: e-mail webhook, SMS, partner webhook, retries."""

from __future__ import annotations

import base64
import io
import time
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import orjson
import pytest
from django.test import Client
from PIL import Image

from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseFollower, CasePhoto
from townhall.cases.services import case_acknowledge, case_transition
from townhall.intake import services as intake_services
from townhall.intake.messages import Dedupe, Message, Place, Sender
from townhall.intake.models import (
    DuplicateSuggestion,
    InboundAttachment,
    InboundMessage,
    Outcome,
    WebhookSource,
)
from townhall.intake.services import intake_accept, intake_process_pending, intake_submit
from townhall.notify.channels.sms import sms_request_signature
from townhall.notify.channels.webhook import webhook_signature
from townhall.notify.models import Notification, OptOut
from townhall.people.models import Citizen, ContactPoint

pytestmark = pytest.mark.django_db
PUBLIC = "http://127.0.0.1:8000"
SECRET = "inbound-secret"


@pytest.fixture
def mail(settings: Any, town: Any) -> Any:
    settings.TOWNHALL_INBOUND_EMAIL_SECRET = SECRET
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    return settings


def jpeg(colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


def email_bytes(
    *,
    sender: str = "Rosa Reporter <rosa@example.org>",
    subject: str = "Big hole on Elm Street",
    body: str = "There is a deep pothole outside 12 Elm Street, cars swerve round it.",
    headers: dict[str, str] | None = None,
    photo: bool = False,
    message_id: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "reports@testville.example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="example.org")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if photo:
        msg.add_attachment(jpeg(), maintype="image", subtype="jpeg", filename="hole.jpg")
    return msg.as_bytes()


def post_mail(client: Client, raw: bytes, secret: str = SECRET, age: int = 0) -> Any:
    now = int(time.time()) - age
    return client.post(
        "/hooks/email/inbound/",
        raw,
        content_type="message/rfc822",
        HTTP_X_TOWNHALL_TIMESTAMP=str(now),
        HTTP_X_TOWNHALL_SIGNATURE=webhook_signature(secret=secret, timestamp=now, body=raw),
    )


# --- e-mail ----------------------------------------------------------------------------


def test_an_email_opens_a_case_with_its_photo_and_keeps_the_raw_message(
    client: Client, mail: Any
) -> None:
    raw = email_bytes(photo=True)
    response = post_mail(client, raw)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["outcome"] == "opened", body
    case = Case.objects.get()
    assert body["reference"] == case.reference
    assert case.channel == "email"
    assert case.description.startswith("Big hole on Elm Street")
    assert "12 Elm Street" in case.description
    assert case.reporter is not None
    assert ContactPoint.objects.get(citizen=case.reporter).value == "rosa@example.org"
    assert CasePhoto.objects.filter(case=case).count() == 1
    inbound = InboundMessage.objects.get()
    assert inbound.case == case
    assert inbound.raw.startswith("From: Rosa Reporter")
    assert InboundAttachment.objects.get(message=inbound).filename == "hole.jpg"


def test_the_same_email_delivered_twice_opens_one_case(client: Client, mail: Any) -> None:
    raw = email_bytes(message_id="<once@example.org>")
    first = post_mail(client, raw).json()
    # The provider's retry is signed anew (the same signature again is a replay: 409): with
    # a time two minutes back, so it differs from the first even if a second has passed.
    second = post_mail(client, raw, age=120).json()
    assert Case.objects.count() == 1
    assert first["reference"] == second["reference"]
    assert InboundMessage.objects.count() == 1


def test_a_reply_with_the_reference_in_the_subject_is_added_to_the_case(
    client: Client, mail: Any
) -> None:
    post_mail(client, email_bytes())
    case = Case.objects.get()
    reply = email_bytes(
        subject=f"Re: We have received your request {case.reference}",
        body="It is getting bigger.\n\nOn Mon, Townhall wrote:\n> We have received it.",
    )
    body = post_mail(client, reply).json()
    assert body["outcome"] == "added"
    assert body["reference"] == case.reference
    assert Case.objects.count() == 1
    note = CaseEvent.objects.filter(case=case, kind="note").get()
    assert "It is getting bigger." in note.content["text"]
    assert "We have received it" not in note.content["text"]  # quoted history dropped
    # The resident hears that it was added, through the outbox.
    answer = Notification.objects.get(kind="reply")
    assert answer.to == "rosa@example.org"
    assert case.reference in answer.body


def test_a_reply_to_a_case_waiting_for_the_resident_starts_its_clock_again(
    client: Client, mail: Any
) -> None:
    post_mail(client, email_bytes())
    case = Case.objects.get()
    case_acknowledge(case_id=case.pk)
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=None)
    case_transition(case=case, to=CaseStatus.AWAITING_CITIZEN, actor=None, note="Which side?")
    post_mail(client, email_bytes(subject=f"RE: {case.reference}", body="The north side."))
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        ({"Auto-Submitted": "auto-replied"}, "Rosa <rosa@example.org>"),
        ({"X-Auto-Response-Suppress": "All", "Precedence": "bulk"}, "Rosa <rosa@example.org>"),
        ({}, "MAILER-DAEMON@mx.example.org"),
        ({"X-Townhall-Loop": "testville.example.org"}, "Rosa <rosa@example.org>"),
    ],
    ids=["auto-submitted", "precedence-bulk", "mailer-daemon", "our-own-mail"],
)
def test_machine_mail_is_kept_but_never_becomes_a_case(
    client: Client, mail: Any, headers: dict[str, str], sender: str
) -> None:
    body = post_mail(
        client,
        email_bytes(sender=sender, subject="Automatic reply: Out of office", headers=headers),
    ).json()
    assert body["outcome"] == "ignored"
    assert body["reason"]
    assert Case.objects.count() == 0
    assert InboundMessage.objects.get().outcome == Outcome.IGNORED
    assert not Notification.objects.filter(kind="reply").exists()  # no answer, no loop


def test_a_flood_from_one_sender_is_cut_off_by_the_rate_limit(client: Client, mail: Any) -> None:
    mail.TOWNHALL_INTAKE_RATE_LIMIT_PER_HOUR = 3
    outcomes = [
        post_mail(client, email_bytes(body=f"Hole number {n} on Elm Street, please fix.")).json()[
            "outcome"
        ]
        for n in range(5)
    ]
    # The first is a case; the next two repeat it (the same sender, the same words).
    assert outcomes[:3] == ["opened", "added", "added"]
    assert outcomes[3:] == ["ignored", "ignored"]
    assert InboundMessage.objects.count() == 5


def test_the_email_webhook_refuses_a_bad_signature_and_accepts_basic_auth(
    client: Client, mail: Any
) -> None:
    raw = email_bytes()
    assert post_mail(client, raw, secret="wrong").status_code == 403
    assert (
        client.post("/hooks/email/inbound/", raw, content_type="message/rfc822").status_code == 403
    )
    credentials = base64.b64encode(f"mailgun:{SECRET}".encode()).decode()
    response = client.post(
        "/hooks/email/inbound/",
        {"body-mime": raw.decode()},
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "opened"


def test_the_email_webhook_is_closed_when_no_secret_is_set(client: Client, town: Any) -> None:
    assert post_mail(client, email_bytes(), secret="").status_code == 403
    assert InboundMessage.objects.count() == 0


# --- SMS -------------------------------------------------------------------------------


def sms(client: Client, text: str, sid: str, number: str = "+16175550142") -> Any:
    params = {"From": number, "Body": text, "MessageSid": sid}
    path = "/hooks/sms/inbound/"
    signature = sms_request_signature(auth_token="secret", url=PUBLIC + path, params=params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture
def texting(settings: Any, sms_provider: Any, town: Any) -> Any:
    settings.TOWNHALL_PUBLIC_URL = PUBLIC
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    return settings


def test_texts_thread_by_phone_number_and_a_reference_gets_the_status(
    client: Client, texting: Any
) -> None:
    first = sms(client, "Pothole on Main St by the school, very deep", "SM1")
    assert first.status_code == 200
    case = Case.objects.get()
    assert f"Your reference is {case.reference}" in first.content.decode()
    assert case.channel == "sms"
    assert case.reporter.preferred_channel == "sms"
    # A follow-up text a few minutes later belongs to the same case.
    second = sms(client, "it is next to the crossing", "SM2")
    assert case.reference in second.content.decode()
    assert Case.objects.count() == 1
    assert InboundMessage.objects.get(external_id="SM2").outcome == Outcome.ADDED
    # A reference alone asks how it is going.
    status = sms(client, case.reference.lower(), "SM3").content.decode()
    assert f"{case.reference} (Pothole): New." in status
    assert InboundMessage.objects.get(external_id="SM3").outcome == Outcome.ANSWERED


def test_stop_still_opts_out_and_a_bare_thanks_opens_nothing(client: Client, texting: Any) -> None:
    sms(client, "Streetlight out on Oak Ave", "SM1", number="+16175550111")
    assert "no more texts" in sms(client, "STOP", "SM2", number="+16175550111").content.decode()
    assert OptOut.objects.filter(channel="sms").exists()
    reply = sms(client, "thanks!", "SM3", number="+16175550122").content.decode()
    assert "tell us what it is and where" in reply
    assert Case.objects.count() == 1


# --- partner webhooks -------------------------------------------------------------------


@pytest.fixture
def partner(town: Any, settings: Any) -> WebhookSource:
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    return WebhookSource.objects.create(slug="social", name="Social bridge", secret="s3cret")


def post_json(
    client: Client, source: WebhookSource, payload: Any, secret: str = "", age: int = 0
) -> Any:
    body = orjson.dumps(payload)
    now = int(time.time()) - age
    return client.post(
        f"/hooks/intake/{source.slug}/",
        body,
        content_type="application/json",
        HTTP_X_TOWNHALL_TIMESTAMP=str(now),
        HTTP_X_TOWNHALL_SIGNATURE=webhook_signature(
            secret=secret or source.secret, timestamp=now, body=body
        ),
    )


def test_a_signed_partner_message_opens_a_case_and_handles_are_recognised(
    client: Client, partner: WebhookSource
) -> None:
    payload = {
        "id": "tw-1",
        "text": "Huge pothole at the corner of Elm and 3rd",
        "sender": {"handle": "@jo_millbrook", "name": "Jo"},
        "location": {"lat": 42.3601, "long": -71.0942},
    }
    response = post_json(client, partner, payload)
    assert response.status_code == 202, response.content
    case = Case.objects.get()
    assert response.json()["reference"] == case.reference
    assert (case.lat, case.long) == (42.3601, -71.0942)
    assert ContactPoint.objects.get(kind="handle").value == "social:@jo_millbrook"
    # The same handle later (another topic, far away) is the same person.
    post_json(
        client,
        partner,
        {"id": "tw-2", "text": "Street sign knocked down", "sender": {"handle": "@jo_millbrook"}},
    )
    assert Citizen.objects.count() == 1
    assert Case.objects.count() == 2


def test_bad_partner_requests_get_clear_errors(client: Client, partner: WebhookSource) -> None:
    forged = post_json(client, partner, {"text": "x"}, secret="wrong")
    assert forged.status_code == 403
    replayed = post_json(client, partner, {"text": "x"}, age=600)
    assert replayed.status_code == 403
    bad = post_json(client, partner, {"text": 7.5, "location": {"lat": "north"}})
    assert bad.status_code == 400
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"text", "location.lat"} <= fields
    now = int(time.time())
    not_json = client.post(
        f"/hooks/intake/{partner.slug}/",
        b"{nope",
        content_type="application/json",
        HTTP_X_TOWNHALL_TIMESTAMP=str(now),
        HTTP_X_TOWNHALL_SIGNATURE=webhook_signature(
            secret=partner.secret, timestamp=now, body=b"{nope"
        ),
    )
    assert not_json.status_code == 400
    assert (
        client.post("/hooks/intake/nobody/", b"{}", content_type="application/json").status_code
        == 404
    )
    unknown = post_json(client, partner, {"text": "Hole", "service_code": "no_such"})
    assert unknown.status_code == 422
    assert unknown.json()["outcome"] == "rejected"
    assert Case.objects.count() == 0


# --- duplicates -------------------------------------------------------------------------


def located(text: str, lat: float, long: float, **kw: Any) -> Message:
    return Message(
        channel="social",
        sender=Sender(email=kw.pop("email", "a@example.org")),
        text=text,
        place=Place(lat=lat, long=long),
        service_code="pothole",
        **kw,
    )


def test_a_close_similar_report_follows_the_open_case(town: Any) -> None:
    first = intake_accept(located("Deep pothole outside the library", 42.36000, -71.09000))
    again = intake_accept(
        located("deep pothole outside the library!", 42.36003, -71.09002, email="b@example.org")
    )
    assert again.outcome == Outcome.FOLLOWED
    assert again.case == first.case
    assert Case.objects.count() == 1
    follower = CaseFollower.objects.get(case=first.case)
    assert (
        follower.via == "me_too" and follower.citizen.contact_points.get().value == "b@example.org"
    )
    assert first.case.reference in again.reply


def test_a_less_certain_match_opens_a_case_and_is_suggested_to_staff(town: Any) -> None:
    first = intake_accept(located("Deep pothole outside the library", 42.36000, -71.09000))
    other = intake_accept(
        located("Road surface broken near bus stop", 42.36030, -71.09000, email="c@example.org")
    )
    assert other.outcome == Outcome.OPENED
    suggestion = DuplicateSuggestion.objects.get(case=other.case)
    assert suggestion.candidate == first.case
    assert 25 < suggestion.distance_m < 40
    far = intake_accept(
        located("Deep pothole outside the library", 42.37000, -71.09000, email="d@example.org")
    )
    assert far.outcome == Outcome.OPENED
    assert not DuplicateSuggestion.objects.filter(case=far.case).exists()


def test_where_the_resident_saw_nearby_reports_duplicates_are_only_suggested(
    town: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    from townhall.intake.services import duplicate_suggestions_find, duplicate_suggestions_pending

    first = intake_submit(located("Deep pothole outside the library", 42.36, -71.09))
    with django_capture_on_commit_callbacks(execute=True):
        again = intake_submit(
            Message(
                channel="web",
                sender=Sender(email="b@example.org"),
                text="Deep pothole outside the library",
                place=Place(lat=42.36, long=-71.09),
                service_code="pothole",
                answers={"size": "large"},
                dedupe=Dedupe.SUGGEST,
            )
        )
    assert again.outcome == Outcome.OPENED
    # The search for staff runs after commit, as a task, not while the resident waits: the
    # message row queues it and one run (scheduled once per burst) drains the queue.
    assert not DuplicateSuggestion.objects.exists()
    assert again.message.suggestions_pending
    task = DBTaskResult.objects.get(task_path__endswith="duplicate_suggestions_pending_task")
    assert task.args_kwargs["args"] == []
    assert duplicate_suggestions_pending() == 1
    assert duplicate_suggestions_pending() == 0  # the queue is drained
    again.message.refresh_from_db()
    assert not again.message.suggestions_pending
    assert DuplicateSuggestion.objects.get(case=again.case).candidate == first.case
    assert duplicate_suggestions_find(case_id=again.case.pk) == 0  # once per pair
    # The earlier case does not get the later one as its duplicate.
    assert duplicate_suggestions_find(case_id=first.case.pk) == 0


def test_a_service_with_duplicate_detection_off_never_links(town: Any, pothole: Any) -> None:
    pothole.duplicate_radius_m = 0
    pothole.save()
    intake_accept(located("Deep pothole outside the library", 42.36, -71.09))
    again = intake_accept(
        located("Deep pothole outside the library", 42.36, -71.09, email="b@example.org")
    )
    assert again.outcome == Outcome.OPENED
    assert Case.objects.count() == 2


# --- no request lost --------------------------------------------------------------------


def test_a_message_that_fails_midway_is_kept_and_processed_later(
    town: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = intake_services.case_open

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(intake_services, "case_open", broken)
    result = intake_accept(located("Deep pothole outside the library", 42.36, -71.09))
    assert result.outcome == Outcome.RECEIVED
    assert Case.objects.count() == 0
    assert Citizen.objects.count() == 0  # rolled back with the failed step
    monkeypatch.setattr(intake_services, "case_open", real)
    assert intake_process_pending(older_than=__import__("datetime").timedelta(0)) == 1
    inbound = InboundMessage.objects.get()
    assert inbound.outcome == Outcome.OPENED
    assert inbound.case is not None and inbound.case.description.startswith("Deep pothole")


def test_an_answer_to_the_signed_reply_address_joins_the_case_whatever_its_subject(
    client: Client, mail: Any
) -> None:
    mail.TOWNHALL_INBOUND_EMAIL_DOMAIN = "reply.testville.example.org"
    post_mail(client, email_bytes())
    case = Case.objects.get()
    case_acknowledge(case_id=case.pk)
    acknowledgement = Notification.objects.get(kind="acknowledged")
    assert acknowledgement.reply_to.startswith(f"case+{case.reference}.")
    assert acknowledgement.reply_to.endswith("@reply.testville.example.org")
    answer = email_bytes(subject="more about my hole", body="Photo attached.", photo=True)
    answer = answer.replace(
        b"To: reports@testville.example.org", f"To: {acknowledgement.reply_to}".encode()
    )
    assert post_mail(client, answer).json()["outcome"] == "added"
    assert CasePhoto.objects.filter(case=case).count() == 1
    # A forged signature does not get in: it becomes a request of its own.
    forged = acknowledgement.reply_to.replace(".", ".x", 1)
    other = email_bytes(subject="hello", body="Another deep hole on Oak Road by number 4.")
    other = other.replace(b"To: reports@testville.example.org", f"To: {forged}".encode())
    assert post_mail(client, other).json()["outcome"] == "opened"


# --- triage -----------------------------------------------------------------------------

TRAINING = {
    "pothole": [
        "Big pothole on {s}, cars swerving around it",
        "deep hole in the road at {s} near the school",
        "The road surface on {s} is breaking up, several potholes",
        "pot hole in the crosswalk on {s}, bent my wheel",
        "Sunken pavement on {s} filling with water",
    ],
    "no_heat": [
        "No heat in my apartment at {s} since Friday",
        "the boiler at {s} is broken, radiators cold",
        "landlord at {s} has not fixed the heating, no hot water",
        "freezing flat on {s}, heating off for three days",
        "no hot water or heat in the building on {s}",
    ],
}


@pytest.fixture
def trained(town: Any) -> Any:
    from townhall.intake.services_triage import triage_model_save
    from townhall.intake.triage import classifier_train

    streets = ["Elm Street", "Maple Ave", "Church St", "Quarry Road", "Mill Lane", "Depot St"]
    texts, labels = [], []
    for code, templates in TRAINING.items():
        for template in templates:
            for street in streets:
                texts.append(template.format(s=street))
                labels.append(code)
    return triage_model_save(
        classifier=classifier_train(texts, labels), name="test", rows=len(texts), metrics={}
    )


def test_a_clear_message_is_routed_by_the_classifier_and_an_unclear_one_waits(
    trained: Any, settings: Any
) -> None:
    from townhall.intake.models import TriageReview

    settings.TOWNHALL_TRIAGE_THRESHOLD = 0.6
    clear = intake_accept(
        Message(
            channel="sms",
            sender=Sender(phone="+16175550101"),
            text="No heat and no hot water at 4 Oak St, boiler broken",
        )
    )
    assert clear.outcome == Outcome.OPENED
    assert clear.case.service_type.code == "no_heat"
    assert clear.case.department.code == "isd"
    assert clear.message.triage["routed"] == "auto"
    assert clear.message.triage["suggestions"][0][0] == "no_heat"
    assert not TriageReview.objects.filter(case=clear.case).exists()
    # Nothing the classifier knows: filed under its best guess, with a review to do.
    settings.TOWNHALL_TRIAGE_THRESHOLD = 0.99
    unclear = intake_accept(
        Message(
            channel="sms",
            sender=Sender(phone="+16175550102"),
            text="Please call me back about the thing on Tuesday",
        )
    )
    review = TriageReview.objects.get(case=unclear.case)
    assert review.status == "pending"
    assert [code for code, _p in review.suggestions] == [
        code for code, _p in unclear.message.triage["suggestions"]
    ]
    assert {code for code, _p in review.suggestions} == {"pothole", "no_heat"}
    assert unclear.case.service_type.code == review.suggestions[0][0]
    assert review.confidence == pytest.approx(review.suggestions[0][1])


def test_the_same_report_sent_twice_by_one_resident_joins_the_first_case(
    client: Client, mail: Any
) -> None:
    body = "There is a deep pothole outside 12 Elm Street, cars swerve round it."
    first = post_mail(client, email_bytes(body=body)).json()
    again = post_mail(client, email_bytes(body=body + "\n\nSent from my phone")).json()
    assert first["outcome"] == "opened"
    assert again["outcome"] == "added" and again["reference"] == first["reference"]
    other = post_mail(client, email_bytes(body="The streetlight at 3 Oak Road is out.")).json()
    assert other["outcome"] == "opened"
    assert Case.objects.count() == 2


SAMPLES = __import__("pathlib").Path(__file__).parent / "samples"


@pytest.mark.parametrize(
    ("sample", "outcome"),
    [
        ("apple_mail_inline_photo.eml", "opened"),
        ("outlook_html_only.eml", "opened"),
        ("thunderbird_pdf_attachment.eml", "opened"),
        ("spanish_latin1_reply.eml", "opened"),
        ("forwarded_with_winmail.eml", "opened"),
        ("outlook_out_of_office.eml", "ignored"),
        ("gmail_vacation.eml", "ignored"),
        ("postfix_bounce.eml", "ignored"),
        ("mailing_list.eml", "ignored"),
        ("malformed_no_headers.eml", "opened"),
        ("malformed_broken_boundary.eml", "opened"),
    ],
)
def test_real_world_mail_through_the_webhook(
    client: Client, mail: Any, sample: str, outcome: str
) -> None:
    body = post_mail(client, (SAMPLES / sample).read_bytes()).json()
    assert body["outcome"] == outcome, body
    inbound = InboundMessage.objects.get()
    assert inbound.raw  # kept as it came, whatever became of it
    if outcome == "opened":
        case = Case.objects.get()
        assert case.description.strip()
        assert inbound.case == case
    else:
        assert not Case.objects.exists()
    if sample == "apple_mail_inline_photo.eml":  # the inline photo, stripped, on the case
        assert CasePhoto.objects.filter(case=inbound.case).count() == 1
    if sample == "thunderbird_pdf_attachment.eml":  # kept with the message for staff
        assert InboundAttachment.objects.filter(
            message=inbound, content_type="application/pdf"
        ).exists()


def test_a_resident_who_speaks_spanish_is_answered_in_spanish(client: Client, texting: Any) -> None:
    from townhall.people.services import citizen_resolve

    citizen_resolve(phone="+16175550177", language="es", channel="sms")
    opened = sms(
        client, "Hay un bache enorme en Main St frente a la escuela", "SM1", "+16175550177"
    )
    assert "Gracias" in opened.content.decode()
    short = sms(client, "gracias", "SM2", "+16175550188")  # unknown: the site's language
    assert "Thank you" in short.content.decode()
