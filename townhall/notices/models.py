"""Models of townhall.notices: public notices, product recalls and their batch codes, and
the hash chain that records every change to them (see docs/notices.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from townhall.core.models import TimeStampedModel
from townhall.notify.models import Alert, AlertTopic, AreaMixin


class NoticeKind(models.TextChoices):
    DISRUPTION = "disruption", _("Service disruption")
    ROAD_WORKS = "road_works", _("Road works")
    RECALL = "recall", _("Product recall")
    OTHER = "other", _("Other notice")


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


class Notice(AreaMixin, TimeStampedModel):
    """A notice staff publish to the public: shown on the portal and in the assistant,
    pushed once to the subscribers of its topic in its area (through a notify Alert).

    Only a published notice whose period has begun and not ended is ever shown. Every
    change is recorded in the notice's event chain (NoticeEvent); the fields here are
    checked against the digest its last event carries (`townhall ledger verify`).
    """

    kind = models.CharField(max_length=12, choices=NoticeKind.choices)
    status = models.CharField(
        max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT, db_index=True
    )
    topic = models.ForeignKey(AlertTopic, on_delete=models.PROTECT, related_name="notices")
    title = models.CharField(max_length=200)
    body = models.TextField()
    advice = models.TextField(blank=True, help_text=_("What residents should do."))
    # Spanish text, where staff wrote it; English is shown otherwise.
    title_es = models.CharField(max_length=200, blank=True)
    body_es = models.TextField(blank=True)
    advice_es = models.TextField(blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    alert = models.ForeignKey(
        Alert, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["status", "min_lat"], name="notice_public_box")]

    def __str__(self) -> str:
        return self.title


class Recall(TimeStampedModel):
    """The product and affected batch or lot codes of a recall notice."""

    notice = models.OneToOneField(Notice, on_delete=models.CASCADE, related_name="recall")
    product = models.CharField(max_length=200)
    product_es = models.CharField(max_length=200, blank=True)
    # Kept by the import in the same transaction as the codes: their number and the sum of
    # their SHA-256s modulo 2**256 (an order-free digest, chained in the notice's events).
    codes_count = models.PositiveIntegerField(default=0, editable=False)
    codes_sum = models.CharField(max_length=64, default="0" * 64, editable=False)

    def __str__(self) -> str:
        return self.product


class RecallCode(models.Model):
    """One affected batch or lot code, normalised (upper case, letters and digits only)."""

    recall = models.ForeignKey(Recall, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recall", "code"], name="unique_recall_code")
        ]

    def __str__(self) -> str:
        return self.code


class NoticeEvent(models.Model):
    """One link of a notice's hash chain: what changed, with a digest of the notice's
    public content (and of its codes, for a recall) after the change."""

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=20)
    at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["notice_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "seq"], name="unique_notice_event_seq")
        ]

    def __str__(self) -> str:
        return f"notice {self.notice_id} #{self.seq} {self.kind}"


class NoticeSeal(models.Model):
    """The notices' part of a daily ledger seal: a Merkle root over every notice chain's
    head, signed with the ledger key, bound to the case seal it was made with."""

    case_seal_id = models.BigIntegerField(unique=True)
    case_seal_hash = models.CharField(max_length=64)
    root = models.CharField(max_length=64)
    tree_size = models.PositiveIntegerField()
    # [[notice id, count, head hash], ...] as sealed; not trusted (the root is).
    heads = models.JSONField(default=list)
    prev_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=128)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["case_seal_id"]

    def __str__(self) -> str:
        return f"notices seal with case seal {self.case_seal_id} ({self.tree_size} notices)"
