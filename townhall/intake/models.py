"""What arrives on every channel, kept as it came, and what the pipeline made of it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from townhall.cases.models import Case
from townhall.people.models import Channel, Citizen


class Outcome(models.TextChoices):
    RECEIVED = "received", _("Received, not yet processed")
    OPENED = "opened", _("Opened a case")
    ADDED = "added", _("Added to an existing case")
    FOLLOWED = "followed", _("Linked to an open case as a duplicate")
    ANSWERED = "answered", _("Answered without a case")
    IGNORED = "ignored", _("Ignored (automatic mail, loop or rate limit)")
    REJECTED = "rejected", _("Rejected (could not be accepted)")
    ABOUT = "about", _("About a case, from someone not known as its resident")


class InboundMessage(models.Model):
    """One message as a channel delivered it, with the raw payload kept for audit.

    Written before anything else happens to it, so a request that fails later is still
    here to retry; `outcome` says what the pipeline made of it.
    """

    channel = models.CharField(max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(default=timezone.now)
    # The provider's id for the message (Message-ID, SMS sid, partner id): a retried
    # delivery of the same message is recognised and not processed twice.
    external_id = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=60, blank=True, help_text=_("Which webhook or mailbox."))
    sender_email = models.CharField(max_length=254, blank=True)
    sender_phone = models.CharField(max_length=20, blank=True)
    sender_handle = models.CharField(max_length=200, blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    # Who sent it, as the sender key used for rate limits: the first contact value given.
    sender_key = models.CharField(max_length=254, blank=True)
    citizen = models.ForeignKey(
        Citizen, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    thread_hint = models.CharField(max_length=300, blank=True)
    # thread_hint came from the case's signed reply address (see Message.thread_signed).
    thread_signed = models.BooleanField(default=False)
    service_code = models.CharField(max_length=60, blank=True, help_text=_("As the sender chose."))
    # The council the message was sent to, when the channel knows it: a service code is
    # looked up in it (two councils may use the same code).
    jurisdiction = models.ForeignKey(
        "catalog.Jurisdiction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("council"),
        help_text=_("The council it was sent to, when the channel knows it."),
    )
    lat = models.FloatField(null=True, blank=True)
    long = models.FloatField(null=True, blank=True)
    address = models.CharField(max_length=300, blank=True)
    raw = models.TextField(blank=True, help_text=_("The payload as received, for audit."))
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RECEIVED)
    reason = models.CharField(max_length=300, blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    triage = models.JSONField(default=dict, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Opened a case whose possible duplicates staff should be shown, not yet searched for:
    # the search runs after the request (duplicate_suggestions_pending), not while the
    # caller waits, and this flag is its queue.
    suggestions_pending = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["sender_key", "-received_at"], name="inbound_sender_recent"),
            models.Index(fields=["channel", "external_id"], name="inbound_external"),
            models.Index(fields=["outcome", "-received_at"], name="inbound_outcome"),
            models.Index(
                fields=["id"],
                condition=models.Q(suggestions_pending=True),
                name="inbound_suggestions_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} message {self.pk} ({self.outcome})"


def attachment_path(instance: InboundAttachment, filename: str) -> str:
    return f"intake/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class InboundAttachment(models.Model):
    """A file that came with a message (kept as received; photos also go to the case bare)."""

    message = models.ForeignKey(
        InboundMessage, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    inline = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.filename or f"attachment {self.pk}"


class TriageModel(models.Model):
    """A trained text classifier from reports to service types; the newest active one is used."""

    created_at = models.DateTimeField(default=timezone.now)
    name = models.CharField(max_length=200, help_text=_("Where it was trained from."))
    labels = models.JSONField(default=list, help_text=_("Service codes it can propose."))
    rows = models.PositiveIntegerField(default=0, help_text=_("Training examples."))
    metrics = models.JSONField(default=dict, blank=True)
    blob = models.BinaryField()
    active = models.BooleanField(default=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.created_at:%Y-%m-%d %H:%M})"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a person")
    CONFIRMED = "confirmed", _("Confirmed")
    CORRECTED = "corrected", _("Moved to another service")


class TriageReview(models.Model):
    """A case the classifier was not sure about: it waits in the triage queue with the
    top suggestions until a person confirms or moves it."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="triage_review")
    suggestions = models.JSONField(
        default=list, help_text=_("[[service code, probability], …], best first.")
    )
    confidence = models.FloatField()
    status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="triage_pending")]

    def __str__(self) -> str:
        return f"triage of case {self.case_id} ({self.status})"


class SuggestionStatus(models.TextChoices):
    OPEN = "open", _("Suggested")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not a duplicate")


