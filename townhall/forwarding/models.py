"""Models of townhall.forwarding: the bodies that own some requests, the rules that route
cases to them, each forward and every sync with the remote system.

A two-tier council splits duties (the county fixes roads, the district empties bins), and
departments run their own work-order systems. A `Body` is such an owner: it takes cases
either over Open311 GeoReport v2 (we are its client) or as a work-order system (it hears our
signed case events and answers on the inbound endpoint). A `RoutingRule` sends cases of some
service types inside the body's boundary to it. A `Forward` is one case sent to one body;
`ForwardSync` records every attempt and every status read, for the case page.

Faces read these through `forwarding.selectors` and change them through
`forwarding.services` only.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BodyKind(models.TextChoices):
    OPEN311 = "open311", _("Open311 GeoReport v2 server (we send, then poll)")
    WORK_ORDER = "work_order", _("Work-order system (signed events out, inbound endpoint)")


class Body(models.Model):
    """Another organisation or system that owns some requests."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=BodyKind.choices)
    # Shown to the resident: "This goes to Kent County Council, who will reply."
    public_name = models.CharField(
        _("name shown to residents"), max_length=120, blank=True, help_text=_("Empty: the name.")
    )
    public_note = models.CharField(
        _("what residents are told"),
        max_length=300,
        blank=True,
        help_text=_('e.g. "The county mends roads; they will reply to you."'),
    )
    # GeoJSON Polygon or MultiPolygon, [long, lat] (catalog.boundary.boundary_clean);
    # empty: the whole area we serve.
    boundary = models.JSONField(_("boundary"), null=True, blank=True)
    # Open311: the server's base URL (".../open311/v2/"), its jurisdiction_id, our API key.
    endpoint = models.URLField(_("endpoint"), max_length=500, blank=True)
    jurisdiction_id = models.CharField(_("jurisdiction id"), max_length=120, blank=True)
    api_key = models.CharField(
        _("API key"), max_length=200, blank=True, help_text=_("Never shown after saving.")
    )
    supports_updates = models.BooleanField(
        _("offers servicerequestupdates"),
        default=False,
        help_text=_("mySociety's extension: GET servicerequestupdates.json"),
    )
    # Remote status (lower case) -> our CaseStatus value; unknown statuses are reported,
    # never guessed. Empty: GeoReport's own "open" / "closed".
    status_map = models.JSONField(_("status map"), default=dict, blank=True)
    # Work-order systems sign what they send us with this (HMAC-SHA256).
    inbound_secret = models.CharField(_("inbound secret"), max_length=200, blank=True)
    # Off: the body gets the public text only (personal data masked), no name or contact.
    send_personal_data = models.BooleanField(
        _("send the reporter's name and contacts"),
        default=False,
        help_text=_(
            "Only for a body trusted with residents' personal data (a data-sharing agreement)."
        ),
    )
    poll_seconds = models.PositiveIntegerField(_("poll every (seconds)"), default=900)
    timeout_seconds = models.FloatField(_("timeout (seconds)"), default=10.0)
    active = models.BooleanField(_("active"), default=True)
    # Status sync (forwarding.syncing): failed polls in a row, when to ask again, the last
    # error, and how far servicerequestupdates has been read (the newest update's time).
    sync_failures = models.PositiveIntegerField(_("failed polls in a row"), default=0)
    sync_retry_at = models.DateTimeField(_("next poll after a failure"), null=True, blank=True)
    sync_error = models.CharField(_("last sync error"), max_length=500, blank=True)
    updates_cursor = models.DateTimeField(_("updates read up to"), null=True, blank=True)

    class Meta:
        verbose_name = _("body")
        verbose_name_plural = _("bodies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Cases of these service types, placed inside the body's boundary, go to the body.

    No service types: every service. Lower `order` is tried first; the first match wins.
    """

    body = models.ForeignKey(
        Body, on_delete=models.CASCADE, related_name="rules", verbose_name=_("body")
    )
    service_types = models.ManyToManyField(
        "catalog.ServiceType", blank=True, related_name="+", verbose_name=_("service types")
    )
    order = models.PositiveIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return f"{self.body} #{self.pk}"


class ServiceMapping(models.Model):
    """Our service type as the remote body's service code, with its attributes renamed."""

    body = models.ForeignKey(
        Body, on_delete=models.CASCADE, related_name="mappings", verbose_name=_("body")
    )
    service_type = models.ForeignKey(
        "catalog.ServiceType", on_delete=models.CASCADE, related_name="+"
    )
    remote_code = models.CharField(_("remote service code"), max_length=120)
    # Our attribute code -> the remote's attribute code (values pass through unchanged,
    # or {"code": ..., "values": {ours: theirs}}).
    attributes = models.JSONField(_("attribute mapping"), default=dict, blank=True)

    class Meta:
        verbose_name = _("service mapping")
        verbose_name_plural = _("service mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["body", "service_type"], name="forwarding_mapping_one_per_service"
            )
        ]

    def __str__(self) -> str:
        return f"{self.service_type_id} -> {self.remote_code}"


