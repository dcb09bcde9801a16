"""Models of townhall.appointments: offices, services that need a meeting, slot templates,
the slots made from them and the appointments booked into those slots.

No double booking: a slot keeps a `booked` counter that a booking raises with one
conditional UPDATE (``booked < capacity``), which also locks the slot row until the
booking commits; each live appointment holds a seat number, unique per slot (a partial
unique index), and a case has at most one live appointment. See docs/appointments.md.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from townhall.cases.models import Case
from townhall.catalog.models import BusinessCalendar, Jurisdiction, ServiceType
from townhall.core.models import TimeStampedModel
from townhall.people.models import Citizen


class MeetingMode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("By phone")
    VIDEO = "video", _("By video call")


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not come")


class Office(TimeStampedModel):
    """Where (or from where) a council meets residents."""

    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    directions = models.TextField(
        blank=True, help_text=_("How to find the desk, shown to residents.")
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Holidays and closures of this office; empty: the council's calendar."),
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MeetingService(TimeStampedModel):
    """A service whose cases need a meeting with a caseworker."""

    service_type = models.OneToOneField(
        ServiceType, on_delete=models.CASCADE, related_name="meeting"
    )
    programme = models.SlugField(
        max_length=63,
        blank=True,
        help_text=_("Eligibility programme (rules) checked against the case's answers."),
    )
    book_days_ahead = models.PositiveIntegerField(
        default=28, validators=[MinValueValidator(1), MaxValueValidator(180)]
    )
    min_notice_hours = models.PositiveIntegerField(
        default=2, help_text=_("Slots starting sooner than this are not offered.")
    )
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return str(self.service_type)


class SlotTemplate(TimeStampedModel):
    """A weekly pattern: every `weekday` from `starts` to `ends`, slots of `slot_minutes`."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="templates")
    service = models.ForeignKey(MeetingService, on_delete=models.CASCADE, related_name="templates")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The caseworker who holds these meetings, if one does."),
    )
    weekday = models.PositiveSmallIntegerField(
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ]
    )
    starts = models.TimeField()
    ends = models.TimeField()
    slot_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    capacity = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("Residents seen at once in each slot (desks)."),
    )
    mode = models.CharField(
        max_length=10, choices=MeetingMode.choices, default=MeetingMode.IN_PERSON
    )
    video_url = models.URLField(blank=True, help_text=_("The meeting room, for video calls."))
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["office", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts__lt=models.F("ends")),
                name="appointments_template_starts_before_ends",
            )
        ]

    def __str__(self) -> str:
        return f"{self.office} {self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class Slot(models.Model):
    """One bookable time, made from a template for the rolling window ahead."""

    template = models.ForeignKey(
        SlotTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="slots"
    )
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="slots")
    service = models.ForeignKey(MeetingService, on_delete=models.PROTECT, related_name="slots")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    mode = models.CharField(max_length=10, choices=MeetingMode.choices)
    capacity = models.PositiveSmallIntegerField(default=1)
    booked = models.PositiveSmallIntegerField(default=0)
    withdrawn = models.BooleanField(
        default=False, help_text=_("Not offered any more (a closure declared after it was made).")
    )

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "starts_at"], name="appointments_one_slot_per_template_time"
            ),
            models.CheckConstraint(
                condition=models.Q(booked__lte=models.F("capacity")),
                name="appointments_slot_not_overbooked",
            ),
        ]
        indexes = [models.Index(fields=["service", "starts_at"], name="appointments_slot_offer")]

    def __str__(self) -> str:
        return f"{self.office} {self.starts_at:%Y-%m-%d %H:%M} ({self.booked}/{self.capacity})"


class Appointment(models.Model):
    """A resident's booking of one seat of one slot, about one case."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="appointments")
    seat = models.PositiveSmallIntegerField()
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    citizen = models.ForeignKey(
        Citizen, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    # Raised by every change the resident is told about: the calendar entry's SEQUENCE, and
    # links made before the change stop working.
    version = models.PositiveIntegerField(default=1)
    language = models.CharField(max_length=10, default="en")
    # The version the day-before reminder was queued for (0: none yet).
    reminded_version = models.PositiveIntegerField(default=0)
    outcome = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slot__starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "seat"],
                condition=models.Q(status="booked"),
                name="appointments_one_booking_per_seat",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="booked"),
                name="appointments_one_live_booking_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} at {self.slot_id} seat {self.seat} ({self.status})"
