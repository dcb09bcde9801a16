"""What the measures are computed from: one fact row per request, live or imported.

`CaseFact` flattens a case into the columns KPIs need (dates, counts, scores), so every
measure is one function over one table, whether the request was handled here or imported
from a council's old system. Live cases are copied in incrementally (`insights.facts`);
historical ones arrive through `townhall import cases` (the COPY path on PostgreSQL).
Roll-ups over the facts keep dashboards fast at scale (`insights.rollups`).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from townhall.cases.models import Case
from townhall.catalog.models import Department, ServiceType


class FactSource(models.TextChoices):
    LIVE = "live", _("Handled in Townhall")
    IMPORTED = "imported", _("Imported history")


class CaseFact(models.Model):
    """One request as the measures see it. No personal data: no names, contacts or text."""

    source = models.CharField(max_length=10, choices=FactSource.choices)
    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="fact"
    )
    # For imported rows: the system ("boston", "nyc", "la", "open311") and its id.
    system = models.CharField(max_length=20, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    service_type = models.ForeignKey(
        ServiceType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    service_name = models.CharField(max_length=200, blank=True)  # as the source named it
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    department_name = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=10, blank=True)  # people.Channel values, or "other"
    area = models.CharField(max_length=100, blank=True)  # ward, district or postcode sector
    status = models.CharField(max_length=20)  # cases.CaseStatus values
    personal = models.BooleanField(default=False)  # a personal service: never public
    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    # The source's own on-time verdict where it has one (Boston's OnTime_Status).
    source_on_time = models.BooleanField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)
    transfer_count = models.PositiveIntegerField(default=0)
    contact_count = models.PositiveIntegerField(default=1)  # first contact + repeats
    staff_minutes = models.PositiveIntegerField(default=0)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    long = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["opened_at"], name="fact_opened"),
            models.Index(fields=["service_type", "opened_at"], name="fact_service_opened"),
            models.Index(fields=["department", "opened_at"], name="fact_department_opened"),
            models.Index(fields=["closed_at"], name="fact_closed"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "external_id"],
                condition=models.Q(source="imported"),
                name="fact_imported_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} fact {self.case_id or self.external_id}"


class ImportRun(models.Model):
    """A historical import, resumable: `rows_done` is where the next run starts."""

    path = models.CharField(max_length=500)
    file_sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=10)  # open311 | boston | nyc | la
    rows_done = models.PositiveIntegerField(default=0)
    rows_loaded = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Skipped rows by reason: {"no open date": 12, "unmapped service": 30}
    problems = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["file_sha256", "format"], name="import_once_per_file")
        ]

    def __str__(self) -> str:
        return f"{self.format} import of {self.path}"
