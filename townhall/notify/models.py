"""Templates, the notification outbox, delivery attempts and opt-outs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from townhall.core.models import TimeStampedModel
from townhall.people.models import Citizen


class NotificationKind(models.TextChoices):
    ACKNOWLEDGED = "acknowledged", _("Acknowledged, with expected date")
    STATUS_CHANGED = "status_changed", _("Status changed")
    PUBLIC_UPDATE = "public_update", _("Public update")
    AWAITING_REPLY = "awaiting_reply", _("Awaiting your reply")
    RESOLVED = "resolved", _("Resolved, with survey link")
    REOPENED = "reopened", _("Reopened")
    SLA_DATE_CHANGED = "sla_date_changed", _("Expected date changed")
    ALERT = "alert", _("Area or topic alert")
    REPLY = "reply", _("Answer to a message")
    PHONE_CODE = "phone_code", _("One-time code proving a contact")
    FOLLOW_CONFIRM = "follow_confirm", _("Confirm an address to follow a request")
    SIGN_IN_LINK = "sign_in_link", _("Link to sign in to the portal")
    SUBSCRIBE_CONFIRM = "subscribe_confirm", _("Confirm an address for reminders or alerts")
    BIN_REMINDER = "bin_reminder", _("Bin day tomorrow")
    DELAY_UPDATE = "delay_update", _("Honest update on a request that is taking too long")
    APPT_BOOKED = "appt_booked", _("Appointment booked, with calendar entry")
    APPT_MOVED = "appt_moved", _("Appointment moved")
    APPT_CANCELLED = "appt_cancelled", _("Appointment cancelled")
    APPT_REMINDER = "appt_reminder", _("Appointment tomorrow")
    PAYMENT_RECEIPT = "payment_receipt", _("Payment receipt")
    PAYMENT_REFUND = "payment_refund", _("Payment refunded")
    # To staff (Notification.user), not residents:
    SLA_ESCALATION = "sla_escalation", _("Cases past their due date (supervisors)")
    CASE_WATCH = "case_watch", _("Change on a case you watch (staff)")
    STAFF_MENTION = "staff_mention", _("A colleague mentioned you (staff)")
    SUPERVISOR_FLAG = "supervisor_flag", _("A resident needs attention (supervisors)")
    FORWARD_FAILED = "forward_failed", _("A case could not be forwarded (staff)")


# Kinds sent to a staff user's own address: no resident opt-out applies (the work is
# theirs; a watcher stops by no longer watching the case).
STAFF_KINDS = frozenset(
    {
        NotificationKind.SLA_ESCALATION,
        NotificationKind.CASE_WATCH,
        NotificationKind.STAFF_MENTION,
        NotificationKind.SUPERVISOR_FLAG,
        NotificationKind.FORWARD_FAILED,
    }
)


class NotifyChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Webhook")
    INAPP = "inapp", _("In the portal")


class NotificationTemplate(TimeStampedModel):
    """The words sent for one kind of notification, on one channel, in one language."""

    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    channel = models.CharField(max_length=10, choices=NotifyChannel.choices)
    language = models.CharField(max_length=10, default="en")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "channel", "language"],
                name="unique_template_per_kind_channel_language",
            )
        ]
        ordering = ["kind", "channel", "language"]

    def __str__(self) -> str:
        return f"{self.kind} / {self.channel} / {self.language}"


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (reported by the provider)")
    DEAD = "dead", _("Dead letter")
    SUPPRESSED = "suppressed", _("Not sent (opted out or no address)")


class Notification(models.Model):
    """One message to one recipient on one channel: the outbox row and its delivery state.

    Written in the same transaction as the change that causes it; `key` (event, recipient,
    channel) is unique, so a retried or repeated cause never queues the message twice.
    """

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    channel = models.CharField(max_length=10, choices=NotifyChannel.choices)
    language = models.CharField(max_length=10, default="en")
    citizen = models.ForeignKey(
        Citizen, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    # A message to a member of staff (escalations, watched cases) names them here.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    to = models.CharField(max_length=500, blank=True)
    # E-mail about a case: its signed reply address, so an answer joins the case.
    reply_to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    status = models.CharField(
        max_length=12, choices=NotificationStatus.choices, default=NotificationStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    # While sending: the lease's end, renewed before each message is handed over.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # The claim that holds the row while `sending`: a sender writes only rows that still
    # carry its own claim (fencing), so one whose lease ran out cannot send or overwrite.
    lease_token = models.CharField(max_length=16, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notification_due",
                condition=models.Q(status="queued"),
            ),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        who = self.to or self.citizen_id or self.user_id
        return f"{self.kind} to {who} by {self.channel} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try at handing a notification to its channel, or a status the provider reported."""

    class Outcome(models.TextChoices):
        SENT = "sent", _("Sent")
        RETRY = "retry", _("Failed, will retry")
        DEAD = "dead", _("Failed for good")
        PROVIDER_STATUS = "provider_status", _("Provider status report")

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.outcome} at {self.at:%Y-%m-%d %H:%M:%S}"


