"""Benchmark: the address gazetteer, import and fuzzy search, against references in the same run.

On PostgreSQL: --places synthetic addresses (default 100,000: 400 streets x 250 numbers,
postcodes, coordinates) are written to a CSV and imported with `places_import` (parse,
fold, upsert in batches) into an empty table; the reference is a raw multi-row INSERT of
the same rows, 2,000 per statement, on the same connection. Then `place_search` answers
--queries queries with typing slips and abbreviations (p50/p95/p99, the first call
excluded: it loads the folded addresses), against an exact lookup of the folded address
in SQL. Prints throughput, latency percentiles and peak memory.

    python bench/places.py --help
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/townhall_bench_places"
STREET_WORDS = ["Elm", "Oak", "Maple", "Brook", "Mill", "Cedar", "Birch", "Willow", "Spring", "Grove",
                "Church", "School", "Water", "Union", "Summer", "Winter", "Quarry", "Depot", "Linden", "Ash"]  # fmt: skip
KINDS = ["Street", "Road", "Avenue", "Lane", "Drive", "Court", "Terrace", "Place",
         "Way", "Close", "Gardens", "Crescent", "Hill", "Row", "Square", "Walk", "Park", "View",
         "Rise", "Green"]  # fmt: skip
SHORT = {"Street": "St", "Road": "Rd", "Avenue": "Ave", "Lane": "Ln", "Drive": "Dr"}


def parse_args() -> argparse.Namespace:
    from smoke import add_smoke, apply_smoke  # bench/smoke.py (the script's own folder)

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_PLACES_URL", DEFAULT_URL))
    parser.add_argument("--places", type=int, default=100_000, help="addresses (default 100,000)")
    parser.add_argument("--queries", type=int, default=300, help="searches (default 300)")
    add_smoke(parser)
    args = parser.parse_args()
    apply_smoke(args, DEFAULT_URL, places=500, queries=10)
    return args


def percentiles(samples: list[float]) -> str:
    qs = statistics.quantiles(samples, n=100)
    return f"p50 {qs[49] * 1000:.2f} ms  p95 {qs[94] * 1000:.2f} ms  p99 {qs[98] * 1000:.2f} ms"


def streets(n: int) -> list[str]:
    names = [f"{w} {k}" for k in KINDS for w in STREET_WORDS]
    return names[:n]


def main() -> int:
    args = parse_args()
    import psycopg

    name = args.database_url.rsplit("/", 1)[1]
    with psycopg.connect(args.database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            c.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from townhall.places.models import Place
    from townhall.places.selectors import place_search, places_cache_clear
    from townhall.places.services import columns_for, places_import
    from townhall.places.text import address_fold

    call_command("migrate", interactive=False, verbosity=0)
    numbers = 250
    street_names = streets(max(1, args.places // numbers))
    rng = random.Random(7)
    rows = [
        {
            "uprn": f"{i * numbers + n:09d}",
            "address": f"{n} {street}, Millbrook",
            "postcode": f"MB{i % 9 + 1} {n % 9}{chr(65 + i % 26)}{chr(65 + n % 26)}",
            "lat": f"{42.33 + rng.random() / 20:.6f}",
            "long": f"{-71.12 + rng.random() / 20:.6f}",
        }
        for i, street in enumerate(street_names)
        for n in range(1, numbers + 1)
    ][: args.places]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "places.csv"
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        Place.objects.all().delete()
        started = time.perf_counter()
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            report = places_import(reader, columns=columns_for(reader.fieldnames or []))
        ours = time.perf_counter() - started
    assert report.created == len(rows), report
    # Reference: the very same rows, already parsed and folded, by raw multi-row INSERTs.
    values = [
        (f"raw{r['uprn']}", r["address"], r["postcode"].upper(), float(r["lat"]),
         float(r["long"]), address_fold(r["address"]))
        for r in rows
    ]  # fmt: skip
    started = time.perf_counter()
    with connection.cursor() as cur:
        for start in range(0, len(values), 2000):
            chunk = values[start : start + 2000]
            marks = ", ".join(["(%s, %s, %s, %s, %s, %s, now())"] * len(chunk))
            cur.execute(
                "INSERT INTO places_place (property_id, address, postcode, lat, long, "
                f"search_text, updated_at) VALUES {marks}",
                [v for row in chunk for v in row],
            )
    raw = time.perf_counter() - started
    Place.objects.filter(property_id__startswith="raw").delete()
    with connection.cursor() as cur:
        cur.execute("ANALYZE places_place")

    slips = [
        lambda a: a.replace("Street", "Stret"),
        lambda a: a.replace("Street", "St").replace("Road", "Rd").replace("Avenue", "Ave"),
        lambda a: a.lower().replace(",", ""),
        lambda a: a.split(",")[0],
    ]
    wanted = [rng.choice(rows) for _ in range(args.queries)]
    queries = [(rng.choice(slips)(row["address"]), row["uprn"]) for row in wanted]
    places_cache_clear()
    started = time.perf_counter()
    place_search(queries[0][0])
    first = time.perf_counter() - started
    fuzzy, exact, hits = [], [], 0
    for query, uprn in queries:
        t0 = time.perf_counter()
        found = place_search(query)
        fuzzy.append(time.perf_counter() - t0)
        hits += bool(found) and found[0].place.property_id == uprn
        t0 = time.perf_counter()
        list(Place.objects.filter(search_text=address_fold(query))[:5])
        exact.append(time.perf_counter() - t0)
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.node()} "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"PostgreSQL {connection.pg_version}"
    )
    print(f"import {len(rows):,} places: {len(rows) / ours:,.0f} rows/s ({ours:.2f} s)")
    print(f"raw multi-row INSERT, same rows: {len(rows) / raw:,.0f} rows/s ({raw:.2f} s)")
    print(f"ratio import/raw: {raw / ours:.2f}")
    print(f"first search (loads the folded addresses): {first * 1000:.0f} ms")
    print(
        f"fuzzy search, {len(queries)} queries: {percentiles(fuzzy)}; top hit is the address meant: {hits}/{len(queries)}"
    )
    print(f"exact SQL lookup of the folded text (reference): {percentiles(exact)}")
    print(f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
