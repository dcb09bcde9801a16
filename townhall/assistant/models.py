"""Conversations with the assistant, their turns, and examples staff add to skills.

A conversation is addressed by `key`, a random secret (the widget holds it); the row id
never leaves the server. `state` is the dialogue's working memory (active skill, slots,
the digression stack, counters); what was said is in `Turn` rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Conversation(models.Model):
    class Channel(models.TextChoices):
        WEB = "web", "Web chat"
        SMS = "sms", "Text message"
        PHONE = "phone", "Phone call"

    class Status(models.TextChoices):
        BOT = "bot", "With the assistant"
        QUEUED = "queued", "Waiting for a person"
        AGENT = "agent", "With a person"
        CLOSED = "closed", "Closed"

    class Outcome(models.TextChoices):
        OPEN = "", "Open"
        CONTAINED = "contained", "Answered by the assistant"
        FILED = "filed", "Report filed"
        HANDED_OFF = "handed_off", "Handed to a person"
        MESSAGE_LEFT = "message_left", "Left as a message (out of hours)"
        ABANDONED = "abandoned", "Abandoned"

    key = models.CharField(max_length=64, unique=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEB)
    language = models.CharField(max_length=8, default="en")
    citizen = models.ForeignKey(
        "people.Citizen", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # For SMS: a keyed hash of the sender's number, so a reply finds its conversation
    # without the number being stored here.
    sender_hash = models.CharField(max_length=64, blank=True, db_index=True)
    state = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.BOT)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default="", blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    frustration = models.FloatField(default=0.0)
    handoff_reason = models.CharField(max_length=32, blank=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "queued_at"])]

    def __str__(self) -> str:
        return f"conversation {self.pk} ({self.get_status_display()})"


class Turn(models.Model):
    class Role(models.TextChoices):
        RESIDENT = "resident", "Resident"
        BOT = "bot", "Assistant"
        AGENT = "agent", "Staff"
        SYSTEM = "system", "System"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    role = models.CharField(max_length=8, choices=Role.choices)
    text = models.TextField()
    # What the assistant understood (resident turns) or answered with (bot turns).
    skill = models.CharField(max_length=32, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    # Quick replies, sources, entities, photo ids: what the face needs to show the turn.
    data = models.JSONField(default=dict, blank=True)
    frustration = models.FloatField(null=True, blank=True)
    # Thumbs up (+1) or down (-1) from the resident, on bot turns.
    rating = models.SmallIntegerField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:40]}"


class SkillExample(models.Model):
    """An utterance staff taught a skill (from the console), beside the YAML's examples."""

    skill = models.CharField(max_length=32)
    language = models.CharField(max_length=8, default="en")
    text = models.CharField(max_length=500)
    active = models.BooleanField(default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["skill", "language", "text"], name="skill_example_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.skill}: {self.text[:40]}"
