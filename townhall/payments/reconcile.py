"""The daily reconciliation: one day's payments here against the provider's records.

A mismatch is one of:
- `missing_here`: the provider has a checkout we have no payment for;
- `missing_at_provider`: a payment paid here that day the provider does not list (it lists
  checkouts by the day they were opened, so that day and the one before are asked);
- `amount`: the amounts or currencies differ;
- `state`: paid at the provider but not here, or the other way round;
- `refund`: the refunded totals differ.
The report is stored (one per day and provider; a rerun replaces it) and printed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta

from townhall.core import clock
from townhall.payments.models import Payment, PaymentState, Reconciliation
from townhall.payments.providers import provider_get
from townhall.payments.providers.base import ProviderRecord

PAID_HERE = (PaymentState.PAID, PaymentState.REFUNDED)


@dataclass(frozen=True)
class Mismatch:
    kind: str
    reference: str
    session_id: str
    ours: str
    theirs: str


@dataclass(frozen=True)
class ReconcileReport:
    day: date
    provider: str
    checked: int
    mismatches: list[Mismatch]


def _state_here(payment: Payment) -> str:
    if payment.state == PaymentState.REFUNDED or payment.refunded_minor:
        return "refunded"
    return "paid" if payment.state == PaymentState.PAID else str(payment.state)


def _compare(record: ProviderRecord, payment: Payment) -> list[Mismatch]:
    found: list[Mismatch] = []

    def add(kind: str, ours: str, theirs: str) -> None:
        found.append(Mismatch(kind, payment.reference, record.session_id, ours, theirs))

    if (record.amount_minor, record.currency) != (payment.amount_minor, payment.currency):
        add(
            "amount",
            f"{payment.amount_minor} {payment.currency}",
            f"{record.amount_minor} {record.currency}",
        )
    paid_there = record.status in ("paid", "refunded")
    if paid_there != (payment.state in PAID_HERE):
        add("state", _state_here(payment), record.status)
    elif record.amount_refunded != payment.refunded_minor:
        add("refund", str(payment.refunded_minor), str(record.amount_refunded))
    return found


def payments_reconcile(*, day: date, provider: str | None = None) -> ReconcileReport:
    adapter = provider_get(provider)
    records = adapter.records(day=day)
    earlier = {r.session_id for r in adapter.records(day=day - timedelta(days=1))}
    by_session = {
        p.session_id: p
        for p in Payment.objects.filter(
            provider=adapter.name, session_id__in=[r.session_id for r in records]
        )
    }
    mismatches: list[Mismatch] = []
    for record in records:
        payment = by_session.get(record.session_id)
        if payment is None:
            mismatches.append(
                Mismatch(
                    "missing_here",
                    record.reference,
                    record.session_id,
                    "-",
                    f"{record.status} {record.amount_minor} {record.currency}",
                )
            )
            continue
        mismatches.extend(_compare(record, payment))
    start = datetime.combine(day, time(0), tzinfo=UTC)
    listed = set(by_session) | earlier
    paid_that_day = Payment.objects.filter(
        provider=adapter.name,
        state__in=PAID_HERE,
        paid_at__gte=start,
        paid_at__lt=start + timedelta(days=1),
    )
    for payment in paid_that_day:
        if payment.session_id not in listed:
            mismatches.append(
                Mismatch(
                    "missing_at_provider",
                    payment.reference,
                    payment.session_id or "",
                    f"{_state_here(payment)} {payment.amount_minor} {payment.currency}",
                    "-",
                )
            )
    report = ReconcileReport(day, adapter.name, len(records), mismatches)
    Reconciliation.objects.update_or_create(
        day=day,
        provider=adapter.name,
        defaults={
            "ran_at": clock.now(),
            "checked": report.checked,
            "mismatches": [asdict(m) for m in mismatches],
        },
    )
    return report


def report_lines(report: ReconcileReport) -> list[str]:
    lines = [
        f"Reconciliation {report.day.isoformat()} ({report.provider}): "
        f"{report.checked} provider records, {len(report.mismatches)} mismatches"
    ]
    for m in report.mismatches:
        lines.append(
            f"  {m.kind:<20} {m.reference or '-':<18} {m.session_id or '-':<44} "
            f"here: {m.ours} | provider: {m.theirs}"
        )
    return lines


def reconcile_due(now: datetime, hour: int) -> date | None:
    """Yesterday (UTC), if it is past `hour` and yesterday has no report yet."""
    if now.astimezone(UTC).hour < hour:
        return None
    yesterday = now.astimezone(UTC).date() - timedelta(days=1)
    if Reconciliation.objects.filter(day=yesterday).exists():
        return None
    return yesterday
