"""Cases and their append-only, hash-chained history."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from townhall.cases.ledger import COMMITMENTS_KEY, personal_join
from townhall.cases.lifecycle import OPEN_STATUSES, CaseStatus
from townhall.catalog.models import Department, Priority, ServiceType
from townhall.people.models import Channel, Citizen


def reference_for(*, case_id: int, opened_at_year: int) -> str:
    """Return the public reference of a case, e.g. ``TH-26-004211``."""
    return f"{settings.TOWNHALL_REFERENCE_PREFIX}-{opened_at_year % 100:02d}-{case_id:06d}"


class Case(models.Model):
    """A request or report from a resident, from first contact to closure.

    The public reference is derived from the primary key and the year it was opened, so
    opening a case needs no counter row that every writer would queue on.
    """

    # Indexed by case_service_opened below, whose first column it is.
    service_type = models.ForeignKey(
        ServiceType, on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    description = models.TextField(blank=True)
    # What may be published of `description` (cases.redaction.public_text, computed when
    # written), and a summary staff approved, which is published instead when given.
    public_description = models.TextField(blank=True)
    public_summary = models.TextField(blank=True)
    # Part of the private tracking link: a new random key makes every older link stop
    # working ("" = the original link, signed from the id alone).
    track_key = models.CharField(max_length=32, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    lat = models.FloatField(null=True, blank=True)
    long = models.FloatField(null=True, blank=True)
    address = models.CharField(max_length=300, blank=True)
    address_id = models.CharField(max_length=64, blank=True)
    media_url = models.URLField(max_length=1000, blank=True)
    # The id another system gave this request (an imported Open311 service_request_id);
    # served back in place of the reference so its clients keep their links.
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="cases")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )
    reporter = models.ForeignKey(
        Citizen, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates"
    )
    # SLA clock: `due_at` is when the case breaches; while paused it is empty and the time
    # left is kept in `sla_paused_remaining`. `expected_on` is the date promised to the resident.
    due_at = models.DateTimeField(null=True, blank=True)
    sla_paused_remaining = models.DurationField(null=True, blank=True)
    expected_on = models.DateField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["status", "department"], name="case_queue"),
            models.Index(fields=["status", "due_at"], name="case_due"),
            models.Index(fields=["service_type", "opened_at"], name="case_service_opened"),
            # Newest first, as public lists (Open311 GET requests) page through them.
            models.Index(fields=["-opened_at", "-id"], name="case_recent"),
            # Open cases of a service, newest first: small (most cases are finished).
            models.Index(
                fields=["service_type", "-opened_at"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
                name="case_open_service",
            ),
            # Open cases of a service near a point: "has someone already reported it?"
            models.Index(
                fields=["service_type", "lat", "long"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
                name="case_open_service_point",
            ),
            # The console's queues: open cases of a person or a department, soonest due first.
            models.Index(
                fields=["assignee", "due_at"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
                name="case_open_assignee_due",
            ),
            models.Index(
                fields=["department", "due_at"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
                name="case_open_department_due",
            ),
            # Nobody's yet, per department: a team's "unassigned" queue and its count (without
            # it, PostgreSQL counted them with a LIMITed sequential scan whose cost swung
            # from 3 to 150 ms with where in the table the scan began).
            models.Index(
                fields=["department", "due_at"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES), assignee__isnull=True),
                name="case_open_unassigned_dept",
            ),
            # Marked late, per department: with the (department, due_at) index above, the
            # "breached" queue's "due before now OR marked late" is two index scans.
            models.Index(
                fields=["department", "due_at"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES), breached_at__isnull=False),
                name="case_open_breached_dept",
            ),
            # Nobody's yet, every department: the council-wide "unassigned" queue.
            models.Index(
                fields=["due_at", "id"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES), assignee__isnull=True),
                name="case_open_unassigned_due",
            ),
        ]
        permissions = [
            ("work_case", "Work cases: notes, public updates, status, merge, take"),
            ("assign_case", "Assign cases to colleagues in the department"),
            ("supervise_case", "Reassign, transfer, change due dates, see team load"),
            ("log_call", "Log phone calls as cases or updates"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lat__isnull=True) | models.Q(lat__gte=-90, lat__lte=90),
                name="case_lat_range",
            ),
            models.CheckConstraint(
                condition=models.Q(long__isnull=True) | models.Q(long__gte=-180, long__lte=180),
                name="case_long_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=CaseStatus.DUPLICATE)
                | models.Q(merged_into__isnull=False),
                name="case_duplicate_has_target",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        if self.pk is None:
            return "(unsaved)"
        local = timezone.localtime(self.opened_at)
        return reference_for(case_id=self.pk, opened_at_year=local.year)


class CaseEventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    STATUS_CHANGED = "status_changed", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    NOTE = "note", _("Internal note")
    PUBLIC_UPDATE = "public_update", _("Public update")
    MERGED = "merged", _("Merged")
    PAUSED = "paused", _("SLA paused")
    RESUMED = "resumed", _("SLA resumed")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    REOPENED = "reopened", _("Reopened")
    FOLLOWED = "followed", _("Followed by a resident")
    PHOTO_ADDED = "photo_added", _("Photo added")
    DUE_CHANGED = "due_changed", _("Due date changed")
    TRANSFERRED = "transferred", _("Transferred")
    SPLIT = "split", _("Split")
    LINK_ROTATED = "link_rotated", _("Private link replaced")
    SUMMARY_CHANGED = "summary_changed", _("Public summary changed")


class CaseEvent(models.Model):
    """One thing that happened to a case; never updated or deleted.

    `prev_hash` is the `hash` of the case's previous event (64 zeros for the first), and
    `hash` covers this event's content and `prev_hash`, so editing or removing any event
    breaks the chain (`townhall ledger verify`).
    """

    # Indexed by unique_event_seq_per_case, whose first column it is.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", db_index=False)
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=CaseEventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    actor_label = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    public = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    # Set on events just built (cases.services): their personal values, not yet stored.
    _personal_values: dict[str, str] | None = None
    _personal_rows: tuple[CaseEventPersonal, ...] = ()

    class Meta:
        constraints = [
            # Two writers appending to the same case cannot both take the same place.
            models.UniqueConstraint(fields=["case", "seq"], name="unique_event_seq_per_case"),
        ]
        ordering = ["case", "seq"]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.kind}"

    @property
    def content(self) -> dict[str, Any]:
        """The payload as readers show it: personal values (kept apart from the hashed
        `data`, see CaseEventPersonal) filled in, or "(removed)" once erased. Prefetch
        `personal` when reading many events."""
        if COMMITMENTS_KEY not in (self.data or {}):
            return self.data or {}
        values: dict[str, str] | None = getattr(self, "_personal_values", None)
        if values is None:
            values = {p.field: p.value for p in self.personal.all()}
        return personal_join(self.data, values)


def photo_path(instance: CasePhoto | None, filename: str) -> str:
    """Store photos under an unguessable name: the file name is never the resident's."""
    return f"photos/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{filename.rsplit('.', 1)[-1]}"


