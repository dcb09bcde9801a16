"""Benchmark: `townhall import cases --format boston` rows/s against a raw COPY of the file.

A Boston-format file of --rows rows (1,000,000 by default) is built once by repeating the
real 2015 cases (/work/shared/data/311_boston_2015_cases) with new ids, and kept in
--workdir. Then, on PostgreSQL, in the same run:

  raw COPY   `COPY ... FROM STDIN (FORMAT csv, HEADER)` of the file's bytes into a plain
             table of text columns (no index, no parsing of dates): the ceiling
  townhall   the whole import (hash, header check, parse, UTC, dedupe against what is
             already there, COPY into CaseFact with its indexes, a checkpoint per chunk)

The raw COPY runs before and after the import (machine noise shows as their spread); the
ratio is Townhall's rows/s over the mean of the two. Prints peak memory (max RSS), the
machine and the date. Then runs bench/insights_dashboard.py (the KPI figures) if present,
with --database-url, --smoke and any arguments this script does not know.

    python bench/insights.py --help
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/townhall_bench_insights"
SOURCE = Path("/work/shared/data/311_boston_2015_cases/boston_311_2015_cases.csv")
ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> tuple[argparse.Namespace, list[str]]:
    from smoke import add_smoke, apply_smoke  # bench/smoke.py (the script's own folder)

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the file (1,000,000)")
    parser.add_argument("--source", type=Path, default=SOURCE, help="the real Boston export")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "townhall_bench_insights"
    )
    parser.add_argument("--chunk", type=int, default=10_000, help="rows per commit (10,000)")
    add_smoke(parser)
    args, rest = parser.parse_known_args()
    apply_smoke(args, DEFAULT_URL, rows=3000)
    if args.smoke and args.database_url != DEFAULT_URL and not args.database_url.endswith("_smoke"):
        args.database_url += "_smoke"
    return args, rest


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
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def build_file(source: Path, rows: int, workdir: Path) -> Path:
    """The real rows over and over, each copy with new ids (a prefix per pass)."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"boston_{rows}.csv"
    if path.exists():
        return path
    with source.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        body = list(reader)
    tmp = path.with_suffix(".part")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        written, copy = 0, 0
        while written < rows:
            for row in body[: rows - written]:
                w.writerow([f"{copy:03d}{row[0]}", *row[1:]])
            written += min(len(body), rows - written)
            copy += 1
    tmp.rename(path)
    return path


def backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same host), or NaN."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Clock:
    """Wall seconds, and CPU seconds of this process and of its PostgreSQL backend."""

    def __enter__(self) -> Clock:
        self.wall, self.py, self.pg = time.perf_counter(), own_cpu(), backend_cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.py = own_cpu() - self.py
        self.pg = backend_cpu() - self.pg

    def line(self, label: str, rows: int) -> str:
        return (
            f"{label:<15}{rows / self.wall:>10,.0f} rows/s  ({self.wall:.2f} s wall; CPU "
            f"{self.py:.2f} s Python + {self.pg:.2f} s PostgreSQL = "
            f"{rows / (self.py + self.pg):,.0f} rows per CPU second)"
        )


def raw_copy(path: Path) -> Clock:
    """COPY the file's bytes into a plain text table (dropped afterwards)."""
    from django.db import connection

    with path.open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    cols = ", ".join(f'"{h.lower()}" text' for h in header)
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_raw_boston")
        cur.execute(f"CREATE TABLE bench_raw_boston ({cols})")
    sql = "COPY bench_raw_boston FROM STDIN (FORMAT csv, HEADER)"
    with (
        Clock() as clock,
        connection.cursor() as cur,
        path.open("rb") as f,
        cur.cursor.copy(sql) as copy,
    ):
        while block := f.read(1 << 20):
            copy.write(block)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM bench_raw_boston")
        n = cur.fetchone()[0]
        cur.execute("DROP TABLE bench_raw_boston")
    assert n, "the raw COPY loaded nothing"
    return clock


def townhall_import(path: Path, chunk: int) -> tuple[Clock, int]:
    from townhall.insights.importing.loader import import_cases
    from townhall.insights.models import CaseFact, ImportRun

    CaseFact.objects.filter(source="imported", system="boston").delete()
    ImportRun.objects.filter(format="boston").delete()
    with Clock() as clock:
        out = import_cases(path, "boston", chunk_size=chunk)
    assert out.finished, "the import did not finish"
    return clock, out.loaded


def main() -> int:
    args, rest = parse_args()
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.db import connection

    path = build_file(args.source, args.rows, args.workdir)
    rows = args.rows
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    print(f"file: {path} ({rows:,} rows, {path.stat().st_size / 1e6:.0f} MB)")
    raw1 = raw_copy(path)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ours, loaded = townhall_import(path, args.chunk)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    raw2 = raw_copy(path)
    print(raw1.line("raw COPY", rows))
    print(raw2.line("raw COPY again", rows))
    print(ours.line("townhall", rows) + f", {loaded:,} loaded")
    raw_wall = rows / ((raw1.wall + raw2.wall) / 2)
    raw_cpu = rows / ((raw1.py + raw1.pg + raw2.py + raw2.pg) / 2)
    print(
        f"ratio          {rows / ours.wall / raw_wall:.2f} x the raw COPY's rows/s (goal >= 0.5); "
        f"per CPU second {rows / (ours.py + ours.pg) / raw_cpu:.2f} x"
    )
    print(
        f"peak memory    {rss_after / 1024:.0f} MB max RSS "
        f"({rss_before / 1024:.0f} MB before the import)"
    )
    print(
        f"machine        {platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}; Python {platform.python_version()}; PostgreSQL {pg}"
    )
    print(f"date           {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    if importlib.util.find_spec("bench.insights_dashboard") is not None:
        from bench import insights_dashboard

        argv = ["--database-url", args.database_url, *(["--smoke"] if args.smoke else []), *rest]
        return int(insights_dashboard.main(argv) or 0)
    if rest:
        print(f"unknown arguments: {' '.join(rest)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
