"""Zones, streams, collection rules, overrides, the council's holiday policy, reminders."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from townhall.places.models import Place


class HolidayRuleChoice(models.TextChoices):
    COLLECT = "collect", _("Collect as usual on public holidays")
    NEXT_DAY = "next_day", _("A collection on a holiday moves to the next day")
    SLIDE_WEEK = (
        "slide_week",
        _("A collection on a holiday moves a day, and the rest of that week one day later"),
    )
    SKIP = "skip", _("A collection on a holiday is not made up")


class WasteConfig(models.Model):
    """The council's waste settings (one row). The country and subdivision copy the
    council's jurisdiction: waste may not read the catalogue, so they are kept here."""

    country = models.CharField(max_length=2, blank=True, help_text=_("ISO code, e.g. CA, GB, US"))
    subdivision = models.CharField(max_length=10, blank=True, help_text=_("e.g. ON, ENG, MA"))
    # Blank: every public holiday counts. Otherwise the names (or parts of names), one a
    # line, of the holidays on which the crews do not collect ("Christmas", "New Year").
    holiday_names = models.TextField(blank=True)
    holiday_rule = models.CharField(
        max_length=12, choices=HolidayRuleChoice.choices, default=HolidayRuleChoice.COLLECT
    )
    timezone = models.CharField(max_length=64, blank=True)
    bins_out_by = models.TimeField(default=dt.time(7, 0))
    # A missed bin may be reported from this time on a collection day (the crews are done).
    crews_done_by = models.TimeField(default=dt.time(18, 0))
    reminder_at = models.TimeField(default=dt.time(18, 0))

    class Meta:
        verbose_name = _("waste settings")
        verbose_name_plural = _("waste settings")

    def __str__(self) -> str:
        return f"{self.country}-{self.subdivision} {self.holiday_rule}"


class Stream(models.Model):
    """A kind of waste collected separately: garbage, recycling, organics, garden, bulky..."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    colour = models.CharField(max_length=7, default="#505a5f")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class Zone(models.Model):
    """An area collected on the same days; `geometry` a GeoJSON Polygon or MultiPolygon."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    geometry = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ZonePlace(models.Model):
    """The zone an address belongs to (from the zone polygons, or set by hand)."""

    place = models.OneToOneField(Place, on_delete=models.CASCADE, related_name="waste_zone")
    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="places")

    def __str__(self) -> str:
        return f"{self.place_id} in {self.zone_id}"


class CollectionRule(models.Model):
    """One stream collected in one zone on a weekday, every `cycle_weeks` weeks."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="rules")
    stream = models.ForeignKey(Stream, on_delete=models.PROTECT, related_name="rules")
    weekday = models.PositiveSmallIntegerField(
        choices=[
            (n, name)
            for n, name in enumerate(
                [
                    _("Monday"),
                    _("Tuesday"),
                    _("Wednesday"),
                    _("Thursday"),
                    _("Friday"),
                    _("Saturday"),
                    _("Sunday"),
                ]
            )
        ]
    )
    cycle_weeks = models.PositiveSmallIntegerField(default=1)
    # Weeks counted from Monday 3 January 2000: the rule runs when week % cycle == phase.
    phase = models.PositiveSmallIntegerField(default=0)
    season_start_month = models.PositiveSmallIntegerField(default=1)
    season_start_day = models.PositiveSmallIntegerField(default=1)
    season_end_month = models.PositiveSmallIntegerField(default=12)
    season_end_day = models.PositiveSmallIntegerField(default=31)
    # > 0: the season runs this many weeks from the first Monday on or after its start,
    # whatever the end says (inferred when several years hold the same number of dates).
    season_weeks = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["zone", "stream"], name="waste_rule_per_zone_stream"),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6, cycle_weeks__gte=1, cycle_weeks__lte=8),
                name="waste_rule_weekday_cycle",
            ),
        ]
        ordering = ["zone", "stream"]

    def __str__(self) -> str:
        return f"{self.zone_id}/{self.stream_id} day {self.weekday} every {self.cycle_weeks}"


class HolidayHandling(models.Model):
    """What one public holiday does to collections, learnt from published years or set by
    staff (`townhall/waste/holiday_policy.py` explains the lookup). `holiday` is the name
    the `holidays` package gives it, blank for every holiday; `weekday` the weekday it
    falls on (blank: any); `stream` blank for every stream. `exact` lists [collection
    weekday, days later] pairs (null days: skipped) seen when it fell on `weekday`."""

    holiday = models.CharField(max_length=100, blank=True)
    weekday = models.PositiveSmallIntegerField(null=True, blank=True)
    stream = models.ForeignKey(
        Stream, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    effect = models.CharField(max_length=12, choices=HolidayRuleChoice.choices)
    exact = models.JSONField(default=list, blank=True)
    learnt = models.BooleanField(default=True)

    class Meta:
        # One row per (holiday, weekday, stream): `waste_import_toronto` replaces the learnt
        # rows as a whole (the blanks make a unique constraint depend on the database).
        ordering = ["holiday", "weekday"]

    def __str__(self) -> str:
        return f"{self.holiday or '*'} {self.weekday} {self.effect}"


class OverrideActionChoice(models.TextChoices):
    MOVE = "move", _("Move to another day")
    CANCEL = "cancel", _("Cancel")
    ADD = "add", _("Add an extra collection")


class CollectionOverride(models.Model):
    """An explicit change for one date: in one zone or all, for one stream or all."""

    zone = models.ForeignKey(
        Zone, on_delete=models.CASCADE, null=True, blank=True, related_name="overrides"
    )
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, null=True, blank=True)
    day = models.DateField(help_text=_("The day the collection is regularly due"))
    action = models.CharField(max_length=8, choices=OverrideActionChoice.choices)
    to = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["day"], name="waste_override_day")]
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.action}"


class WasteReminder(models.Model):
    """A resident's wish to hear the evening before their bins go out."""

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="waste_reminders")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    streams = models.JSONField(default=list, blank=True)  # stream codes; empty: all
    language = models.CharField(max_length=10, default="en")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(email="", phone=""), name="waste_reminder_has_contact"
            )
        ]

    def __str__(self) -> str:
        return f"{self.place_id} → {self.email or self.phone}"