class CasePhoto(models.Model):
    """A resident's photo of a case, stored without metadata (see cases.photos)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to=photo_path, max_length=200)
    content_type = models.CharField(max_length=40)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # Where the camera said it was, before the EXIF was removed.
    lat = models.FloatField(null=True, blank=True)
    long = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} photo {self.pk}"


class FollowVia(models.TextChoices):
    REPORTER = "reporter", _("Reported it")
    ME_TOO = "me_too", _("Has the same problem")
    SUBSCRIBED = "subscribed", _("Asked for updates")


class CaseFollower(models.Model):
    """A resident who wants this case's updates: "this is my problem too" or subscribed.

    A follower without a citizen said "me too" anonymously: counted, never contacted.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="followers")
    citizen = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, null=True, blank=True, related_name="following"
    )
    via = models.CharField(max_length=12, choices=FollowVia.choices)
    # Who said it, as a keyed hash of their browser session's voice id (never the session
    # key itself): one voice per session and case, so a "me too" cannot be repeated.
    voice = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "citizen"],
                condition=models.Q(citizen__isnull=False),
                name="unique_follower_per_case",
            ),
            models.UniqueConstraint(
                fields=["case", "voice"],
                condition=~models.Q(voice=""),
                name="unique_voice_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} followed by {self.citizen_id or 'anonymous'}"


class FollowRequest(models.Model):
    """A wish to follow a case (or say "me too") by e-mail, waiting for the address to be
    confirmed: nothing reaches that address but the confirmation until its link is opened
    and confirmed. Only a hash of the link's secret is kept."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_requests")
    email = models.EmailField(max_length=254)
    via = models.CharField(max_length=12, choices=FollowVia.choices)
    language = models.CharField(max_length=10, blank=True)
    voice = models.CharField(max_length=64, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # How many confirmations one address was sent lately (no mail-bombing a stranger).
        indexes = [models.Index(fields=["email", "created_at"], name="follow_request_email")]

    def __str__(self) -> str:
        return f"follow request {self.pk} for {self.case_id}"


class TimeEntry(models.Model):
    """Staff time spent on a case (a stopped timer or a manual entry)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="time_entries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    minutes = models.PositiveIntegerField()
    worked_on = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["case", "created_at"], name="time_entry_case")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__gte=1, minutes__lte=24 * 60), name="time_entry_minutes"
            )
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min on {self.case_id}"


