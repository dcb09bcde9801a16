"""Identity and accounts (issue 15): "tell us once" never hands one resident's data to
another. Each test plays an attack end to end and fails on the code before the fix."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CaseEventKind
from townhall.cases.selectors import case_get_by_reference
from townhall.cases.services import case_acknowledge, case_note_add, case_transition
from townhall.core.models import SecurityEvent
from townhall.core.security import SecurityEventKind
from townhall.intake.channels import intake_email_receive, intake_sms_receive
from townhall.intake.models import InboundMessage, Outcome
from townhall.notify.models import Notification, NotificationKind
from townhall.notify.reply_address import reply_address_make
from townhall.notify.services import notification_send_due
from townhall.open311.keys import api_key_issue
from townhall.people.models import Citizen, ContactPoint, PhoneProof, SignInLink
from townhall.people.selectors import citizen_duplicates_likely
from townhall.people.services import citizen_merge
from townhall.portal.accounts import sign_in_token

pytestmark = pytest.mark.django_db

ROSA_PHONE = "+16175550199"
STRANGER = "stranger@evil.example"


def _open311(client: Client, **fields: str) -> Case:
    key = api_key_issue(name="Partner app")[1]
    data = {
        "api_key": key,
        "service_code": "pothole",
        "lat": "42.36",
        "long": "-71.09",
        "attribute[size]": "large",
        "description": "Hole in the road",
        **fields,
    }
    response = client.post("/open311/v2/requests.json", data)
    assert response.status_code == 200, response.content
    return case_get_by_reference(reference=response.json()[0]["service_request_id"])


def _sign_in(client: Client, email: str) -> None:
    """Ask for a link by e-mail and follow it, as the owner of `email` would."""
    assert client.post("/account/sign-in/", {"email": email}).status_code == 200
    notification_send_due()  # through the outbox
    match = re.search(r"https?://\S+/account/sign-in/(\S+)/", mail.outbox[-1].body)
    assert match and mail.outbox[-1].to == [email]
    response = client.post(f"/account/sign-in/{match.group(1)}/")
    assert response.status_code == 302 and response["Location"] == "/account/"


def _rosas_case(client: Client) -> Case:
    """Rosa reports by Open311 with her e-mail and phone, then proves her e-mail."""
    case = _open311(client, email="rosa@example.org", phone=ROSA_PHONE, first_name="Rosa")
    case_acknowledge(case_id=case.pk)
    return case


def _email(
    sender: str, subject: str, body: str, to: str = "reports@testville.example.org"
) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg.set_content(body)
    return msg.as_bytes()


# --- tell us once: contacts are joined only once proven -----------------------------------


def test_a_residents_phone_and_a_strangers_email_do_not_open_the_residents_account(
    client: Client, town: Any
) -> None:
    rosa_case = _rosas_case(client)
    rosa = rosa_case.reporter
    assert rosa is not None

    # The attack: an anonymous report with Rosa's phone number and the stranger's e-mail,
    # then a sign-in link to that e-mail.
    stranger_case = _open311(client, phone="617-555-0199", email=STRANGER, description="Hi")
    attacker = Client()
    _sign_in(attacker, STRANGER)

    html = attacker.get("/account/").content.decode()
    assert stranger_case.reference in html  # their own report, and nothing else
    assert rosa_case.reference not in html
    # The stranger's e-mail was not joined to Rosa, and their report has its own reporter.
    assert not ContactPoint.objects.filter(citizen=rosa, value=STRANGER).exists()
    assert stranger_case.reporter_id != rosa.pk
    # Rosa's updates never go to the stranger.
    case_note_add(case=rosa_case, text="Crew booked for Tuesday.", actor=None, public=True)
    sent_to = set(Notification.objects.filter(case_id=rosa_case.pk).values_list("to", flat=True))
    assert STRANGER not in sent_to and sent_to
    # Staff see that the two may be one person, to merge if they are.
    assert stranger_case.reporter in citizen_duplicates_likely(rosa)


def test_contacts_typed_into_a_first_report_do_not_open_the_later_reports_of_their_owner(
    client: Client, town: Any
) -> None:
    # A stranger files the first report ever made with Rosa's phone, next to their e-mail.
    _open311(client, phone=ROSA_PHONE, email=STRANGER, description="Hello")
    # Rosa, who never wrote before, texts a problem from her phone.
    result = intake_sms_receive(from_number=ROSA_PHONE, body="Streetlight out on Elm Street")
    rosa_case = result.case
    assert rosa_case is not None
    case_acknowledge(case_id=rosa_case.pk)
    # The stranger proves their e-mail and looks.
    attacker = Client()
    _sign_in(attacker, STRANGER)
    assert rosa_case.reference not in attacker.get("/account/").content.decode()
    case_note_add(case=rosa_case, text="Fixed tomorrow.", actor=None, public=True)
    to = set(Notification.objects.filter(case_id=rosa_case.pk).values_list("to", flat=True))
    assert to == {ROSA_PHONE}


def test_a_proven_resident_still_sees_their_own_reports(client: Client, town: Any) -> None:
    rosa_case = _rosas_case(client)
    _sign_in(client, "rosa@example.org")
    assert rosa_case.reference in client.get("/account/").content.decode()


def test_a_staff_merge_joins_the_two_people(client: Client, town: Any, admin_user: Any) -> None:
    rosa_case = _rosas_case(client)
    rosa = rosa_case.reporter
    assert rosa is not None
    other = _open311(client, phone=ROSA_PHONE, email="rosa.work@example.org").reporter
    assert other is not None and other.pk != rosa.pk
    staff = Client()
    staff.force_login(admin_user)
    page = staff.get(f"/admin/people/citizen/{rosa.pk}/change/").content.decode()
    assert f"/admin/people/citizen/{other.pk}/change/" in page  # "possibly the same person"
    case_page = staff.get(f"/console/cases/{rosa_case.pk}/").content.decode()
    assert 'id="same-person"' in case_page
    assert f"/admin/people/citizen/{rosa.pk}/change/" in case_page
    citizen_merge(source=other, into=rosa, actor=admin_user, reason="Same person, checked")
    assert ContactPoint.objects.get(value="rosa.work@example.org").citizen_id == rosa.pk


# --- sign-in links: single use, in the database ---------------------------------------


def test_a_sign_in_link_works_once_even_when_the_cache_is_lost(client: Client, town: Any) -> None:
    token = sign_in_token("ana@example.org")
    row = SignInLink.objects.get()
    assert token not in row.token_hash and row.used_at is None
    assert client.post(f"/account/sign-in/{token}/").status_code == 302
    client.post("/account/sign-out/")
    cache.clear()  # another web process, or a restart: nothing per-process remembers the use
    again = Client().post(f"/account/sign-in/{token}/")
    assert again.status_code == 400
    row.refresh_from_db()
    assert row.used_at is not None
    kinds = list(SecurityEvent.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == [SecurityEventKind.SIGN_IN_LINK_USED, SecurityEventKind.SIGN_IN_LINK_REFUSED]


def test_asking_for_a_link_is_recorded_without_the_address(client: Client, town: Any) -> None:
    client.post("/account/sign-in/", {"email": "ana@example.org"})
    event = SecurityEvent.objects.get(kind=SecurityEventKind.SIGN_IN_LINK_SENT)
    assert "ana" not in f"{event.subject} {event.detail}"


# --- phone proof: a one-time code by SMS --------------------------------------------------


def _code(phone: str) -> str:
    text = Notification.objects.filter(kind=NotificationKind.PHONE_CODE, to=phone).latest("pk")
    match = re.search(r"\b(\d{6})\b", text.body)
    assert match, text.body
    return match.group(1)


def test_a_phone_is_proven_by_a_texted_code(client: Client, town: Any) -> None:
    _sign_in(client, "ana@example.org")
    ana = Citizen.objects.get(contact_points__value="ana@example.org")
    assert client.post("/account/phone/", {"phone": "617-555-0150"}).status_code == 302
    code = _code("+16175550150")
    assert code not in PhoneProof.objects.get().code_hash  # only a hash is kept
    wrong = "000000" if code != "000000" else "111111"
    assert client.post("/account/phone/confirm/", {"code": wrong}).status_code == 400
    assert client.post("/account/phone/confirm/", {"code": code}).status_code == 302
    point = ContactPoint.objects.get(value="+16175550150")
    assert point.citizen_id == ana.pk and point.verified
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.CONTACT_VERIFIED).count() == 1
    # used once
    assert client.post("/account/phone/confirm/", {"code": code}).status_code == 400


def test_a_phone_code_cannot_be_guessed(client: Client, town: Any, settings: Any) -> None:
    settings.TOWNHALL_PHONE_CODE_ATTEMPTS = 3
    _sign_in(client, "ana@example.org")
    client.post("/account/phone/", {"phone": "617-555-0150"})
    code = _code("+16175550150")
    wrong = [c for c in ("000000", "111111", "222222", "333333") if c != code][:3]
    for guess in wrong:
        assert client.post("/account/phone/confirm/", {"code": guess}).status_code == 400
    # the right code no longer works after too many wrong ones
    assert client.post("/account/phone/confirm/", {"code": code}).status_code == 400
    assert not ContactPoint.objects.filter(value="+16175550150", verified=True).exists()


def test_a_phone_proven_by_code_shows_the_reports_texted_from_it(client: Client, town: Any) -> None:
    texted = intake_sms_receive(from_number="+16175550150", body="Broken bench in the park")
    assert texted.case is not None
    _sign_in(client, "ana@example.org")
    assert texted.case.reference not in client.get("/account/").content.decode()
    client.post("/account/phone/", {"phone": "+16175550150"})
    client.post("/account/phone/confirm/", {"code": _code("+16175550150")})
    ana = Citizen.objects.get(contact_points__value="ana@example.org")
    assert ContactPoint.objects.get(value="+16175550150").citizen_id == ana.pk
    # the texter is now known to be Ana's phone; staff merge the two records
    assert texted.case.reporter in citizen_duplicates_likely(ana)


# --- threading: a quoted reference is not proof of who writes ------------------------------


@pytest.fixture
def awaiting(client: Client, town: Any, settings: Any) -> Case:
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    settings.TOWNHALL_INBOUND_EMAIL_DOMAIN = "reply.testville.example.org"
    case = _rosas_case(client)
    case_transition(case=case, to=CaseStatus.IN_PROGRESS, actor=None)
    case_transition(case=case, to=CaseStatus.AWAITING_CITIZEN, actor=None, note="Which side?")
    return case


def test_a_stranger_quoting_a_reference_does_not_write_as_the_resident(awaiting: Case) -> None:
    events = CaseEvent.objects.filter(case=awaiting).count()
    raw = _email(STRANGER, f"Re: {awaiting.reference}", "Please close it, it is fixed.")
    result = intake_email_receive(raw)
    awaiting.refresh_from_db()
    assert awaiting.status == CaseStatus.AWAITING_CITIZEN  # clock still paused
    assert result.message.outcome == Outcome.ABOUT and result.message.case_id == awaiting.pk
    new = list(CaseEvent.objects.filter(case=awaiting).order_by("seq")[events:])
    assert [e.kind for e in new] == [CaseEventKind.NOTE]
    assert not new[0].public and "not known as its resident" in new[0].content["text"]
    # The resident's own address, given with the report, still threads as the resident.
    intake_email_receive(_email("rosa@example.org", f"Re: {awaiting.reference}", "North."))
    awaiting.refresh_from_db()
    assert awaiting.status == CaseStatus.IN_PROGRESS


def test_the_signed_reply_address_threads_as_the_resident(awaiting: Case, settings: Any) -> None:
    to = reply_address_make(
        awaiting.reference,
        domain=settings.TOWNHALL_INBOUND_EMAIL_DOMAIN,
        secret=settings.TOWNHALL_REPLY_ADDRESS_SECRET,
    )
    result = intake_email_receive(
        _email("rosa.other@example.org", "Re: your request", "North.", to)
    )
    assert result.message.outcome == Outcome.ADDED
    awaiting.refresh_from_db()
    assert awaiting.status == CaseStatus.IN_PROGRESS


def test_a_text_quoting_a_reference_from_an_unknown_phone_is_kept_apart(awaiting: Case) -> None:
    intake_sms_receive(from_number="+16175550777", body=f"{awaiting.reference} it is fixed")
    awaiting.refresh_from_db()
    assert awaiting.status == CaseStatus.AWAITING_CITIZEN
    message = InboundMessage.objects.get(sender_phone="+16175550777")
    assert message.outcome == Outcome.ABOUT and message.case_id == awaiting.pk


def test_expired_links_and_codes_are_purged(client: Client, town: Any) -> None:
    import time_machine

    from townhall.core import clock
    from townhall.people.services import proofs_purge

    sign_in_token("ana@example.org")
    with time_machine.travel(clock.now() + timedelta(days=2)):
        assert proofs_purge() == 1
    assert not SignInLink.objects.exists()
