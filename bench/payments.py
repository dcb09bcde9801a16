"""Benchmark: the payment webhook (/hooks/payments/sandbox/), server time per event.

Seeds --payments cases of a service with a fixed fee (each `case_open` creates its payment)
and opens a sandbox checkout for each, then posts, through Django's full middleware stack
in this process (the test client: no network, no HTTP parsing):

- `completed`: one signed `checkout.session.completed` per payment (verify, claim the
  delivery, take the event id, lock the payment, mark it paid, note on the case's chain,
  queue the receipt): p50/p95 server time, webhooks/s;
- `retried`: the same events again with new signatures (a provider's retries): the
  duplicate path, which must change nothing;
- references in the same run: the HMAC check alone (`signature_verify`), and a post to an
  unknown provider's hook (the same middleware, rate limiter and view dispatch, no work).

Prints the process's peak memory (ru_maxrss). SQLite in a temporary folder by default;
PostgreSQL with --database-url / BENCH_DATABASE_URL (created if missing).

    python bench/payments.py --help
    python bench/payments.py --smoke      # 30 payments: what the test suite runs
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="PostgreSQL to run on (default: BENCH_DATABASE_URL; empty: a temporary SQLite)",
    )
    parser.add_argument("--payments", type=int, default=2000, help="payments (2000)")
    parser.add_argument("--smoke", action="store_true", help="30 payments: a quick check")
    args = parser.parse_args(argv)
    if args.smoke:
        args.payments = 30
    return args


def setup(url: str, var: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "townhall.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["TOWNHALL_VAR_DIR"] = var
    # The limiter stays in the path, with room for the run.
    os.environ["TOWNHALL_RATE_LIMITS"] = "hooks=10000000/minute"
    if url:
        from bench.case_open import ensure_database

        ensure_database(url)
        os.environ["DATABASE_URL"] = url
    else:
        os.environ.pop("DATABASE_URL", None)
    import logging

    import django

    django.setup()
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the reference's 404s
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def seed(count: int) -> list[Any]:
    from townhall.cases.services import case_open
    from townhall.catalog.models import ServiceType
    from townhall.catalog.services import catalog_import
    from townhall.demo.loader import town_spec
    from townhall.payments.models import Fee, FeeKind, Payment, SandboxRecord
    from townhall.payments.services import checkout_start

    if not ServiceType.objects.exists():
        catalog_import(spec=town_spec())
    service = ServiceType.objects.filter(active=True).order_by("pk").first()
    assert service is not None
    Fee.objects.filter(service_type=service).update(active=False)
    Fee.objects.create(
        name="Bench fee", service_type=service, kind=FeeKind.FIXED, amount_minor=4200
    )
    records = []
    for i in range(count):
        case = case_open(
            service_type=service,
            channel="web",
            description=f"Bench request {i}",
            lat=42.30,
            long=-71.05,
            answers_partial=True,
        )
        payment = Payment.objects.get(case=case)
        checkout_start(payment=payment, email="", language="en", success_url="/s", cancel_url="/c")
        payment.refresh_from_db()
        records.append(SandboxRecord.objects.get(session_id=payment.session_id))
    return records


def timed_posts(client: Any, url: str, bodies: list[tuple[bytes, dict[str, str]]]) -> list[float]:
    times = []
    for body, headers in bodies:
        t0 = time.perf_counter()
        response = client.post(url, body, content_type="application/json", headers=headers)
        times.append(time.perf_counter() - t0)
        assert response.status_code < 500, response.content
    return times


def line(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000
    rate = len(times) / sum(times) if sum(times) else 0.0
    return f"{name:<34} p50 {p50:8.3f} ms  p95 {p95:8.3f} ms  {rate:9.0f} webhooks/s"


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory() as var:
        setup(args.database_url, var)
        from django.db import connection
        from django.test import Client

        from townhall.core import clock
        from townhall.payments.conf import payments_setting
        from townhall.payments.models import Payment
        from townhall.payments.providers.sandbox import sandbox_event, sandbox_signed
        from townhall.payments.signing import HEADER, signature_verify

        started = time.perf_counter()
        records = seed(args.payments)
        print(f"seeded {len(records)} payments in {time.perf_counter() - started:.1f} s")
        events = [sandbox_event("checkout.session.completed", r) for r in records]
        client = Client()
        url = "/hooks/payments/sandbox/"
        first = [sandbox_signed(e) for e in events]
        completed = timed_posts(client, url, first)
        now = int(clock.now().timestamp())
        retried = timed_posts(client, url, [sandbox_signed(e, at=now + 1) for e in events])
        secret = str(payments_setting("SANDBOX_WEBHOOK_SECRET"))
        hmac_times = []
        for body, headers in first:
            t0 = time.perf_counter()
            signature_verify(secret, body, headers[HEADER], now=now, tolerance=300)
            hmac_times.append(time.perf_counter() - t0)
        empty = timed_posts(client, "/hooks/payments/none/", [(b"{}", {})] * len(first))
        sessions = [r.session_id for r in records]
        paid = Payment.objects.filter(state="paid", session_id__in=sessions).count()
        print(
            f"machine: {platform.machine()} {os.cpu_count()} cpus, "
            f"Python {platform.python_version()}, {connection.vendor}"
        )
        print(line("completed (marks paid)", completed))
        print(line("retried (duplicate, no change)", retried))
        print(line("reference: unknown provider hook", empty))
        print(line("reference: HMAC check alone", hmac_times))
        print(f"paid {paid} of {len(records)}; 0 doubled: {paid == len(records)}")
        print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        return 0 if paid == len(records) else 1


if __name__ == "__main__":
    sys.exit(main())