class CaseWatcher(models.Model):
    """A member of staff who follows a case (by choice, or because a colleague mentioned them)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="watchers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watched_cases"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="unique_case_watcher")]

    def __str__(self) -> str:
        return f"{self.user} watches {self.case_id}"


class CaseEventPersonal(models.Model):
    """A personal value of an event's payload (what a resident wrote, a note quoting them),
    kept out of the hash chain so it can be erased.

    The event's hashed payload holds only H(salt || value) (see cases.ledger), so the chain
    verifies with or without this row; erasure deletes the row, value and salt together.
    """

    event = models.ForeignKey(CaseEvent, on_delete=models.CASCADE, related_name="personal")
    # The event's case, so erasure by case is one indexed DELETE.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=20)
    value = models.TextField()
    salt = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "field"], name="unique_personal_field"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}.{self.field}"


class LedgerSeal(models.Model):
    """A signed Merkle root over the heads of every case chain at one moment (daily).

    The signature (Ed25519, key outside the database) covers the statement in
    cases.ledger.SealStatement, which carries the previous seal's hash, so seals chain too.
    `chunks` keeps the roots of the tree's 1024-leaf runs (8-byte first case id + 32-byte
    root each) so an inclusion proof reads one run's leaves, not the whole tree; it is not
    trusted: a proof built from altered chunks fails against the signed root.
    """

    date = models.DateField()
    sealed_at = models.DateTimeField()
    root = models.CharField(max_length=64)
    tree_size = models.PositiveIntegerField()
    signature = models.CharField(max_length=128)
    key_id = models.CharField(max_length=16)
    public_key = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    chunks = models.BinaryField(default=b"")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"seal {self.pk} of {self.date} ({self.tree_size} cases)"


class SealedHead(models.Model):
    """The head (event count) of one case's chain as sealed, written only when it changed
    since the previous seal: a case's sealed head at seal N is its row with the highest
    seal id ≤ N. Not trusted either: the leaves rebuilt from it must give the signed root."""

    # No database constraint: the first seal writes a row per case, and a foreign-key check
    # per row would double its cost; rows are only ever written by the sealer.
    seal = models.ForeignKey(
        LedgerSeal,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    case_id = models.BigIntegerField()
    seq = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case_id", "seal"], name="unique_sealed_head"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} in seal {self.seal_id}"
