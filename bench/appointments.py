"""Benchmark: many residents booking the same few appointment slots at once, on PostgreSQL.

Each round makes --slots fresh slots of one seat and --bookers requests (each with a
proven e-mail, so every booking queues its confirmation in the outbox, as in production);
all bookers start together (a barrier) and each picks one of the slots still free (as the
portal's page lists them) until one is booked or none is left. The round must end with exactly one booking per seat, never
more: the run fails otherwise. Reference, same run, same server and concurrency: each of
--bookers threads INSERTs one appointment row with plain SQL (no counter, no check, no
message). Prints p50/p95 booking latency (one resident's whole attempt, and each booking
call), bookings per second, peak memory and the reference's latencies.

    python bench/appointments.py --help
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import sys
import threading
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/townhall_bench_appointments"


def parse_args() -> argparse.Namespace:
    from smoke import add_smoke, apply_smoke  # bench/smoke.py (the script's own folder)

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--bookers", type=int, default=50, help="concurrent residents (50)")
    parser.add_argument("--slots", type=int, default=10, help="one-seat slots per round (10)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, fresh slots each (5)")
    add_smoke(parser)
    args = parser.parse_args()
    apply_smoke(args, DEFAULT_URL, bookers=8, slots=3, rounds=1)
    return args


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The bench measures booking, not the senders: no wake-up tasks from the outbox.
    os.environ.setdefault("TASKS_BACKEND", "django_tasks.backends.dummy.DummyBackend")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()


def world() -> tuple[Any, Any, Any]:
    """The demo catalogue, an office and the pothole service as a meeting (made once)."""
    from django.core.management import call_command

    from townhall.appointments.models import MeetingService, Office
    from townhall.catalog.models import Jurisdiction, ServiceType
    from townhall.catalog.services import catalog_import
    from townhall.demo.loader import town_spec

    call_command("migrate", interactive=False, verbosity=0)
    if not ServiceType.objects.exists():
        catalog_import(spec=town_spec())
    service = ServiceType.objects.get(code="pothole")
    town = Jurisdiction.objects.get(pk=service.jurisdiction_id)
    office, _ = Office.objects.get_or_create(jurisdiction=town, name="Bench office")
    meeting, _ = MeetingService.objects.get_or_create(
        service_type=service, defaults={"min_notice_hours": 0}
    )
    return service, office, meeting


def make_round(
    service: Any, office: Any, meeting: Any, n_slots: int, n_cases: int, tag: str
) -> tuple[list[int], list[Any]]:
    from townhall.appointments.models import Slot
    from townhall.core import clock
    from townhall.portal.services import Location, report_submit

    start = clock.now().replace(microsecond=0) + dt.timedelta(days=3)
    slots = Slot.objects.bulk_create(
        Slot(
            office=office,
            service=meeting,
            starts_at=start + dt.timedelta(minutes=15 * i),
            ends_at=start + dt.timedelta(minutes=15 * (i + 1)),
            mode="in_person",
            capacity=1,
        )
        for i in range(n_slots)
    )
    cases = [
        report_submit(
            service_type=service,
            location=Location(42.36, -71.09, "1 Elm Street", ""),
            description=f"bench {tag} {n}",
            answers={"size": "large"},
            email=f"bench-{tag}-{n}@example.org",
            name=f"Bench {n}",
        )
        for n in range(n_cases)
    ]
    return [s.pk for s in slots], cases


def race(
    cases: list[Any], slot_ids: list[int]
) -> tuple[int, list[float], list[float], list[BaseException]]:
    """All bookers at once; return (bookings, per-resident latency, per-call latency, errors)."""
    from django.db import connections
    from django.db.models import F

    from townhall.appointments.models import Slot
    from townhall.appointments.services import SlotUnavailable, appointment_book
    from townhall.core import clock

    barrier = threading.Barrier(len(cases))
    lock = threading.Lock()
    booked: list[int] = []
    whole: list[float] = []
    calls: list[float] = []
    errors: list[BaseException] = []

    def book(n: int) -> None:
        from django.db import connection

        mine: list[float] = []
        try:
            connection.ensure_connection()  # connecting is not booking: both sides alike
            barrier.wait()
            t0 = time.perf_counter()
            while True:  # as the portal does: a refused time shows the page again, with
                # the times still free; the resident picks one of those, until none is left
                free = list(
                    Slot.objects.filter(pk__in=slot_ids, booked__lt=F("capacity"))
                    .order_by("pk")
                    .values_list("pk", flat=True)
                )
                if not free:
                    break
                slot_id = free[n % len(free)]
                c0 = time.perf_counter()
                try:
                    appointment_book(
                        case=cases[n], citizen=cases[n].reporter, slot_id=slot_id, now=clock.now()
                    )
                    mine.append(time.perf_counter() - c0)
                    with lock:
                        booked.append(slot_id)
                    break
                except SlotUnavailable:
                    mine.append(time.perf_counter() - c0)
            with lock:
                whole.append(time.perf_counter() - t0)
                calls.extend(mine)
        except BaseException as exc:  # reported by main()
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=book, args=(n,)) for n in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(booked), whole, calls, errors


def reference(office: Any, meeting: Any, cases: list[Any]) -> list[float]:
    """Each thread INSERTs one appointment row into a slot of its own: plain SQL, no checks."""
    import uuid

    from django.db import connection, connections

    from townhall.appointments.models import Slot
    from townhall.core import clock

    start = clock.now() + dt.timedelta(days=5)
    slots = Slot.objects.bulk_create(
        Slot(
            office=office,
            service=meeting,
            starts_at=start,
            ends_at=start,
            mode="in_person",
            capacity=1,
        )
        for _ in cases
    )
    barrier = threading.Barrier(len(cases))
    lock = threading.Lock()
    lat: list[float] = []

    def insert(n: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            t0 = time.perf_counter()
            with connection.cursor() as cur:
                cur.execute(
                    "INSERT INTO appointments_appointment (public_id, slot_id, seat, case_id, citizen_id,"
                    " status, version, language, reminded_version, outcome, created_at, updated_at)"
                    " VALUES (%s, %s, 1, %s, NULL, 'cancelled', 1, 'en', 0, '', now(), now())",
                    [uuid.uuid4(), slots[n].pk, cases[n].pk],
                )
            with lock:
                lat.append(time.perf_counter() - t0)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=insert, args=(n,)) for n in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat


def alone(
    service: Any, office: Any, meeting: Any, n: int, tag: str
) -> tuple[list[float], list[float]]:
    """One resident at a time: a booking call, and a plain INSERT, n of each, alternating."""
    import uuid

    from django.db import connection

    from townhall.appointments.services import appointment_book
    from townhall.core import clock

    slot_ids, cases = make_round(service, office, meeting, 2 * n, n, tag)
    booking: list[float] = []
    insert: list[float] = []
    for i in range(n):
        t0 = time.perf_counter()
        appointment_book(
            case=cases[i], citizen=cases[i].reporter, slot_id=slot_ids[i], now=clock.now()
        )
        booking.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO appointments_appointment (public_id, slot_id, seat, case_id, citizen_id,"
                " status, version, language, reminded_version, outcome, created_at, updated_at)"
                " VALUES (%s, %s, 1, %s, NULL, 'cancelled', 1, 'en', 0, '', now(), now())",
                [uuid.uuid4(), slot_ids[n + i], cases[i].pk],
            )
        insert.append(time.perf_counter() - t0)
    return booking, insert


def pct(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0] * 1000 if samples else 0.0
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] * 1000


def main() -> int:
    args = parse_args()
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.db import connection

    service, office, meeting = world()
    whole: list[float] = []
    calls: list[float] = []
    ref: list[float] = []
    failures = 0
    total_booked = 0
    run_tag = f"{time.time_ns():x}"
    race_seconds = 0.0
    for r in range(args.rounds):
        slot_ids, cases = make_round(
            service, office, meeting, args.slots, args.bookers, f"{run_tag}-{r}"
        )
        t0 = time.perf_counter()
        booked, w, c, errors = race(cases, slot_ids)
        race_seconds += time.perf_counter() - t0
        expected = min(args.slots, args.bookers)
        print(f"round {r + 1}: bookings: {booked} of {expected} seats, {len(errors)} errors")
        if booked != expected or errors:
            failures += 1
            for exc in errors[:3]:
                print(f"  error: {exc!r}")
        total_booked += booked
        whole += w
        calls += c
        ref += reference(office, meeting, cases)
    one_booking, one_insert = alone(
        service, office, meeting, max(5, args.bookers // 2), f"{run_tag}-a"
    )
    # Memory traced in a separate round: tracing slows Python-heavy code more than SQL.
    slot_ids, cases = make_round(service, office, meeting, args.slots, args.bookers, f"{run_tag}-t")
    tracemalloc.start()
    race(cases, slot_ids)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.node()} {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {connection.pg_version}"
    )
    print(f"{args.bookers} concurrent bookers on {args.slots} one-seat slots, {args.rounds} rounds")
    print(
        f"bookings: exactly {args.slots} per round in {args.rounds - failures} of {args.rounds} rounds; "
        f"{total_booked / race_seconds:.1f} bookings/s while racing"
    )
    print(f"resident's whole attempt: p50 {pct(whole, 50):.1f} ms  p95 {pct(whole, 95):.1f} ms")
    print(
        f"each booking call:        p50 {pct(calls, 50):.1f} ms  p95 {pct(calls, 95):.1f} ms  ({len(calls)} calls)"
    )
    print(
        f"reference, plain INSERT:  p50 {pct(ref, 50):.1f} ms  p95 {pct(ref, 95):.1f} ms  ({len(ref)} rows)"
    )
    print(
        f"one at a time: booking p50 {pct(one_booking, 50):.1f} ms  p95 {pct(one_booking, 95):.1f} ms; "
        f"plain INSERT p50 {pct(one_insert, 50):.1f} ms  p95 {pct(one_insert, 95):.1f} ms"
    )
    print(f"peak memory: {rss:.0f} MiB RSS; {traced_peak / 2**20:.1f} MiB traced during one round")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
