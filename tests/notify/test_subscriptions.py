"""Residents sign up for bin reminders and alerts on the portal: the address is confirmed
first, every message can stop its subscription, and nobody can use the form to mail a
stranger, learn who is signed up, or leave an address in a URL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core import mail, signing
from django.test import Client

from townhall.core.ratelimit import rate_limits_reset
from townhall.notify.alerts import alert_fan_out, alert_publish
from townhall.notify.links import STOP_SALT
from townhall.notify.models import (
    AlertSubscription,
    AlertTopic,
    Notification,
    NotificationKind,
    SubscriptionRequest,
)
from townhall.notify.secret_links import LINK_SLOT
from townhall.notify.services import notification_send_due
from townhall.notify.subscriptions import CONFIRMATIONS_PER_DAY, subscription_requests_purge
from townhall.notify.waste_reminders import waste_reminders_queue
from townhall.people.models import Citizen, ContactPoint
from townhall.people.services import citizen_email_prove
from townhall.places.models import Place
from townhall.waste.models import WasteReminder

pytestmark = pytest.mark.django_db

CONFIRM = re.compile(r"https?://[^/\s]+(/subscriptions/confirm/[^/\s]+/)")
STOP = re.compile(r"https?://[^/\s]+(/subscriptions/stop/[^/\s]+/)")


@pytest.fixture
def roadworks(db: None) -> AlertTopic:
    return AlertTopic.objects.create(code="roadworks", name="Road works")


def _confirm_link() -> str:
    notification_send_due()
    found = CONFIRM.search(mail.outbox[-1].body)
    assert found is not None, mail.outbox[-1].body
    return found.group(1)


def test_a_resident_gets_bin_reminders_once_the_address_is_confirmed_and_can_stop_them(
    client: Client, home: Place
) -> None:
    page = client.get(f"/bins/{home.pk}/").content.decode()
    assert f"/bins/{home.pk}/reminders/" in page and f"/alerts/{home.pk}/" in page
    assert client.get(f"/bins/{home.pk}/reminders/").status_code == 200
    response = client.post(f"/bins/{home.pk}/reminders/", {"email": "Res@Example.org"})
    assert response.status_code == 302 and response["Location"] == "/subscriptions/sent/"
    assert not WasteReminder.objects.exists()  # nothing before the address is confirmed
    [asked] = Notification.objects.filter(kind=NotificationKind.SUBSCRIBE_CONFIRM)
    assert asked.to == "res@example.org" and LINK_SLOT in asked.body  # no secret at rest
    assert "100 Queen Street West" in asked.subject
    link = _confirm_link()
    assert "Confirm and sign up" in client.get(link).content.decode()  # a GET does nothing
    assert not WasteReminder.objects.exists()
    done = client.post(link)
    assert done.status_code == 200 and "You are signed up" in done.content.decode()
    reminder = WasteReminder.objects.get()
    assert (reminder.place_id, reminder.email, reminder.active) == (
        home.pk,
        "res@example.org",
        True,
    )
    assert ContactPoint.objects.get(value="res@example.org").verified  # the link proved it
    assert client.post(link).status_code == 400  # works once

    # the evening before a collection: the reminder carries a link that stops it
    waste_reminders_queue(now=datetime(2024, 12, 17, 23, 30, tzinfo=UTC))
    sent = Notification.objects.get(kind=NotificationKind.BIN_REMINDER)
    assert sent.citizen == Citizen.objects.get(contact_points__value="res@example.org")
    stop = STOP.search(sent.body)
    assert stop is not None and "Garbage" in sent.body
    assert client.get(stop.group(1)).status_code == 200
    assert WasteReminder.objects.get().active  # a GET (a mail scanner) stops nothing
    stopped = client.post(stop.group(1))
    assert stopped.status_code == 200 and "no more bin day reminders" in stopped.content.decode()
    assert not WasteReminder.objects.get().active
    assert client.post(stop.group(1)).status_code == 200  # stopping twice is fine
    assert client.post("/subscriptions/stop/forged/").status_code == 404


def test_alerts_near_an_address_are_confirmed_then_each_alert_can_stop_them(
    client: Client, home: Place, roadworks: AlertTopic
) -> None:
    response = client.post(
        f"/alerts/{home.pk}/", {"email": "al@example.org", "topic": "roadworks", "radius_m": "500"}
    )
    assert response.status_code == 302
    client.post(_confirm_link())
    sub = AlertSubscription.objects.get()
    assert (sub.topic, sub.radius_m, sub.channel) == (roadworks, 500, "email")
    assert (sub.lat, sub.long) == (home.lat, home.long)
    alert = alert_publish(
        topic=roadworks, title="Queen St closed", message="Until 6pm.", lat=43.6526, long=-79.384
    )
    alert_fan_out(alert_id=alert.pk)
    body = Notification.objects.get(kind=NotificationKind.ALERT).body
    stop = STOP.search(body)
    assert stop is not None
    client.post(stop.group(1))
    assert not AlertSubscription.objects.get().active


def test_a_strangers_address_gets_one_confirmation_a_few_times_a_day_and_nothing_else(
    client: Client, home: Place
) -> None:
    answers = [
        client.post(
            f"/bins/{home.pk}/reminders/",
            {"email": "victim@example.org"},
            REMOTE_ADDR=f"10.1.{i}.9",
        )
        for i in range(8)
    ]
    # per-address rate limit (5 an hour), whoever asks
    assert [a.status_code for a in answers] == [302] * 5 + [429] * 3
    assert {a["Location"] for a in answers[:5]} == {"/subscriptions/sent/"}  # same answer
    # the same wish again and again: one confirmation, and nothing else
    to_victim = Notification.objects.filter(to="victim@example.org")
    assert list(to_victim.values_list("kind", flat=True)) == [NotificationKind.SUBSCRIBE_CONFIRM]
    # different wishes (other addresses, alerts), an hour later: capped a day per address
    rate_limits_reset()
    for place in [
        Place.objects.create(
            property_id=f"P{i}", address=f"{i} Elm", lat=43.6, long=-79.3, search_text=f"{i} elm"
        )
        for i in range(5)
    ]:
        client.post(f"/alerts/{place.pk}/", {"email": "victim@example.org", "radius_m": "1000"})
    assert to_victim.count() == CONFIRMATIONS_PER_DAY
    assert set(to_victim.values_list("kind", flat=True)) == {NotificationKind.SUBSCRIBE_CONFIRM}
    assert not WasteReminder.objects.exists() and not AlertSubscription.objects.exists()
    assert not Citizen.objects.exists()  # asking proves nothing: nobody is registered


def test_the_answer_does_not_tell_who_is_signed_up_and_no_url_holds_an_address(
    client: Client, home: Place
) -> None:
    citizen_email_prove(email="known@example.org")
    WasteReminder.objects.create(place=home, email="known@example.org")
    known = client.post(f"/bins/{home.pk}/reminders/", {"email": "known@example.org"})
    unknown = client.post(f"/bins/{home.pk}/reminders/", {"email": "new@example.org"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    sent_page = client.get(known["Location"]).content.decode()
    assert "known@example.org" not in sent_page and "Check your email" in sent_page
    # the links in the mail carry no address: a random secret, a signed id
    link = _confirm_link()
    assert "example" not in link
    reminder = WasteReminder.objects.get()
    waste_reminders_queue(now=datetime(2024, 12, 17, 23, 30, tzinfo=UTC))
    stop = STOP.search(Notification.objects.get(kind=NotificationKind.BIN_REMINDER).body)
    assert stop is not None
    token = stop.group(1).split("/")[3]
    assert signing.loads(token, salt=STOP_SALT) == {"w": "bins", "id": reminder.pk}


def test_a_signed_in_resident_signs_up_with_a_proven_contact_only(
    client: Client, home: Place, roadworks: AlertTopic
) -> None:
    mine = citizen_email_prove(email="me@example.org")
    other = citizen_email_prove(email="other@example.org")
    assert mine.user is None
    from townhall.people.services import citizen_account_for_email

    mine = citizen_account_for_email(email="me@example.org")
    assert mine.user is not None
    client.force_login(mine.user)
    my_point = ContactPoint.objects.get(citizen=mine)
    their_point = ContactPoint.objects.get(citizen=other)
    page = client.get(f"/alerts/{home.pk}/").content.decode()
    assert "me@example.org" in page and "other@example.org" not in page
    refused = client.post(
        f"/alerts/{home.pk}/", {"contact": their_point.pk, "topic": "", "radius_m": "1000"}
    )
    assert refused.status_code == 400 and not AlertSubscription.objects.exists()
    done = client.post(
        f"/alerts/{home.pk}/", {"contact": my_point.pk, "topic": "", "radius_m": "1000"}
    )
    assert done.status_code == 302 and done["Location"] == "/account/"
    assert AlertSubscription.objects.get().citizen == mine
    assert not Notification.objects.filter(kind=NotificationKind.SUBSCRIBE_CONFIRM).exists()
    client.post(f"/bins/{home.pk}/reminders/", {"contact": my_point.pk})
    account = client.get("/account/").content.decode()
    assert "Reminders and alerts" in account and account.count("/subscriptions/stop/") == 2
    stop = re.search(r'action="(/subscriptions/stop/[^"]+/)"', account)
    assert stop is not None
    client.post(stop.group(1))
    assert "/subscriptions/stop/" in client.get("/account/").content.decode()  # one left


def test_bad_input_gets_the_form_again_with_its_errors(
    client: Client, home: Place, roadworks: AlertTopic
) -> None:
    bad = client.post(f"/bins/{home.pk}/reminders/", {"email": "not an address"})
    assert bad.status_code == 400 and "Enter an email address like" in bad.content.decode()
    far = client.post(f"/alerts/{home.pk}/", {"email": "a@example.org", "radius_m": "99999"})
    assert far.status_code == 400
    assert client.get("/bins/999999/reminders/").status_code == 404
    assert client.post("/subscriptions/confirm/forged/").status_code == 400
    found = client.get("/alerts/", {"q": "100 Queen"})
    assert found.status_code == 200 and f"/alerts/{home.pk}/" in found.content.decode()
    assert not SubscriptionRequest.objects.exists() and not Notification.objects.exists()


def test_unconfirmed_wishes_are_forgotten(client: Client, home: Place) -> None:
    client.post(f"/bins/{home.pk}/reminders/", {"email": "late@example.org"})
    link = _confirm_link()
    SubscriptionRequest.objects.update(created_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert client.post(link).status_code == 400  # expired
    assert subscription_requests_purge() == 1
    # a confirmation still queued when its wish went is not sent: no link to make
    client.post(f"/bins/{home.pk}/reminders/", {"email": "late@example.org"})
    SubscriptionRequest.objects.all().delete()
    notification_send_due()
    assert len(mail.outbox) == 1
    assert Notification.objects.filter(status="dead", kind="subscribe_confirm").count() == 1


def test_erasure_takes_the_reminders_sign_ups_and_mail_sent_to_the_address(
    client: Client, home: Place
) -> None:
    from townhall.intake.privacy import resident_erase

    client.post(f"/bins/{home.pk}/reminders/", {"email": "gone@example.org"})
    client.post(_confirm_link())
    client.post(f"/alerts/{home.pk}/", {"email": "gone@example.org", "radius_m": "1000"})
    client.post("/account/sign-in/", {"email": "gone@example.org"})
    notification_send_due()
    citizen = Citizen.objects.get(contact_points__value="gone@example.org")
    assert WasteReminder.objects.exists() and SubscriptionRequest.objects.exists()
    sent = Notification.objects.filter(to="gone@example.org").count()
    assert sent == 3  # two confirmations and a sign-in link, none tied to a resident
    resident_erase(citizen_id=citizen.pk, via="resident")
    assert not WasteReminder.objects.exists() and not SubscriptionRequest.objects.exists()
    assert Notification.objects.count() == sent  # kept for statistics, without the address
    assert not Notification.objects.filter(to="gone@example.org").exists()
    assert not Notification.objects.exclude(body="").exists()
