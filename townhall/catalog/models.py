"""What a council offers: jurisdictions, departments, service types, attributes, SLAs, calendars."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from townhall.catalog.i18n import translations_field
from townhall.core.models import TimeStampedModel

code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]*$", _("Use lower-case letters, digits, '-' and '_'.")
)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class BusinessCalendar(TimeStampedModel):
    """Opening hours, public holidays (from the `holidays` package) and local closures."""

    name = models.CharField(max_length=120)
    timezone = models.CharField(max_length=64, default="America/New_York")
    country = models.CharField(
        max_length=2, help_text=_("ISO 3166 country code for public holidays, e.g. US, GB.")
    )
    subdivision = models.CharField(
        max_length=10, blank=True, help_text=_("State, province or nation, e.g. MA or ENG.")
    )
    opens = models.TimeField(default=time(9, 0))
    closes = models.TimeField(default=time(17, 0))
    workdays = models.JSONField(
        default=list, help_text=_("Working weekdays as numbers, Monday = 0 … Sunday = 6.")
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens__lt=models.F("closes")),
                name="calendar_opens_before_closes",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CalendarClosure(models.Model):
    """A local day off beyond public holidays (a council's closure, an emergency)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closures"
    )
    date = models.DateField()
    reason = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="unique_closure_per_day")
        ]
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date}: {self.reason}"


