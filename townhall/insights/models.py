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
            # Filters on three dimensions read the facts (no roll-up): an area is one
            # postcode sector of many, so this narrows such a selection most.
            models.Index(fields=["area", "opened_at"], name="fact_area_opened"),
            # What the roll-up refresh reads: facts changed since its last run.
            models.Index(fields=["updated_at"], name="fact_updated"),
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


class RefreshMark(models.Model):
    """How far an incremental refresh got: the last id seen or the moment it ran."""

    key = models.CharField(max_length=40, primary_key=True)
    number = models.BigIntegerField(default=0)
    moment = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.number} {self.moment}"


# Durations are counted in fixed log buckets: ROLLUP_EDGES[k] = 15 min x 2^(k/2), up to
# about 483 days; `<metric>_lt_<k>` counts facts whose duration is below ROLLUP_EDGES[k]
# (cumulative, so sums over rows stay cumulative). insights.rollups reads percentiles off
# them to within a factor 2^(1/4) (19 %).
ROLLUP_BUCKETS = 32
ROLLUP_EDGES = [900 * 2 ** (k / 2) for k in range(ROLLUP_BUCKETS)]  # seconds
ROLLUP_DIMENSIONS = ("department_id", "service_type_id", "channel", "area")


class DailyRollup(models.Model):
    """Sums over the facts opened on one local day, for one combination of dimensions.

    `grouping` says which dimensions the row is specific to (bit 1 department, 2 service,
    4 channel, 8 area; at most two are kept, see insights.rollups); the others are summed
    over (and left empty). So a dashboard with one filter reads one row per day, whatever
    the number of departments or areas.
    """

    grouping = models.PositiveSmallIntegerField()
    day = models.DateField()
    department_id = models.BigIntegerField(null=True, blank=True)
    service_type_id = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=10, blank=True)
    area = models.CharField(max_length=100, blank=True)
    volume = models.PositiveIntegerField(default=0)
    live = models.PositiveIntegerField(default=0)
    channel_known = models.PositiveIntegerField(default=0)
    digital = models.PositiveIntegerField(default=0)
    finished = models.PositiveIntegerField(default=0)
    first_contact = models.PositiveIntegerField(default=0)
    closed_with_due = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    staff_minutes = models.BigIntegerField(default=0)
    live_staff_minutes = models.BigIntegerField(default=0)
    csat_count = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)
    nps_count = models.PositiveIntegerField(default=0)
    nps_promoters = models.PositiveIntegerField(default=0)
    nps_detractors = models.PositiveIntegerField(default=0)
    resolved_once = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    ack_count = models.PositiveIntegerField(default=0)
    resolve_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["grouping", "day", "department_id", "service_type_id"],
                name="rollup_grouping_day",
            )
        ]

    def __str__(self) -> str:
        return f"rollup {self.grouping} {self.day}"


for _k in range(ROLLUP_BUCKETS):
    DailyRollup.add_to_class(f"ack_lt_{_k}", models.PositiveIntegerField(default=0))
    DailyRollup.add_to_class(f"resolve_lt_{_k}", models.PositiveIntegerField(default=0))
