"""Benchmark: forwarding cases to another body's Open311 server, and following them.

The remote is a second Townhall (tests/forwarding/remote_townhall.py: gunicorn, `--workers`
processes, its own database, the county's catalogue and a key for us), on loopback. Ours
runs in this process, with a Body pointing at it, a routing rule for one service inside
the body's boundary and a service mapping (code and answers renamed). Measured in one run:

a. reference: the remote's raw POST requests.json rate, with the forwarder's own client
   (`client_for(body)`: the pooled HTTP transport) and concurrency (one POST at a time,
   as `forwards_send_due` sends), the same mapped fields; before and after (b), the better
   round kept;
b. forwarding --cases cases (10,000): each opened here through `case_open` (the routing
   subscriber makes its PENDING forward), then `forwards_send_due()` until none is
   pending: cases/s, the ratio to (a), per-send HTTP p50/p95 (the SEND syncs' timings),
   and the process's peak memory (ru_maxrss) before and after the sweep;
c. status sync per --sync-cases open forwarded cases (1,000): one `forwards_poll_due`
   round over exactly that many sent forwards (the others marked read) — first read
   (every status new to us: applied through the case lifecycle) and a steady round
   (nothing changed) — seconds and queries; and the latency of one GET requests.json of
   50 ids (the poll's batch) with the same client.

PostgreSQL by default: ours in --database-url, the remote in --remote-database-url, both
made fresh each run. --sqlite (and --smoke, unless a database is given) uses SQLite files
in a temporary folder for both.

    python bench/forwarding.py --help
    python bench/forwarding.py --smoke      # 50 cases on SQLite: it runs
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/townhall_bench_forwarding"

BOUNDARY = {
    "type": "Polygon",
    "coordinates": [
        [[-71.20, 42.30], [-71.00, 42.30], [-71.00, 42.45], [-71.20, 42.45], [-71.20, 42.30]]
    ],
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help="our PostgreSQL database, made fresh (default: BENCH_DATABASE_URL or "
        "townhall_bench_forwarding)",
    )
    parser.add_argument(
        "--remote-database-url",
        default="",
        help="the remote Townhall's PostgreSQL database, made fresh (default: ours + _remote)",
    )
    parser.add_argument("--sqlite", action="store_true", help="SQLite files for both sides")
    parser.add_argument("--cases", type=int, default=10_000, help="cases forwarded (10,000)")
    parser.add_argument(
        "--sync-cases", type=int, default=1_000, help="open forwarded cases polled (1,000)"
    )
    parser.add_argument(
        "--raw", type=int, default=1_000, help="raw POSTs per reference round (1,000)"
    )
    parser.add_argument(
        "--gets", type=int, default=50, help="GET requests.json of 50 ids timed (50)"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="the remote's gunicorn workers (default 2)"
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", ""),
        help="the remote's Redis (cache, rate limits); empty: process memory",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="50 cases, SQLite unless a database is given: checks the bench still runs",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.cases, args.sync_cases, args.raw, args.gets = 50, 20, 30, 5
        args.workers = 1
        if args.database_url == DEFAULT_URL:
            args.sqlite = True
    args.sync_cases = min(args.sync_cases, args.cases)
    if not args.remote_database_url and not args.sqlite:
        args.remote_database_url = args.database_url + "_remote"
    return args


def setup_env(args: argparse.Namespace, var: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "townhall.settings"
    os.environ["TOWNHALL_VAR_DIR"] = str(var)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DEBUG"] = "false"  # DEBUG keeps every query in memory
    os.environ.pop("REDIS_URL", None)
    if args.sqlite:
        os.environ.pop("DATABASE_URL", None)
    else:
        from tests.forwarding.remote_townhall import fresh_postgres_database

        fresh_postgres_database(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url


def setup_django() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def our_side(remote: Any) -> tuple[Any, Any]:
    """Our catalogue (the demo town's), and a Body for the remote with its rule and mapping;
    return the body and the service forwarded."""
    from townhall.catalog.models import ServiceType
    from townhall.catalog.services import catalog_import
    from townhall.demo.loader import town_spec
    from townhall.forwarding.models import Body, BodyKind, RoutingRule, ServiceMapping
    from townhall.forwarding.routing import routing_cache_clear

    catalog_import(spec=town_spec())
    service = ServiceType.objects.get(code="pothole")
    body = Body.objects.create(
        name="Middlesex County",
        slug="county",
        kind=BodyKind.OPEN311,
        boundary=BOUNDARY,
        endpoint=remote.open311_url,
        jurisdiction_id=remote.jurisdiction_id,
        api_key=remote.api_key,
        poll_seconds=900,
    )
    rule = RoutingRule.objects.create(body=body)
    rule.service_types.add(service)
    ServiceMapping.objects.create(
        body=body,
        service_type=service,
        remote_code="road_defect",
        attributes={
            "size": {
                "code": "severity",
                "values": {"small": "minor", "medium": "minor", "large": "major"},
            }
        },
    )
    routing_cache_clear()
    return body, service


def answers_for(service: Any) -> dict[str, Any]:
    from townhall.catalog.selectors import attribute_specs_for

    return {
        s.code: s.values[0]
        for s in attribute_specs_for(service_type=service)
        if s.required and s.values
    }


def raw_fields(i: int) -> dict[str, str]:
    """What a forward of case `i` posts (the mapped code, place, text, the county's answer)."""
    return {
        "service_code": "road_defect",
        "lat": repr(42.33 + (i % 97) / 1000),
        "long": repr(-71.12 + (i % 89) / 1000),
        "description": f"Pothole number {i} outside the school",
        "attribute[severity]": "minor",
    }


def raw_round(body: Any, count: int) -> float:
    """POST `count` requests straight to the remote with the forwarder's client; return /s."""
    from townhall.forwarding.sending import client_for

    client = client_for(body)
    client.post_request(raw_fields(0))  # the connection, as the sweep's first send has it
    started = time.perf_counter()
    for i in range(count):
        client.post_request(raw_fields(i))
    return count / (time.perf_counter() - started)


def open_cases(service: Any, count: int) -> float:
    """Open `count` cases inside the boundary; return the seconds taken."""
    # Every place below is inside BOUNDARY: lat 42.330-42.426, long -71.120 to -71.032.
    from townhall.cases.services import case_open

    answers = answers_for(service)
    started = time.perf_counter()
    for i in range(count):
        case_open(
            service_type=service,
            channel="web",
            description=f"Pothole number {i} outside the school",
            answers=answers,
            lat=42.33 + (i % 97) / 1000,
            long=-71.12 + (i % 89) / 1000,
        )
    return time.perf_counter() - started


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def send_all() -> tuple[float, int, list[int]]:
    """forwards_send_due() until none is pending; return seconds, sent, and the HTTP time
    of each send (ms)."""
    from townhall.forwarding.models import Forward, ForwardState, ForwardSync, SyncKind
    from townhall.forwarding.sending import forwards_send_due

    started = time.perf_counter()
    sent = 0
    while True:
        done = forwards_send_due()
        sent += done
        if not done:
            break
    seconds = time.perf_counter() - started
    left = Forward.objects.exclude(state=ForwardState.SENT)
    if left.exists():
        errors = sorted(set(left.values_list("last_error", flat=True)))[:5]
        raise SystemExit(f"{left.count()} forwards not sent after the sweep: {errors}")
    timings = list(
        ForwardSync.objects.filter(kind=SyncKind.SEND, ok=True).values_list("elapsed_ms", flat=True)
    )
    return seconds, sent, [t for t in timings if t is not None]


def poll_round(limit: int, now: datetime) -> tuple[float, int, int]:
    """One forwards_poll_due round; return seconds, queries, changes applied."""
    from django.db import connection

    from townhall.forwarding.syncing import forwards_poll

    queries = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):  # no cap, unlike the debug query log
        started = time.perf_counter()
        done = forwards_poll(limit=limit, now=now)  # what forwards_poll_due runs
        seconds = time.perf_counter() - started
    if done.read != limit or done.failed_bodies:
        raise SystemExit(f"the poll read {done.read} of {limit} forwards: {done}")
    return seconds, queries, done.applied


def sync_rounds(body: Any, count: int) -> dict[str, tuple[float, int, int]]:
    """Poll exactly `count` sent forwards: the others are marked read far ahead."""
    from townhall.forwarding.models import Forward, ForwardState

    sent = Forward.objects.filter(body=body, state=ForwardState.SENT).order_by("pk")
    keep = list(sent.values_list("pk", flat=True)[:count])
    now = datetime.now(UTC)
    sent.exclude(pk__in=keep).update(last_synced_at=now + timedelta(days=365))
    Forward.objects.filter(pk__in=keep).update(last_synced_at=None)
    first = poll_round(count, now)
    steady = poll_round(count, now + timedelta(seconds=body.poll_seconds + 60))
    return {"first read (statuses applied)": first, "steady (nothing changed)": steady}


def get_latencies(body: Any, count: int) -> list[float]:
    from townhall.forwarding.models import Forward
    from townhall.forwarding.sending import client_for

    ids = list(Forward.objects.exclude(remote_id="").values_list("remote_id", flat=True)[:50])
    client = client_for(body)
    client.get_requests(ids)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        records = client.get_requests(ids)
        times.append((time.perf_counter() - started) * 1000)
        assert len(records) == len(ids), (len(records), len(ids))
    return times


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from tests.forwarding.remote_townhall import RemoteTownhall

    with tempfile.TemporaryDirectory(prefix="bench-forwarding-") as tmp:
        base = Path(tmp)
        (base / "ours").mkdir()
        setup_env(args, base / "ours")
        remote = RemoteTownhall(
            base=base / "remote",
            database_url="" if args.sqlite else args.remote_database_url,
            workers=args.workers,
            redis_url=args.redis_url,
        )
        # The remote migrates and starts in its own processes while ours migrates here.
        failed: list[BaseException] = []
        thread = threading.Thread(target=lambda: _enter(remote, failed), daemon=True)
        thread.start()
        try:
            try:
                setup_django()
            finally:
                thread.join()
            if failed:
                raise failed[0]
            from django.db import connection

            body, service = our_side(remote)
            vendor = connection.vendor + (
                f" {connection.pg_version}" if connection.vendor == "postgresql" else ""
            )
            print(
                f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.node()} "
                f"{platform.machine()}, {os.cpu_count()} cores, Python "
                f"{platform.python_version()}, {vendor}; remote: gunicorn {args.workers} "
                f"workers on loopback"
            )
            raw_before = raw_round(body, args.raw)
            opened = open_cases(service, args.cases)
            print(
                f"opened {args.cases:,} cases here in {opened:.1f} s "
                f"({args.cases / opened:,.0f} cases/s, each with its PENDING forward)"
            )
            rss_before = max_rss_mb()
            seconds, sent, http_ms = send_all()
            rss_after = max_rss_mb()
            raw_after = raw_round(body, args.raw)
            raw = max(raw_before, raw_after)
            rate = sent / seconds
            print("forwarding (one POST at a time, as forwards_send_due sends)")
            print(
                f"  reference: raw POST requests.json, same client   {raw:8.1f} req/s "
                f"(rounds {raw_before:.1f} and {raw_after:.1f}, {args.raw} POSTs each)"
            )
            print(
                f"  forwards_send_due, {sent:,} cases                  {rate:8.1f} cases/s "
                f"in {seconds:.1f} s; {1000 * seconds / max(sent, 1):.2f} ms a case"
            )
            print(
                f"  per send, HTTP: p50 {statistics.median(http_ms):.1f} ms, "
                f"p95 {pct(http_ms, 0.95):.1f} ms"
            )
            print(f"  ratio forwarding/raw POST: {rate / raw:.2f}")
            print(
                f"  process peak RSS: {rss_before:.0f} MB before the sweep, "
                f"{rss_after:.0f} MB after it"
            )
            print(
                f"status sync: one forwards_poll_due round over {args.sync_cases:,} open "
                "forwarded cases"
            )
            for label, (secs, queries, applied) in sync_rounds(body, args.sync_cases).items():
                per = 1000 / args.sync_cases
                print(
                    f"  {label:<32} {secs:7.2f} s, {queries:6d} queries, {applied:5d} applied"
                    f"  (per 1,000: {secs * per:.2f} s, {queries * per:.0f} queries)"
                )
            gets = get_latencies(body, args.gets)
            print(
                f"  per GET requests.json of 50 ids: p50 {statistics.median(gets):.1f} ms, "
                f"p95 {pct(gets, 0.95):.1f} ms ({len(gets)} GETs)"
            )
            print(f"remote worker peak RSS: {remote.worker_peak_mb():.0f} MB")
            print(f"bench process max RSS: {max_rss_mb():.0f} MB")
            print(f"remote cases: {remote.case_count():,}")
        finally:
            remote.close()
    return 0


def _enter(remote: Any, failed: list[BaseException]) -> None:
    try:
        remote.__enter__()
    except BaseException as exc:  # raised again in the main thread
        failed.append(exc)


if __name__ == "__main__":
    sys.exit(main())
