"""Benchmark: the KPI dashboard's queries over 10 M facts, and the roll-up refresh cost.

On PostgreSQL (default database `townhall_bench_insights`, created if missing):

1. generates `--facts` facts (default 10,000,000) with one `generate_series` INSERT per
   million (source "imported", system "bench"; kept for the next run; last changed a
   day ago, so the incremental refresh below sees only what it changes), spread over
   `--days` days, the demo catalogue's services and departments, 9 channels, 40 areas;
2. rebuilds every roll-up (`rollups_refresh(full=True)`): the full refresh cost;
3. times what a dashboard asks, `--requests` times each with varying filters:
   `kpis_compute` for 30 days, 365 days, 30 days of one department, 90 days of one
   service on the web; `kpi_breakdown` by service (30 days), by month (365 days), by area
   (90 days of one department); and a three-dimension filter, which reads the facts;
   reports p50 / p95 server time (in process, no HTTP);
4. touches 200 facts of one day and times the incremental refresh (that one day);
5. prints the machine, PostgreSQL's version, peak memory of this process.

Goal (issue 18): dashboard server time p95 < 300 ms with 10 M cases.

    python bench/insights_dashboard.py --help
    python bench/insights_dashboard.py --smoke     # 2,000 facts in <db>_smoke, seconds

`main(argv)` runs it from another script (bench/insights.py); if Django is already set
up there, its database is used and `--database-url` is ignored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from bench.smoke import smoke_url  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/townhall_bench_insights"
CHUNK = 1_000_000
CHANNELS = ["web", "web", "assistant", "email", "sms", "phone", "phone", "counter", "open311"]
AREAS = 40


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--facts", type=int, default=10_000_000, help="facts to generate")
    parser.add_argument("--days", type=int, default=1095, help="days they are spread over")
    parser.add_argument("--requests", type=int, default=30, help="timed calls per query")
    parser.add_argument(
        "--smoke", action="store_true", help="a tiny run in a database of its own, in seconds"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.facts, args.days, args.requests = 2_000, 60, 3
        if args.database_url == DEFAULT_URL:
            args.database_url = smoke_url(DEFAULT_URL)
    return args


def setup(args: argparse.Namespace) -> bool:
    """Point Django at the bench database (unless a caller set it up); migrate; catalogue.
    Return whether this script chose the database."""
    from django.conf import settings

    own = not settings.configured
    if own:
        os.environ["DATABASE_URL"] = args.database_url
        os.environ["REDIS_URL"] = args.redis_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        from bench.open311 import ensure_database

        ensure_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command

    from townhall.catalog.models import ServiceType
    from townhall.catalog.services import catalog_import
    from townhall.demo.loader import town_spec

    call_command("migrate", interactive=False, verbosity=0)
    if not ServiceType.objects.exists():
        catalog_import(spec=town_spec())
    return own


def generate(total: int, days: int) -> float:
    """Add bench facts until there are `total`; return the seconds it took (0 if none)."""
    from django.db import connection
    from rich.progress import Progress

    from townhall.catalog.models import ServiceType

    services = list(ServiceType.objects.order_by("pk").values_list("pk", "department_id"))
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM insights_casefact WHERE system = 'bench'")
        have = cur.fetchone()[0]
    if have >= total:
        print(f"facts: {have:,} bench facts already present")
        return 0.0
    service_ids = "(ARRAY[" + ",".join(str(s) for s, _ in services) + "]::bigint[])"
    department_ids = "(ARRAY[" + ",".join(str(d) for _, d in services) + "]::bigint[])"
    channels = "(ARRAY[" + ",".join(f"'{c}'" for c in CHANNELS) + "])"
    n, c = len(services), len(CHANNELS)
    # Durations: acknowledged after ~8 h, resolved after ~3 days (exponential); 4 % still
    # open, more among recent ones; due 4 days after opening; a few reopened, transferred.
    sql = f"""
        INSERT INTO insights_casefact (source, system, external_id, service_type_id,
            service_name, department_id, department_name, channel, area, status, personal,
            opened_at, acknowledged_at, resolved_at, closed_at, due_at, reopen_count,
            transfer_count, contact_count, staff_minutes, csat, nps, updated_at)
        SELECT 'imported', 'bench', g::text, {service_ids}[1 + g %% {n}], '',
            {department_ids}[1 + g %% {n}], '', {channels}[1 + (g / 7) %% {c}],
            'A' || lpad(((g * 31) %% {AREAS})::text, 2, '0'),
            CASE WHEN is_open THEN 'in_progress' ELSE 'closed' END, false,
            opened, opened + ack_h * interval '1 hour',
            CASE WHEN is_open THEN NULL ELSE opened + res_h * interval '1 hour' END,
            CASE WHEN is_open THEN NULL ELSE opened + res_h * interval '1 hour' END,
            opened + interval '96 hours', (r3 < 0.05)::int, (r3 > 0.92)::int,
            1 + (r2 < 0.1)::int, (r2 * 120)::int,
            CASE WHEN r4 < 0.15 THEN 1 + floor(r4 / 0.03)::int END,
            CASE WHEN r4 > 0.9 THEN floor((r4 - 0.9) * 109.9)::int END,
            now() - interval '1 day'
        FROM (
            SELECT g, now() - random() * {days} * interval '1 day' AS opened,
                -ln(1 - random()) * 8 AS ack_h, -ln(1 - random()) * 72 AS res_h,
                random() < 0.04 AS is_open, random() AS r2, random() AS r3, random() AS r4
            FROM generate_series(%s, %s) g
        ) s
    """
    started = time.perf_counter()
    with Progress() as bar:
        task = bar.add_task("facts", total=total - have)
        start = have + 1
        while start <= total:
            end = min(total, start + CHUNK - 1)
            with connection.cursor() as cur:
                cur.execute(sql, [start, end])
            bar.update(task, advance=end - start + 1)
            start = end + 1
    with connection.cursor() as cur:
        cur.execute("ANALYZE insights_casefact")
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], times: int) -> list[float]:
    out = []
    for _ in range(times):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)]


def dashboard(requests: int) -> dict[str, list[float]]:
    from townhall.catalog.models import Department, ServiceType
    from townhall.insights.kpis import KpiFilters, kpi_breakdown, kpis_compute, today

    end = today()
    departments = list(Department.objects.values_list("pk", flat=True))
    services = list(ServiceType.objects.values_list("pk", flat=True))

    def days(n: int, **kw: Any) -> KpiFilters:
        return KpiFilters(date_from=end - dt.timedelta(days=n - 1), date_to=end, **kw)

    i = {"n": 0}

    def nxt(items: list[int]) -> int:
        i["n"] += 1
        return items[i["n"] % len(items)]

    queries: dict[str, Callable[[], Any]] = {
        "kpis 30 days": lambda: kpis_compute(days(30)),
        "kpis 365 days": lambda: kpis_compute(days(365)),
        "kpis 30 days, one department": lambda: kpis_compute(
            days(30, department_id=nxt(departments))
        ),
        "kpis 90 days, one service, web": lambda: kpis_compute(
            days(90, service_type_id=nxt(services), channel="web")
        ),
        "breakdown by service, 30 days": lambda: kpi_breakdown(days(30), "service"),
        "breakdown by month, 365 days": lambda: kpi_breakdown(days(365), "month"),
        "breakdown by area, 90 days, one department": lambda: kpi_breakdown(
            days(90, department_id=nxt(departments)), "area"
        ),
        # Three dimensions: not rolled up, read from the facts (exact percentiles).
        "kpis 90 days, department+channel+area (facts)": lambda: kpis_compute(
            days(90, department_id=nxt(departments), channel="web", area="A07")
        ),
    }
    for fn in queries.values():  # warm the caches once
        fn()
    return {name: timed(fn, requests) for name, fn in queries.items()}


def incremental_one_day() -> tuple[float, int]:
    """Change 200 facts opened on one day a month ago; time the refresh that follows."""
    from django.db import connection
    from django.utils import timezone

    from townhall.insights.kpis import local_midnight, today
    from townhall.insights.rollups import rollups_refresh

    day = today() - dt.timedelta(days=30)
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE insights_casefact SET staff_minutes = staff_minutes + 1, updated_at = %s "
            "WHERE id IN (SELECT id FROM insights_casefact WHERE opened_at >= %s "
            "AND opened_at < %s LIMIT 200)",
            [timezone.now(), local_midnight(day), local_midnight(day + dt.timedelta(days=1))],
        )
    started = time.perf_counter()
    rebuilt = rollups_refresh()
    return time.perf_counter() - started, rebuilt


def machine() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]
    return (
        f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, PostgreSQL {version}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup(args)
    from django.db import connection

    from townhall.insights.models import CaseFact, DailyRollup
    from townhall.insights.rollups import rollups_refresh

    if connection.vendor != "postgresql":
        print("insights_dashboard needs PostgreSQL (generate_series)", file=sys.stderr)
        return 2
    print(f"machine: {machine()}")
    seconds = generate(args.facts, args.days)
    if seconds:
        print(f"generate: {args.facts:,} facts in {seconds:.1f} s")
    started = time.perf_counter()
    rollups_refresh(full=True)
    full = time.perf_counter() - started
    facts, rows = CaseFact.objects.count(), DailyRollup.objects.count()
    print(f"refresh (full): {facts:,} facts -> {rows:,} roll-up rows in {full:.1f} s")
    with connection.cursor() as cur:
        cur.execute("ANALYZE insights_dailyrollup")
    took, rebuilt = incremental_one_day()
    print(f"refresh (incremental, 200 facts of one day changed): {rebuilt} day(s) in {took:.2f} s")
    results = dashboard(args.requests)
    every: list[float] = []
    print(f"dashboard server time, {args.requests} calls each (ms):")
    for name, values in results.items():
        every += values
        print(f"  {name:<48} p50 {statistics.median(values):7.1f}  p95 {p95(values):7.1f}")
    print(f"  {'all queries':<48} p50 {statistics.median(every):7.1f}  p95 {p95(every):7.1f}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.smoke:
        print("smoke: ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