class DuplicateSuggestion(models.Model):
    """A case that may be the same problem as an earlier open one, for staff to decide."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="duplicate_of_suggestions"
    )
    candidate = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    distance_m = models.FloatField()
    similarity = models.FloatField()
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-score"]
        constraints = [
            models.UniqueConstraint(fields=["case", "candidate"], name="unique_duplicate_pair")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} may duplicate {self.candidate_id} ({self.score:.2f})"


class WebhookSource(models.Model):
    """A partner system or social-media bridge allowed to post messages, with its secret."""

    slug = models.SlugField(unique=True, help_text=_("Part of its address: /hooks/intake/<slug>/"))
    name = models.CharField(max_length=200)
    secret = models.CharField(
        max_length=200, help_text=_("Shared secret for the X-Townhall-Signature HMAC.")
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SOCIAL)
    # The council its messages are for: their service codes are looked up there. Needed
    # when several councils share a code; empty means the only council that has the code.
    jurisdiction = models.ForeignKey(
        "catalog.Jurisdiction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("council"),
        help_text=_(
            "The council its messages are for: their service codes are looked up there. "
            "Needed when several councils use the same code."
        ),
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class RetentionPolicy(models.Model):
    """How long each kind of data is kept: one row, edited by council admins.

    Until it exists the TOWNHALL_RETENTION setting's defaults apply; opening it in the
    admin creates it from them. 0 keeps that kind forever.
    The scheduled purge (`townhall retention purge`, intake.retention) reads it.
    """

    raw_message_days = models.PositiveIntegerField(
        _("raw inbound messages (days)"),
        help_text=_("The payload of each e-mail, SMS or webhook message as received."),
    )
    attachment_days = models.PositiveIntegerField(
        _("message attachments (days)"),
        help_text=_("Files that came with messages (photos also stay on their case)."),
    )
    search_log_days = models.PositiveIntegerField(
        _("knowledge search logs (days)"), help_text=_("What people typed into the help search.")
    )
    staged_file_hours = models.PositiveIntegerField(
        _("staged report photos (hours)"),
        help_text=_("Photos kept for a report form that came back with mistakes."),
    )
    closed_case_years = models.PositiveIntegerField(
        _("personal data on closed cases (years)"),
        help_text=_(
            "After this long, a closed case loses description, answers, address, photos, "
            "reporter and its messages' text; the case stays for statistics."
        ),
    )
    security_event_days = models.PositiveIntegerField(
        _("security event log (days)"), help_text=_("Failed sign-ins, lockouts, exports…")
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policy")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="retention_singleton")]

    def __str__(self) -> str:
        return str(_("Retention policy"))


class ApplicationService(models.Model):
    """The catalogue service a rules programme's or a permit's application opens.

    After a check that says "eligible" (or a permit finder that says a permit is needed),
    "Apply" opens an application for this service type, with the answers already given;
    `documents` are asked for on top of a permit's own (docs/rules.md, "Apply").
    """

    service_type = models.OneToOneField(
        "catalog.ServiceType",
        on_delete=models.CASCADE,
        related_name="application",
        verbose_name=_("service type"),
    )
    programme = models.SlugField(
        _("rules programme"),
        max_length=63,
        blank=True,
        help_text=_("The eligibility programme this service is the application for."),
    )
    permit = models.CharField(
        _("permit"),
        max_length=120,
        blank=True,
        help_text=_('Or the permit it applies for: "tree id:permit id".'),
    )
    documents = models.JSONField(
        _("documents"),
        default=list,
        blank=True,
        help_text=_(
            'Documents to upload: [{"code": "quote", "label": {"en": "…", "es": "…"}, '
            '"required": true}, …]'
        ),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("application service")
        verbose_name_plural = _("application services")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(programme="") & ~models.Q(permit=""))
                | (~models.Q(programme="") & models.Q(permit="")),
                name="intake_application_programme_or_permit",
            ),
            models.UniqueConstraint(
                fields=["programme"],
                condition=models.Q(active=True) & ~models.Q(programme=""),
                name="intake_one_application_per_programme",
            ),
            models.UniqueConstraint(
                fields=["permit"],
                condition=models.Q(active=True) & ~models.Q(permit=""),
                name="intake_one_application_per_permit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme or self.permit} → {self.service_type_id}"

    def clean(self) -> None:
        """Refuse a permit not written "tree:permit" and documents of the wrong shape."""
        problems: dict[str, str] = {}
        if self.permit and self.permit.count(":") != 1:
            problems["permit"] = str(_('Write it "tree id:permit id".'))
        items = self.documents if isinstance(self.documents, list) else None
        if items is None or not all(
            isinstance(item, dict) and item.get("label") and item.get("code") for item in items
        ):
            problems["documents"] = str(_('A list of {"code": …, "label": …} entries.'))
        if problems:
            raise ValidationError(problems)