class ForwardState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent; following its status")
    FAILED = "failed", _("Could not be sent; staff alerted")
    CLOSED = "closed", _("Closed by the body")
    WITHDRAWN = "withdrawn", _("Taken back by staff")


class Forward(models.Model):
    """One case sent to one body: where, when, its remote id and where the sync stands."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="forwards", verbose_name=_("case")
    )
    body = models.ForeignKey(
        Body, on_delete=models.PROTECT, related_name="forwards", verbose_name=_("body")
    )
    state = models.CharField(
        _("state"), max_length=20, choices=ForwardState.choices, default=ForwardState.PENDING
    )
    remote_id = models.CharField(_("remote id"), max_length=200, blank=True)
    # Open311 may answer with a token first and the id later (GET tokens/<token>).
    remote_token = models.CharField(_("remote token"), max_length=200, blank=True)
    remote_status = models.CharField(_("remote status"), max_length=60, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    # servicerequestupdates: the newest update seen (its time), so each is applied once.
    updates_after = models.DateTimeField(null=True, blank=True)
    # The digest of the last remote note applied: the same note read again is not news.
    remote_note_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("forward")
        verbose_name_plural = _("forwards")
        ordering = ["-created_at"]
        constraints = [
            # A case is with at most one body at a time.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(state__in=["pending", "sent", "failed"]),
                name="forwarding_one_live_forward_per_case",
            ),
            models.UniqueConstraint(
                fields=["body", "remote_id"],
                condition=~Q(remote_id=""),
                name="forwarding_remote_id_unique_per_body",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="forwarding_due_idx"),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id} -> {self.body_id} ({self.state})"


class SyncKind(models.TextChoices):
    SEND = "send", _("Sent")
    POLL = "poll", _("Status read")
    UPDATE = "update", _("Update received")
    INBOUND = "inbound", _("Work-order system reported")
    RETRY = "retry", _("Will retry")
    FAILURE = "failure", _("Failed")


class ForwardSync(models.Model):
    """Every exchange with the remote about a forward: what happened, when, with what."""

    forward = models.ForeignKey(
        Forward, on_delete=models.CASCADE, related_name="syncs", verbose_name=_("forward")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=20, choices=SyncKind.choices)
    ok = models.BooleanField(_("ok"), default=True)
    remote_status = models.CharField(_("remote status"), max_length=60, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    elapsed_ms = models.PositiveIntegerField(_("time (ms)"), null=True, blank=True)

    class Meta:
        verbose_name = _("sync")
        verbose_name_plural = _("syncs")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["forward", "-at"], name="forwarding_sync_forward_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class InboundEvent(models.Model):
    """An event a work-order system sent us, kept so a repeat is answered, not re-applied."""

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(default=timezone.now)
    forward = models.ForeignKey(Forward, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["body", "event_id"], name="forwarding_inbound_event_once"
            )
        ]

    def __str__(self) -> str:
        return self.event_id
