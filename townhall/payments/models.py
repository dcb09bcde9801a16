"""Models of townhall.payments: fees, payments, the provider's events, reconciliation runs.

Amounts are integers in the currency's minor unit (cents) with an ISO 4217 code; never a
float. Faces read these through `payments.selectors` and change them through
`payments.services` only.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FeeKind(models.TextChoices):
    FIXED = "fixed", _("Fixed amount")
    RULE = "rule", _("Computed by a rules programme")
    PERMIT = "permit", _("The fee of a permit in a permit tree")


class Fee(models.Model):
    """What a service type (or a permit) costs: a fixed amount, or one the rules compute.

    RULE fees evaluate the programme `programme` with the case's answers as its inputs and
    take the decision's amount; PERMIT fees take the fee of `permit` ("tree:permit") from
    the permit tree.
    """

    name = models.CharField(_("name"), max_length=120)
    service_type = models.ForeignKey(
        "catalog.ServiceType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service type"),
    )
    permit = models.CharField(
        _("permit"), max_length=120, blank=True, help_text=_('"tree id:permit id"')
    )
    kind = models.CharField(_("kind"), max_length=10, choices=FeeKind.choices)
    amount_minor = models.PositiveIntegerField(
        _("amount (minor units)"), default=0, help_text=_("In cents: 1250 is 12.50.")
    )
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    programme = models.CharField(_("rules programme"), max_length=80, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("fee")
        verbose_name_plural = _("fees")
        constraints = [
            models.UniqueConstraint(
                fields=["service_type"],
                condition=Q(active=True, service_type__isnull=False),
                name="payments_one_active_fee_per_service",
            ),
            models.CheckConstraint(
                condition=~Q(kind="fixed") | Q(amount_minor__gt=0),
                name="payments_fixed_fee_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind="rule") | ~Q(programme=""), name="payments_rule_fee_programme"
            ),
            models.CheckConstraint(
                condition=~Q(kind="permit") | ~Q(permit=""), name="payments_permit_fee_permit"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PaymentState(models.TextChoices):
    DUE = "due", _("Due")
    PENDING = "pending", _("Checkout started")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    REFUNDED = "refunded", _("Refunded")
    CANCELLED = "cancelled", _("Cancelled")


# A case waits while one of its payments is in one of these states.
UNPAID_STATES = (PaymentState.DUE, PaymentState.PENDING, PaymentState.FAILED)


class Payment(models.Model):
    """One amount a resident owes for one case, and how its payment went.

    The resident reaches it by an unguessable link (`token_hash` keeps only a digest of
    it); `reference` is what a receipt and staff show.
    """

    reference = models.CharField(max_length=24, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    fee = models.ForeignKey(Fee, on_delete=models.SET_NULL, null=True, blank=True)
    description = models.CharField(max_length=200)
    amount_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=10, choices=PaymentState.choices, default="due")
    provider = models.CharField(max_length=20)
    session_id = models.CharField(max_length=200, null=True, blank=True, unique=True)
    checkout_url = models.CharField(max_length=1000, blank=True)
    intent_id = models.CharField(max_length=200, blank=True, db_index=True)
    receipt_email = models.EmailField(blank=True)
    language = models.CharField(max_length=10, default="en")
    refunded_minor = models.PositiveIntegerField(default=0)
    refund_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [models.Index(fields=["case", "state"], name="payments_case_state")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="payments_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(refunded_minor__lte=models.F("amount_minor")),
                name="payments_refund_at_most_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class EventOutcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    STALE = "stale", _("Ignored: stale or repeated transition")
    DEFERRED = "deferred", _("Kept until the payment it follows arrives")
    REJECTED = "rejected", _("Rejected: does not match the payment")
    UNKNOWN = "unknown", _("Ignored: no such payment here")


class ProviderEvent(models.Model):
    """One webhook event taken from a provider: its id is unique, so a retried or replayed
    event is recognised and never applied twice."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=60)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, related_name="+")
    outcome = models.CharField(max_length=10, choices=EventOutcome.choices)
    detail = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="payments_event_once_per_provider"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} {self.event_id}"


class SandboxRecord(models.Model):
    """The sandbox provider's own books (what a real provider keeps on its side), listed
    by reconciliation like the provider's API would list them."""

    session_id = models.CharField(max_length=64, unique=True)
    intent_id = models.CharField(max_length=64, unique=True)
    payment_reference = models.CharField(max_length=24)
    amount_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, default="open")  # open, paid, failed, refunded
    amount_refunded = models.PositiveIntegerField(default=0)
    success_url = models.CharField(max_length=1000)
    cancel_url = models.CharField(max_length=1000)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("sandbox record")
        verbose_name_plural = _("sandbox records")

    def __str__(self) -> str:
        return self.session_id


class Reconciliation(models.Model):
    """One day's comparison of our payments with the provider's records."""

    day = models.DateField()
    provider = models.CharField(max_length=20)
    ran_at = models.DateTimeField(default=timezone.now)
    checked = models.PositiveIntegerField(default=0)
    mismatches = models.JSONField(default=list)

    class Meta:
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")
        constraints = [
            models.UniqueConstraint(fields=["day", "provider"], name="payments_reconcile_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.day}"
