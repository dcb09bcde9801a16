"""Benchmark: cases opened per second through the service layer, against a raw INSERT ceiling.

Both are measured in the same run, on the same PostgreSQL connection, over a cases table
that already holds --existing rows (1,000,000 by default; seeding is done once and kept,
so a second run starts at once). Rounds alternate service and raw so that machine noise
hits both alike. Prints throughput, latency percentiles, peak memory and the ratio.

    python bench/case_open.py --help
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/townhall_bench"


def parse_args() -> argparse.Namespace:
    from smoke import add_smoke, apply_smoke  # bench/smoke.py (the script's own folder)

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--existing", type=int, default=1_000_000, help="cases already in the table"
    )
    parser.add_argument(
        "--cases", type=int, default=3000, help="cases to open per side (default 3000)"
    )
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (default 6)")
    add_smoke(parser)
    args = parser.parse_args()
    apply_smoke(args, DEFAULT_URL, existing=300, cases=20, rounds=1)
    return args


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()


def seed(existing: int) -> None:
    """Load the demo catalogue and bulk-insert `existing` cases (with their opening event)."""
    from django.core.management import call_command
    from django.db import connection
    from rich.progress import Progress

    from townhall.catalog.models import ServiceType
    from townhall.catalog.services import catalog_import
    from townhall.demo.loader import town_spec

    call_command("migrate", interactive=False, verbosity=0)
    if not ServiceType.objects.exists():
        catalog_import(spec=town_spec())
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases_case")
        have = cur.fetchone()[0]
    missing = existing - have
    if missing <= 0:
        print(f"seed: {have:,} cases already present")
        return
    service_ids = list(ServiceType.objects.values_list("pk", "department_id"))
    batch = 100_000
    with Progress() as progress:
        bar = progress.add_task(f"seeding {missing:,} cases", total=missing)
        done = 0
        while done < missing:
            n = min(batch, missing - done)
            with connection.cursor() as cur:
                # Spread over service types and the last two years; one OPENED event each.
                cur.execute(
                    """
                    WITH s AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY
                               AS t(service_id, department_id, k)),
                    new AS (
                      INSERT INTO cases_case (service_type_id, description, public_description,
                        public_summary, track_key, answers, lat, long, address, address_id, media_url,
                        channel, priority, department_id, status, opened_at, updated_at)
                      SELECT s.service_id, 'seeded case ' || g, 'seeded case ' || g, '', '',
                        '{}'::jsonb, 42.36 + random() / 50, -71.09 + random() / 50, '', '', '', 'web',
                        'normal', s.department_id, 'closed',
                        now() - random() * interval '730 days', now()
                      FROM generate_series(1, %s) AS g
                      JOIN s ON s.k = 1 + (g %% %s)
                      RETURNING id, opened_at)
                    INSERT INTO cases_caseevent (case_id, seq, kind, at, actor_label, channel, public,
                      data, prev_hash, hash)
                    SELECT id, 1, 'opened', opened_at, 'seed', 'web', true, '{}'::jsonb,
                      repeat('0', 64), md5(id::text) || md5(opened_at::text)
                    FROM new
                    """,
                    [[s for s, _ in service_ids], [d for _, d in service_ids], n, len(service_ids)],
                )
            done += n
            progress.advance(bar, n)
    with connection.cursor() as cur:
        cur.execute("ANALYZE cases_case; ANALYZE cases_caseevent")


def percentiles(samples: list[float]) -> dict[str, float]:
    qs = statistics.quantiles(samples, n=100)
    return {"p50": qs[49] * 1000, "p95": qs[94] * 1000, "p99": qs[98] * 1000}


def main() -> int:
    args = parse_args()
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.db import connection

    from townhall.cases.services import case_open
    from townhall.catalog.models import ServiceType

    seed(args.existing)
    with connection.cursor() as cur:
        # Start with an empty task queue, as a site whose workers keep up would have.
        cur.execute("DELETE FROM django_tasks_database_dbtaskresult")
    service = ServiceType.objects.select_related("department").get(code="pothole")
    from townhall.catalog.selectors import attribute_specs_for

    specs = attribute_specs_for(service_type=service)
    answers = {s.code: s.values[0] for s in specs if s.required and s.values}
    connection.ensure_connection()
    per_round = max(1, args.cases // args.rounds)
    service_lat: list[float] = []
    raw_lat: list[float] = []
    raw_ids: list[int] = []
    for _ in range(20):  # warm caches and prepared plans on both sides alike
        case_open(
            service_type=service,
            channel="web",
            description="warm-up",
            answers=answers,
            lat=42.36,
            long=-71.09,
        )
    for _ in range(args.rounds):
        for i in range(per_round):
            t0 = time.perf_counter()
            case_open(
                service_type=service,
                channel="web",
                description=f"Benchmark pothole {i}",
                answers=answers,
                lat=42.36,
                long=-71.09,
                address="1 Elm Street",
            )
            service_lat.append(time.perf_counter() - t0)
        with connection.cursor() as cur:
            for i in range(per_round):
                t0 = time.perf_counter()
                cur.execute(
                    "INSERT INTO cases_case (service_type_id, description, public_description,"
                    " public_summary, track_key, answers, lat, long, address, address_id, media_url,"
                    " channel, priority, department_id, status, opened_at, updated_at)"
                    " VALUES (%s, %s, '', '', '', %s, %s, %s, %s, '', '', 'web', 'normal', %s, 'new',"
                    " now(), now())"
                    " RETURNING id",
                    [
                        service.pk,
                        f"Raw pothole {i}",
                        '{"a": 1}',
                        42.36,
                        -71.09,
                        "1 Elm Street",
                        service.department_id,
                    ],
                )
                raw_ids.append(cur.fetchone()[0])
                raw_lat.append(time.perf_counter() - t0)
    # Memory is traced in a separate pass: tracing slows Python-heavy code more than SQL.
    tracemalloc.start()
    for _ in range(200):
        case_open(
            service_type=service,
            channel="web",
            description="traced",
            answers=answers,
            lat=42.36,
            long=-71.09,
        )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM cases_case WHERE id = ANY(%s)", [raw_ids])
        cur.execute("SELECT count(*) FROM cases_case")
        total = cur.fetchone()[0]
    service_rate = len(service_lat) / sum(service_lat)
    raw_rate = len(raw_lat) / sum(raw_lat)
    sp, rp = percentiles(service_lat), percentiles(raw_lat)
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.node()} {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {connection.pg_version}"
    )
    print(f"cases table: {total:,} rows; rounds: {args.rounds} x {per_round} per side")
    print(
        f"service case_open: {service_rate:8.1f} cases/s  p50 {sp['p50']:.2f} ms  p95 {sp['p95']:.2f} ms  p99 {sp['p99']:.2f} ms"
    )
    print(
        f"raw INSERT:        {raw_rate:8.1f} rows/s   p50 {rp['p50']:.2f} ms  p95 {rp['p95']:.2f} ms  p99 {rp['p99']:.2f} ms"
    )
    print(f"ratio service/raw: {service_rate / raw_rate:.2f} (goal >= 0.40)")
    print(
        f"peak traced Python memory over 200 traced opens: {peak / 1e6:.2f} MB; "
        f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
