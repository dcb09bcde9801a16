"""Benchmark: sealing the heads of 1 M case chains and verifying them against the seal.

On PostgreSQL (BENCH_DATABASE_URL, default a database of its own, townhall_bench_ledger,
created and seeded once with SQL: --cases cases, each with its opened event and, for 85 %,
a closing event, as the Open311 bench seeds). It then measures, in this process:

- the first seal: every case's head recorded (one INSERT … SELECT), the Merkle root of
  1 M leaves computed and signed (Ed25519, a key in a temporary directory);
- a daily seal after --changed cases got a new event: the previous seal is checked first,
  then only the moved heads are recorded, and the root recomputed;
- verifying the latest seal: every sealed head read back with its event, the root rebuilt
  and compared, the signature checked;
- inclusion proofs of random cases (what /ledger/proofs/<reference>.json computes): p50/p95.

Each line prints seconds, cases/s and the process's peak memory so far (ru_maxrss).
Goal (issue 15): sealing and verifying 1 M cases under 30 s each.

    python bench/ledger.py --help
    python bench/ledger.py --smoke      # a few thousand cases on SQLite, for `make test`
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
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/townhall_bench_ledger"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases to seal (seeded once)")
    parser.add_argument(
        "--changed", type=int, default=10_000, help="cases given a new event before the 2nd seal"
    )
    parser.add_argument("--proofs", type=int, default=200, help="inclusion proofs timed")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a quick run on a temporary SQLite database (3,000 cases), for the test suite",
    )
    return parser.parse_args(argv)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup(url: str, var_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["TOWNHALL_VAR_DIR"] = str(var_dir)
    os.environ["TOWNHALL_LEDGER_KEY_FILE"] = str(var_dir / "bench-seal.key")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "townhall.settings"
    if url.startswith("postgres"):
        from bench.open311 import ensure_database

        ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def seed(cases: int) -> None:
    """Insert `cases` cases with one or two events each, in SQL (once)."""
    from django.db import connection

    from townhall.catalog.models import ServiceType
    from townhall.catalog.services import catalog_import
    from townhall.demo.loader import town_spec

    if not ServiceType.objects.exists():
        catalog_import(spec=town_spec())
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases_case")
        have = cur.fetchone()[0]
    missing = cases - have
    if missing <= 0:
        print(f"seed: {have:,} cases already present", flush=True)
        return
    service, department = ServiceType.objects.values_list("pk", "department_id")[0]
    print(f"seed: inserting {missing:,} cases …", flush=True)
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        batch = 100_000
        for done in range(0, missing, batch):
            n = min(batch, missing - done)
            with connection.cursor() as cur:
                cur.execute(
                    """
                    WITH new AS (
                      INSERT INTO cases_case (service_type_id, description, public_description,
                        public_summary, track_key, answers, address, address_id, media_url,
                        channel, priority, department_id, status, opened_at, updated_at)
                      SELECT %s, '', '', '', '', '{}'::jsonb, '', '', '', 'web', 'normal', %s,
                        CASE WHEN g %% 20 < 3 THEN 'acknowledged' ELSE 'closed' END, now(), now()
                      FROM generate_series(1, %s) AS g
                      RETURNING id, status),
                    opened AS (
                      INSERT INTO cases_caseevent (case_id, seq, kind, at, actor_label, channel,
                        public, data, prev_hash, hash)
                      SELECT id, 1, 'opened', now(), 'seed', 'web', true, '{}'::jsonb,
                        repeat('0', 64), md5(id::text) || md5((id * 7)::text)
                      FROM new RETURNING 1)
                    INSERT INTO cases_caseevent (case_id, seq, kind, at, actor_label, channel,
                      public, data, prev_hash, hash)
                    SELECT id, 2, 'status_changed', now(), 'seed', 'web', true, '{}'::jsonb,
                      md5(id::text) || md5((id * 7)::text), md5((id * 3)::text) || md5(id::text)
                    FROM new WHERE status = 'closed'
                    """,
                    [service, department, n],
                )
        with connection.cursor() as cur:
            cur.execute("ANALYZE cases_case; ANALYZE cases_caseevent")
    else:
        import hashlib

        now = datetime.now(UTC).isoformat()
        with connection.cursor() as cur:
            cur.executemany(
                "INSERT INTO cases_case (service_type_id, description, public_description, "
                "public_summary, track_key, answers, address, address_id, media_url, channel, "
                "priority, department_id, status, opened_at, updated_at) VALUES (%s, '', '', "
                "'', '', '{}', '', '', '', 'web', 'normal', %s, 'closed', %s, %s)",
                [(service, department, now, now)] * missing,
            )
            cur.execute(
                "SELECT id FROM cases_case WHERE id NOT IN (SELECT case_id FROM cases_caseevent)"
            )
            ids = [row[0] for row in cur.fetchall()]
            cur.executemany(
                "INSERT INTO cases_caseevent (case_id, seq, kind, at, actor_label, channel, "
                "public, data, prev_hash, hash) VALUES (%s, 1, 'opened', %s, 'seed', 'web', 1, "
                "'{}', %s, %s)",
                [(i, now, "0" * 64, hashlib.sha256(str(i).encode()).hexdigest()) for i in ids],
            )
    print(f"seed: done in {time.perf_counter() - started:.1f} s", flush=True)


def reset_seals() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("TRUNCATE cases_sealedhead, cases_ledgerseal")
        else:
            cur.execute("DELETE FROM cases_sealedhead")
            cur.execute("DELETE FROM cases_ledgerseal")


def add_events(count: int) -> None:
    """Give `count` random cases one more event (what a day of work does)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT id FROM cases_case ORDER BY random() LIMIT %s", [count])
        ids = [row[0] for row in cur.fetchall()]
        cur.executemany(
            "INSERT INTO cases_caseevent (case_id, seq, kind, at, actor_label, channel, public, "
            "data, prev_hash, hash) SELECT %s, MAX(seq) + 1, 'note', CURRENT_TIMESTAMP, 'bench', "
            "'staff', %s, '{}', MAX(hash), MAX(hash) FROM cases_caseevent WHERE case_id = %s",
            [(i, False, i) for i in ids],
        )


