"""What photo recognition stores: the tag set councils configure, the tags on case photos
(the model's guesses and staff's confirmations or corrections), the photos' embeddings the
head is trained on, and the trained heads."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from townhall.cases.models import CasePhoto

NONE_TAG = "none"  # staff's "shows nothing the council deals with": a negative example


class VisionTag(models.Model):
    """One thing photos can be tagged with, and the service type it suggests filing."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=80, help_text=_("What staff and residents read."))
    service_code = models.CharField(
        max_length=60,
        blank=True,
        help_text=_("Service type code this tag suggests (empty: none)."),
    )
    threshold = models.FloatField(
        default=0.45,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("A photo gets this tag only at this confidence or above."),
    )
    propose_threshold = models.FloatField(
        default=0.6,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("A resident is offered this tag's service only at this confidence or above."),
    )
    imagenet_classes = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            "ImageNet class numbers (0-999) whose probabilities add up to this tag's score "
            "until a trained head knows the tag."
        ),
    )
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label


class TagSource(models.TextChoices):
    MODEL = "model", _("Model")
    STAFF = "staff", _("Staff")


class PhotoTag(models.Model):
    """A tag on a case photo: the model's guess, or what staff said it shows."""

    photo = models.ForeignKey(CasePhoto, on_delete=models.CASCADE, related_name="vision_tags")
    tag = models.CharField(max_length=40, db_index=True)
    confidence = models.FloatField()
    source = models.CharField(max_length=8, choices=TagSource.choices, default=TagSource.MODEL)
    model_version = models.CharField(max_length=80, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["photo", "-confidence", "id"]
        constraints = [
            models.UniqueConstraint(fields=["photo", "tag", "source"], name="vision_phototag_once")
        ]

    def __str__(self) -> str:
        return f"{self.tag} ({self.confidence:.2f}, {self.source})"


class PhotoEmbedding(models.Model):
    """The backbone's features of a case photo (float16), kept to train the head on."""

    photo = models.OneToOneField(
        CasePhoto, on_delete=models.CASCADE, related_name="vision_embedding"
    )
    backbone = models.CharField(max_length=40)
    vector = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.photo_id} {self.backbone}"


class VisionHead(models.Model):
    """A trained head (logistic regression on the backbone's features); newest active wins."""

    created_at = models.DateTimeField(default=timezone.now)
    name = models.CharField(max_length=200, help_text=_("Where it was trained from."))
    backbone = models.CharField(max_length=40)
    labels = models.JSONField(default=list, help_text=_("Tags it can tell apart."))
    rows = models.PositiveIntegerField(default=0, help_text=_("Training photos."))
    metrics = models.JSONField(default=dict, blank=True)
    blob = models.BinaryField()
    active = models.BooleanField(default=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.created_at:%Y-%m-%d %H:%M})"