class Jurisdiction(TimeStampedModel):
    """A council (Open311 jurisdiction) and its default calendar."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    open311_id = models.CharField(
        max_length=200, unique=True, help_text=_("Open311 jurisdiction_id, e.g. city.example.org")
    )
    timezone = models.CharField(max_length=64, default="America/New_York")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")
    centre_lat = models.FloatField(null=True, blank=True)
    centre_long = models.FloatField(null=True, blank=True)
    website = models.URLField(blank=True)
    # Reports placed outside the boundary are refused with `outside_message` (or a standard
    # one) and `outside_url`; no boundary: reports are taken wherever they are placed.
    boundary = models.JSONField(
        null=True,
        blank=True,
        help_text=_(
            "The area the council covers: a GeoJSON Polygon or MultiPolygon, corners as "
            "[longitude, latitude]. Leave empty to take reports wherever they are placed."
        ),
    )
    outside_message = models.CharField(
        max_length=300,
        blank=True,
        help_text=_(
            "What a resident who reports a place outside the boundary is told; empty: "
            "“This is outside <name>; report it to the council that covers it.”"
        ),
    )
    outside_url = models.URLField(
        blank=True, help_text=_("Where to report places outside the boundary, shown with it.")
    )

    def __str__(self) -> str:
        return self.name


class Department(TimeStampedModel):
    """A team that owns service types and works their cases."""

    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="departments"
    )
    code = models.CharField(max_length=40, validators=[code_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Leave empty to use the jurisdiction's calendar."),
    )
    translations = translations_field("department", '{"es": {"name": "Obras Públicas"}}')
    auto_assign = models.BooleanField(
        default=False,
        help_text=_(
            "Give each new case to a member at once: the least loaded for their weight, "
            "among those with the skill for its service and not away."
        ),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "code"], name="unique_department_code")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DepartmentMember(models.Model):
    """A member of staff in a department: what they see, and what they are given.

    Staff see and work the cases of their departments only (council admins see all).
    """

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="department_memberships"
    )
    takes_cases = models.BooleanField(
        default=True, help_text=_("Receives cases when the department assigns automatically.")
    )
    weight = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0.1)],
        help_text=_("Share of new cases: 0.5 for half time, 2 for twice the usual."),
    )
    skills: models.ManyToManyField[ServiceType, Any] = models.ManyToManyField(
        "ServiceType",
        blank=True,
        related_name="skilled_members",
        help_text=_("Services this person handles. None: every service of the department."),
    )
    away_from = models.DateTimeField(null=True, blank=True)
    away_until = models.DateTimeField(
        null=True, blank=True, help_text=_("Out of office: no new cases in this period.")
    )
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["department", "user"], name="unique_department_member")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.department}"


class ServiceGroup(models.Model):
    """A heading residents browse by (Open311 `group`)."""

    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="groups")
    code = models.CharField(max_length=40, validators=[code_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    translations = translations_field("group", '{"es": {"name": "Calles y aceras"}}')

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "code"], name="unique_group_code")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Open311Type(models.TextChoices):
    REALTIME = "realtime", _("Realtime")
    BATCH = "batch", _("Batch")
    BLACKBOX = "blackbox", _("Black box")


class ServiceType(TimeStampedModel):
    """Something a resident can request or report (an Open311 service)."""

    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="services"
    )
    code = models.CharField(max_length=60, validators=[code_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    keywords = models.JSONField(default=list, blank=True)
    group = models.ForeignKey(ServiceGroup, on_delete=models.PROTECT, related_name="services")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="services")
    open311_type = models.CharField(
        max_length=10, choices=Open311Type.choices, default=Open311Type.REALTIME
    )
    active = models.BooleanField(default=True)
    # Duplicate detection: open cases of this service within this radius and window are
    # compared with a new report. 0 turns it off (services with no place, like a permit).
    duplicate_radius_m = models.PositiveIntegerField(
        default=50,
        help_text=_("Reports of this service this close to an open one may be duplicates; 0: off."),
    )
    duplicate_window_days = models.PositiveSmallIntegerField(
        default=30, help_text=_("Only open cases reported within this many days are compared.")
    )
    # Reports about someone's home or household (housing conditions, noise at home,
    # household collections): never in the nearby list, Open311 GET or any public page.
    personal = models.BooleanField(
        default=False,
        help_text=_(
            "Reports are about a resident's home or household: never shown publicly "
            "(nearby reports, Open311 GET, public pages)."
        ),
    )
    translations = translations_field(
        "service", '{"es": {"name": "Bache", "keywords": ["bache", "hoyo"]}}'
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "code"], name="unique_service_code")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AttributeDatatype(models.TextChoices):
    """The six Open311 GeoReport v2 attribute datatypes."""

    STRING = "string", _("Short text")
    NUMBER = "number", _("Number")
    DATETIME = "datetime", _("Date and time")
    TEXT = "text", _("Long text")
    SINGLEVALUELIST = "singlevaluelist", _("Pick one")
    MULTIVALUELIST = "multivaluelist", _("Pick any")


class AttributeDefinition(models.Model):
    """A question asked when a resident reports a service type (Open311 attribute)."""

    service_type = models.ForeignKey(
        ServiceType, on_delete=models.CASCADE, related_name="attributes"
    )
    code = models.CharField(max_length=60, validators=[code_validator])
    variable = models.BooleanField(
        default=True, help_text=_("False for information shown to the resident, not a question.")
    )
    datatype = models.CharField(max_length=20, choices=AttributeDatatype.choices)
    required = models.BooleanField(default=False)
    description = models.CharField(
        max_length=500, help_text=_("The question, as residents see it.")
    )
    datatype_description = models.CharField(max_length=500, blank=True)
    order = models.PositiveIntegerField(default=1)
    values = models.JSONField(
        default=list, blank=True, help_text=_('For lists: [{"key": "…", "name": "…"}, …]')
    )
    translations = translations_field(
        "attribute",
        '{"es": {"description": "¿De qué tamaño es?", "values": {"small": "Pequeño"}}}',
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service_type", "code"], name="unique_attribute_per_service"
            )
        ]
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.service_type.code}.{self.code}"


class SlaClockKind(models.TextChoices):
    ELAPSED = "elapsed", _("Elapsed time (24/7)")
    BUSINESS = "business", _("Business hours")


class SlaPolicy(TimeStampedModel):
    """How long a service type may take at a given priority, and on which clock."""

    service_type = models.ForeignKey(
        ServiceType, on_delete=models.CASCADE, related_name="sla_policies"
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    target_hours = models.DecimalField(
        max_digits=7, decimal_places=2, validators=[MinValueValidator(0.01)]
    )
    clock = models.CharField(
        max_length=10, choices=SlaClockKind.choices, default=SlaClockKind.BUSINESS
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service_type", "priority"], name="unique_sla_per_service_priority"
            ),
            models.CheckConstraint(
                condition=models.Q(target_hours__gt=0), name="sla_target_positive"
            ),
        ]
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return f"{self.service_type.code} / {self.priority}: {self.target_hours} h ({self.clock})"
