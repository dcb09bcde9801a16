"""The council's address gazetteer: properties with coordinates, postcode and property id."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Place(models.Model):
    """One addressable property (a UPRN, a parcel or the council's own id)."""

    property_id = models.CharField(max_length=64, unique=True)
    address = models.CharField(max_length=300)
    postcode = models.CharField(max_length=16, blank=True, db_index=True)
    lat = models.FloatField()
    long = models.FloatField()
    # `address` folded for matching: lower case, no punctuation, street words spelled out.
    search_text = models.CharField(max_length=300)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["lat", "long"], name="place_position")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lat__gte=-90, lat__lte=90, long__gte=-180, long__lte=180),
                name="place_position_range",
            )
        ]
        ordering = ["search_text"]

    def __str__(self) -> str:
        return f"{self.address} {self.postcode}".strip()