def line(label: str, seconds: float, cases: int) -> None:
    print(
        f"| {label} | {seconds:.2f} s | {cases / seconds:,.0f} cases/s | {peak_mb():.0f} MB |",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    shm = Path("/dev/shm")  # noqa: S108 - a scratch directory in memory where there is one
    scratch = Path(
        tempfile.mkdtemp(prefix="bench-ledger-", dir=shm if args.smoke and shm.is_dir() else None)
    )
    url = args.database_url
    if args.smoke:
        url = f"sqlite:///{scratch / 'bench.sqlite3'}"
        args.cases, args.changed, args.proofs = 3_000, 100, 20
    setup(url, scratch)
    seed(args.cases)
    reset_seals()
    from townhall.cases.models import LedgerSeal
    from townhall.cases.seals import inclusion_proof, seals_check, trusted_public_keys
    from townhall.cases.services import ledger_seal

    print(
        f"ledger bench: {args.cases:,} cases on {url.split('://')[0]}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )
    print("| step | time | throughput | peak RSS |")
    print("| --- | --- | --- | --- |")
    started = time.perf_counter()
    first = ledger_seal()
    line("first seal (every head recorded)", time.perf_counter() - started, first.tree_size)

    add_events(args.changed)
    started = time.perf_counter()
    second = ledger_seal()
    line(
        f"next seal ({args.changed:,} heads moved; checks the previous seal first)",
        time.perf_counter() - started,
        second.tree_size,
    )

    keys, _ = trusted_public_keys()
    started = time.perf_counter()
    checked, problems = seals_check(keys)
    line("verify against the latest seal", time.perf_counter() - started, second.tree_size)
    if problems or checked != 1:
        print(f"FAILED: {problems[:5]}")
        return 1

    latest = LedgerSeal.objects.order_by("-pk").first()
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT id FROM cases_case ORDER BY random() LIMIT %s", [args.proofs])
        sample = [row[0] for row in cur.fetchall()]
    times = []
    for case_id in sample:
        t = time.perf_counter()
        proof = inclusion_proof(case_id, latest)
        times.append((time.perf_counter() - t) * 1000)
        if proof is None:
            print(f"FAILED: no proof for case {case_id}")
            return 1
    times.sort()
    print(
        f"| inclusion proof ({args.proofs} cases) | p50 {statistics.median(times):.1f} ms, "
        f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms | | {peak_mb():.0f} MB |"
    )
    print(f"ok: seals {first.pk} and {second.pk}, root {second.root[:16]}…")
    return 0


def run(argv: list[str] | None = None) -> int:
    """Run, then remove the scratch directories (the key, the smoke database)."""
    import shutil

    before = set(Path(tempfile.gettempdir()).glob("bench-ledger-*")) | set(
        Path("/dev/shm").glob("bench-ledger-*")  # noqa: S108
    )
    try:
        return main(argv)
    finally:
        after = set(Path(tempfile.gettempdir()).glob("bench-ledger-*")) | set(
            Path("/dev/shm").glob("bench-ledger-*")  # noqa: S108
        )
        for path in after - before:
            shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(run())
