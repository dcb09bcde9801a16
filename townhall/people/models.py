"""Residents and how to reach them: citizens, contact points and consent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from townhall.core.models import TimeStampedModel


class Channel(models.TextChoices):
    """Where a request came from, or how a resident likes to be reached."""

    WEB = "web", _("Web portal")
    ASSISTANT = "assistant", _("Chat assistant")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    SOCIAL = "social", _("Social media / webhook")
    OPEN311 = "open311", _("Open311 API")
    COUNTER = "counter", _("In person")
    STAFF = "staff", _("Staff")


class Citizen(TimeStampedModel):
    """A resident known to the council, with or without an online account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="citizen",
    )
    display_name = models.CharField(max_length=200, blank=True)
    preferred_language = models.CharField(max_length=10, default="en")
    preferred_channel = models.CharField(
        max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )

    def __str__(self) -> str:
        return self.display_name or f"Citizen #{self.pk}"


class ContactKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    HANDLE = "handle", _("Social handle")


class ContactPoint(TimeStampedModel):
    """One normalised way to reach a citizen (e-mail lower-cased, phone in E.164)."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    value = models.CharField(max_length=254)
    verified = models.BooleanField(default=False)

    class Meta:
        constraints = [
            # "Tell us once": one contact value belongs to one citizen.
            models.UniqueConstraint(fields=["kind", "value"], name="unique_contact_point"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class ConsentPurpose(models.TextChoices):
    CASE_UPDATES = "case_updates", _("Updates about my requests")
    SURVEYS = "surveys", _("Satisfaction surveys")
    ALERTS = "alerts", _("Area alerts")
    RESEARCH = "research", _("Anonymous research")


class ConsentRecord(models.Model):
    """A consent given or withdrawn, kept as history (the latest row per purpose counts)."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    granted = models.BooleanField()
    at = models.DateTimeField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    wording = models.CharField(max_length=500, blank=True, help_text=_("What the resident saw."))

    class Meta:
        indexes = [models.Index(fields=["citizen", "purpose", "-at"], name="consent_latest")]

    def __str__(self) -> str:
        return f"{self.purpose}={'yes' if self.granted else 'no'} at {self.at:%Y-%m-%d}"


class PersonEventKind(models.TextChoices):
    MERGED = "merged", _("People merged")
    SPLIT = "split", _("Person split")
    CONTACT_ADDED = "contact_added", _("Contact point added")
    CONTACT_VERIFIED = "contact_verified", _("Contact point verified")
    CONTACT_MOVED = "contact_moved", _("Contact point moved")
    ERASED = "erased", _("Personal data erased")


class PersonEvent(models.Model):
    """One change to who a person is or how they are reached; appended, never edited.

    `citizen` is whose history shows the event: a merge hands the merged-away person's
    events to the survivor, and a person removed altogether leaves their events with no
    citizen. `subject_id` is the id of the citizen the event was written about, a plain
    integer that never changes; `data` holds every other id involved as plain integers.
    """

    # Indexed by person_event_history, whose first column it is.
    citizen = models.ForeignKey(
        Citizen,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
    )
    subject_id = models.BigIntegerField(db_index=True)
    kind = models.CharField(max_length=20, choices=PersonEventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    actor_label = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["citizen", "-at"], name="person_event_history")]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} of citizen {self.subject_id} at {self.at:%Y-%m-%d %H:%M}"


class ReportContact(models.Model):
    """A contact point given with the report that opened a case ("self-given" for it).

    Whoever sent a report may be told about that report on the contacts they gave with it,
    even unproven; they see nothing else of the person those contacts may belong to. The
    case is referred to by id only (people sits below cases).
    """

    case_id = models.BigIntegerField()
    contact_point = models.ForeignKey(
        ContactPoint, on_delete=models.CASCADE, related_name="reports"
    )
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case_id", "contact_point"], name="unique_report_contact"
            )
        ]

    def __str__(self) -> str:
        return f"contact {self.contact_point_id} given with case {self.case_id}"


class SamePersonHint(models.Model):
    """Two people who may be one (their contacts came together in one unproven message).

    Only a hint for staff, never acted on by itself: they merge the two, or dismiss it.
    """

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["citizen", "other"], name="unique_same_person_hint")
        ]

    def __str__(self) -> str:
        return f"citizen {self.citizen_id} may be citizen {self.other_id}"


class SignInLink(models.Model):
    """One e-mailed sign-in link: only a hash of its token is kept; it works once.

    Shared by every web process through the database (no per-process cache).
    """

    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"sign-in link {self.pk} ({'used' if self.used_at else 'unused'})"


class PhoneProof(models.Model):
    """A one-time code texted to prove a phone number; the code is kept hashed."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="phone_proofs")
    value = models.CharField(max_length=20, help_text=_("The phone number, E.164."))
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["citizen", "-created_at"], name="phone_proof_latest")]

    def __str__(self) -> str:
        return f"phone proof {self.pk} for citizen {self.citizen_id}"
