"""How residents feel: satisfaction surveys, journey signals, the frustration index, and the
supervisor flags both raise.

Nothing here holds contact details: a survey knows its case and resident; how to reach them
is `people`'s and `notify`'s business.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from townhall.cases.models import Case
from townhall.people.models import Channel, Citizen


class Survey(models.Model):
    """The satisfaction question owed to a resolved case's reporter: one answer per case.

    Created when the case is resolved (a case-event subscriber, in the event's transaction).
    The link token is an HMAC of the case id (`notify.links.survey_token`), so the
    resolution message can carry it in the transaction that resolves the case; only its
    SHA-256 is stored here.
    """

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="survey")
    citizen = models.ForeignKey(
        Citizen, on_delete=models.SET_NULL, null=True, blank=True, related_name="surveys"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    # Where it was asked (the case's channel, or how the resident is reached) and in which
    # language; `answered_via` is where the answer came from.
    channel = models.CharField(max_length=10, choices=Channel.choices)
    language = models.CharField(max_length=10, default="en")
    ask_nps = models.BooleanField(default=False, help_text=_("In the NPS sample."))
    sent_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_via = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)  # 1..5
    nps = models.PositiveSmallIntegerField(null=True, blank=True)  # 0..10
    comment = models.TextField(blank=True)
    # The comment's frustration (experience.tone, 0..1), scored when answered.
    comment_tone = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["answered_at"], name="survey_answered"),
            models.Index(fields=["citizen", "-sent_at"], name="survey_citizen_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(csat__isnull=True) | models.Q(csat__gte=1, csat__lte=5),
                name="survey_csat_range",
            ),
            models.CheckConstraint(
                condition=models.Q(nps__isnull=True) | models.Q(nps__gte=0, nps__lte=10),
                name="survey_nps_range",
            ),
        ]

    def __str__(self) -> str:
        return f"survey for case {self.case_id}"


class SignalKind(models.TextChoices):
    """Signals of a journey going wrong that the case history alone does not hold."""

    ABANDONED_FORM = "abandoned_form", _("Report started but not sent")
    ASSISTANT_FALLBACK = "assistant_fallback", _("Assistant did not understand")
    BOUNCED_HANDOFF = "bounced_handoff", _("Hand-off to a person not answered")
    NEGATIVE_TONE = "negative_tone", _("Negative tone in a message or chat")
    CHAT_ABANDONED = "chat_abandoned", _("Chat left unanswered")
    REPEAT_CONTACT = "repeat_contact", _("Contacted again about the same thing")


class JourneySignal(models.Model):
    """One recorded moment of friction, for a case, a resident, or (anonymous) neither.

    Written by the apps that see it (the assistant, the portal, intake) through
    `experience.services.journey_signal_record`; read by the frustration index and by
    insights (abandonment).
    """

    kind = models.CharField(max_length=20, choices=SignalKind.choices)
    at = models.DateTimeField(default=timezone.now)
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="journey_signals"
    )
    citizen = models.ForeignKey(
        Citizen,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="journey_signals",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # How strong (0..1): a tone score, or 1 for an event that simply happened.
    value = models.FloatField(default=1.0)
    # Never personal: ids, counts and labels only.
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["case", "kind"], name="signal_case_kind"),
            models.Index(fields=["citizen", "-at"], name="signal_citizen_recent"),
            models.Index(fields=["kind", "at"], name="signal_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class CaseFrustration(models.Model):
    """The frustration index of an open case as last computed, with each contribution.

    Recomputed by the scan (`townhall experience scan`, scheduled) and on demand; the
    supervisor's queue sorts on `score`. `updated_at` of the proactive message stops the
    resident from being told the same thing twice.
    """

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="frustration")
    score = models.FloatField()
    # [{"signal": "waited", "value": 1.4, "weight": 0.35, "points": 0.49, "why": "..."}...]
    contributions = models.JSONField(default=list)
    computed_at = models.DateTimeField(default=timezone.now)
    resident_told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["-score"], name="frustration_score")]

    def __str__(self) -> str:
        return f"case {self.case_id}: {self.score:.2f}"


class FlagKind(models.TextChoices):
    LOW_SCORE = "low_score", _("Low satisfaction score")
    FRUSTRATION = "frustration", _("Frustration above the threshold")


class SupervisorFlag(models.Model):
    """Something a supervisor should look at: a low survey score or a frustrated resident.

    At most one open flag per case and kind; handling it records who and what was done.
    """

    kind = models.CharField(max_length=12, choices=FlagKind.choices)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervisor_flags")
    survey = models.ForeignKey(
        Survey, on_delete=models.SET_NULL, null=True, blank=True, related_name="flags"
    )
    score = models.FloatField(help_text=_("The CSAT (1–5) or the frustration index."))
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["handled_at", "-created_at"], name="flag_open_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=models.Q(handled_at__isnull=True),
                name="flag_one_open_per_case_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"