class OptOut(models.Model):
    """A resident's "stop sending me this": per channel, from a link, STOP reply or staff."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="opt_outs")
    channel = models.CharField(max_length=10, choices=NotifyChannel.choices)
    at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=20, help_text=_("link, stop_reply or staff"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["citizen", "channel"], name="unique_opt_out_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.citizen_id} opted out of {self.channel} via {self.via}"


class AlertTopic(TimeStampedModel):
    """Something residents can follow: road works, collection changes, product recalls."""

    code = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class AreaMixin(models.Model):
    """An area: a circle (centre and radius) or a drawn polygon; neither means everywhere.

    The bounding box is stored so the database can discard far-away rows before the
    exact test (`notify/geo.py`).
    """

    lat = models.FloatField(null=True, blank=True)
    long = models.FloatField(null=True, blank=True)
    radius_m = models.PositiveIntegerField(null=True, blank=True)
    polygon = models.JSONField(
        null=True, blank=True, help_text=_("[[lat, long], …] corners of a drawn area")
    )
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)
    min_long = models.FloatField(null=True, blank=True, editable=False)
    max_long = models.FloatField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class AlertSubscription(AreaMixin, TimeStampedModel):
    """A resident's wish to hear about a topic (or all topics) in an area."""

    citizen = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="alert_subscriptions"
    )
    topic = models.ForeignKey(
        AlertTopic, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    channel = models.CharField(max_length=10, choices=NotifyChannel.choices)
    address = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["topic", "active", "id"], name="subscription_fanout")]

    def __str__(self) -> str:
        return f"{self.citizen_id}: {self.topic or 'all topics'} by {self.channel}"


class Alert(AreaMixin, TimeStampedModel):
    """A notice staff publish to everyone subscribed to its topic in its area."""

    class FanOut(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending", _("Publishing")
        DONE = "done", _("Published")

    topic = models.ForeignKey(AlertTopic, on_delete=models.PROTECT, related_name="alerts")
    title = models.CharField(max_length=200)
    message = models.TextField()
    fanout = models.CharField(max_length=10, choices=FanOut.choices, default=FanOut.DRAFT)
    # Fan-out resumes after the last subscription it reached, so a killed worker
    # neither skips nor repeats anyone (the notification keys also forbid repeats).
    fanout_cursor = models.BigIntegerField(default=0)
    recipients = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.title


class WebhookSubscriber(TimeStampedModel):
    """Another system that wants signed case events (a contractor, a council dashboard)."""

    name = models.CharField(max_length=200)
    url = models.URLField(unique=True)
    secret = models.CharField(
        max_length=200, help_text=_("Shared secret for the X-Townhall-Signature HMAC.")
    )
    kinds = models.JSONField(
        default=list, blank=True, help_text=_("Notification kinds to receive; empty for all.")
    )
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class SubscriptionRequest(models.Model):
    """A wish for bin reminders or alerts near an address, made with an e-mail address not
    yet proven: nothing but one confirmation goes to that address until its link is opened.

    Only a hash of the link's secret is kept; the row goes once confirmed or expired
    (`subscription_requests_purge`).
    """

    class What(models.TextChoices):
        BINS = "bins", _("Bin day reminders")
        ALERTS = "alerts", _("Alerts near an address")

    what = models.CharField(max_length=10, choices=What.choices)
    email = models.EmailField()
    language = models.CharField(max_length=10, default="en")
    place = models.ForeignKey("places.Place", on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey(
        AlertTopic, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    radius_m = models.PositiveIntegerField(default=1000)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.what} at {self.place_id} (waiting for confirmation)"
